"""dmlctl as a user installs it: the wheel in a fresh venv outside the checkout, run from another
directory against the session's deployed lab."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _run(argv: list, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, check=False, **kwargs
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """A fresh venv with the wheel built from this checkout, control plane only; the wheel."""
    tmp = tmp_path_factory.mktemp("installed")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    built = _run([*pip_wheel, "-w", tmp / "dist", ROOT])
    assert built.returncode == 0, built.stderr[-3000:]
    venv = tmp / "venv"
    made = _run([sys.executable, "-m", "venv", venv])
    assert made.returncode == 0, made.stderr
    wheel = next((tmp / "dist").glob("dmlctl-*.whl"))
    # The versions make setup installs (the lock), from pip's cache when it has them.
    installed = _run(
        [venv / "bin/pip", "install", "-q", wheel, "-c", ROOT / "requirements.lock"], timeout=900
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv, wheel


def _installed_dmlctl(venv: Path, cluster, cwd: Path, *args: str):
    env = {
        **os.environ,
        "DMLCTL_STATE_DIR": str(cluster.state_dir),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    return _run([venv / "bin/dmlctl", *args], cwd=cwd, env=env, timeout=1800)


def test_the_installed_tool_deploys_and_submits(installed, cluster, tmp_path):
    venv, wheel = installed
    assert cluster.deploy.returncode == 0, cluster.deploy.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assets = _run(
        [venv / "bin/python", "-c", "from dmlctl import paths; print(paths.ASSETS_DIR)"],
        cwd=elsewhere,  # python -c imports from the current directory first
    )
    assert Path(assets.stdout.strip()).is_relative_to(venv), assets.stdout + assets.stderr
    inventory = ["-i", str(cluster.inventory)]

    # The control plane alone cannot submit: it says which extra to install.
    refused = _installed_dmlctl(venv, cluster, elsewhere, "submit", "h2o-rf", *inventory)
    assert refused.returncode == 2
    assert "pip install 'dmlctl[jobs]'" in refused.stderr

    # A lab deploys from bundles built from the pinned pyspark and h2o: the [jobs] extra.
    extra = _run(
        [venv / "bin/pip", "install", "-q", f"{wheel}[jobs]", "-c", ROOT / "requirements.lock"],
        timeout=900,
    )
    assert extra.returncode == 0, extra.stderr[-3000:]
    # The lab is deployed already: a second deploy (the installed tool's playbooks and settings)
    # changes nothing on any host.
    deploy = _installed_dmlctl(venv, cluster, elsewhere, "deploy", "--json", *inventory)
    assert deploy.returncode == 0, deploy.stdout[-3000:] + deploy.stderr[-3000:]
    recap = json.loads(deploy.stdout)
    assert recap["ok"] is True
    assert {host: counts["changed"] for host, counts in recap["hosts"].items()} == {
        "node1": 0, "node2": 0, "node3": 0,
    }  # fmt: skip

    submitted = _installed_dmlctl(venv, cluster, elsewhere, "submit", "h2o-rf", *inventory)
    assert submitted.returncode == 0, submitted.stdout[-3000:] + submitted.stderr[-3000:]
    runs = list((elsewhere / "runs").glob("h2o-rf-*"))
    assert len(runs) == 1, runs
    result = json.loads((runs[0] / "result.json").read_text())
    assert result["train_rows"] + result["test_rows"] == 150
    assert result["cluster"]["cloud_size"] == 3
    assert "Confusion matrix" in submitted.stdout
