"""What an installed dmlctl carries and needs: the sdist and wheel hold the playbooks, roles and
sample jobs; a missing [jobs] extra is one clear error."""

import importlib.util
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from dmlctl import paths
from dmlctl.cli import main
from dmlctl.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]


def _tracked(*patterns: str) -> set[str]:
    """The checkout's files under PATTERNS as git tracks them (symlinks left out)."""
    listed = subprocess.run(
        ["git", "ls-files", "-s", "--", *patterns], cwd=ROOT, capture_output=True, text=True
    ).stdout.splitlines()
    return {line.split("\t", 1)[1] for line in listed if not line.startswith("120000")}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """An sdist built from the checkout and a wheel built from that sdist (as pip would)."""
    out = tmp_path_factory.mktemp("dist")
    code = "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))"
    name = subprocess.run(
        [sys.executable, "-c", code, str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    sdist = out / name
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip_wheel, "-w", str(out), str(sdist)],
        check=True,
        capture_output=True,
    )
    return sdist, next(out.glob("dmlctl-*.whl"))


def test_sdist_holds_the_run_time_trees(built):
    sdist, _ = built
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    expected = _tracked("playbooks", "roles", "jobs", "ansible.cfg")
    assert expected, "nothing tracked?"
    assert expected <= names, sorted(expected - names)


def test_wheel_carries_playbooks_roles_and_jobs_as_assets(built):
    _, wheel = built
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
    expected = {f"dmlctl/_assets/{path}" for path in _tracked("playbooks", "roles", "jobs")}
    expected |= {"dmlctl/_assets/ansible.cfg", "dmlctl/data/containers.conf"}
    assert {"dmlctl/_assets/playbooks/deploy.yml", "dmlctl/_assets/jobs/h2o_rf.py"} <= expected
    # The lecture's notebooks, and the start-up hook that notebook kernels and `dmlctl env` use.
    expected |= {"dmlctl/_assets/jobs/lecture_h2o_rf.ipynb", "dmlctl/jobs/startup/sitecustomize.py"}
    assert expected <= names, sorted(expected - names)
    # Only the package: no tests, molecule scenarios or the playbooks' roles link.
    assert not [n for n in names if n.startswith(("tests/", "molecule/", "bench/"))]
    assert not [n for n in names if n.startswith("dmlctl/_assets/playbooks/roles/")]


def test_a_checkout_runs_from_its_own_tree():
    assert paths.CHECKOUT_DIR == ROOT
    assert paths.PLAYBOOK_DIR == ROOT / "playbooks"
    assert (paths.ROLES_DIR / "spark" / "tasks").is_dir()
    assert (paths.JOBS_DIR / "h2o_rf.py").is_file()
    assert paths.ANSIBLE_CFG.is_file()


@pytest.mark.parametrize(("job", "module"), [("spark-kmeans", "pyspark"), ("h2o-rf", "h2o")])
def test_submit_without_the_jobs_extra_names_the_install(capsys, monkeypatch, job, module):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == module else real(name)
    )
    with pytest.raises(SystemExit) as caught:
        main(["submit", job, "--local"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert caught.value.code == 2
    assert module in lines[0]
    assert "pip install 'dmlctl[jobs]'" in lines[-1]
    assert len(lines) == 2


LAB_VARS = "\n[all:vars]\ndmlctl_lab=t\ndmlctl_artifact_source=bundle\n"
PINNED_MIRROR_VARS = "\n[all:vars]\ndmlctl_artifact_source=mirror\nspark_version=4.3.0\n"


def _without(monkeypatch, module: str) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == module else real(name)
    )


def _inventory(tmp_path, monkeypatch, extra: str) -> Path:
    monkeypatch.setenv("DMLCTL_STATE_DIR", str(tmp_path / "state"))
    path = tmp_path / "hosts.ini"
    path.write_text((Path(__file__).parent / "payloads" / "two_nodes.ini").read_text() + extra)
    return path


def test_lab_deploy_without_the_jobs_extra_names_the_install(capsys, monkeypatch, tmp_path):
    from dmlctl.playbooks import runner

    path = _inventory(tmp_path, monkeypatch, LAB_VARS)
    _without(monkeypatch, "pyspark")
    monkeypatch.setattr(runner, "run_playbook", lambda *a, **k: pytest.fail("a playbook ran"))
    with pytest.raises(SystemExit) as caught:
        main(["deploy", "-i", str(path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert caught.value.code == 2
    assert lines[0].startswith("error: deploying Spark needs the pyspark package")
    assert lines[-1].endswith("pip install 'dmlctl[jobs]'") and len(lines) == 2
    assert not (tmp_path / "state").exists()  # nothing made before the refusal


def test_a_pinned_mirror_deploy_needs_no_engine_clients(monkeypatch, tmp_path):
    from dmlctl.cluster.operations import require_bundle_clients
    from dmlctl.playbooks import inventory

    inv = inventory.load(_inventory(tmp_path, monkeypatch, PINNED_MIRROR_VARS))
    _without(monkeypatch, "pyspark")
    require_bundle_clients(inv, inv.hosts, ["spark"])  # version given, downloaded: fine
    _without(monkeypatch, "h2o")
    with pytest.raises(UsageError, match="h2o package"):
        require_bundle_clients(inv, inv.hosts, ["h2o"])  # no h2o_version: read from h2o
