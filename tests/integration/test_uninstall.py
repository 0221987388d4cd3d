"""`dmlctl uninstall` on a 1-node lab of its own (the shared cluster stays deployed): --check
removes nothing, no --yes without a terminal refuses, --purge-data --yes removes the engines'
data and log directories, and a deploy afterwards brings a healthy cluster back."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

INSTALLED = ["/opt/spark", "/etc/spark", "/opt/h2o", "/etc/h2o"]
DATA_AND_LOGS = ["/var/lib/spark", "/var/lib/h2o", "/var/log/h2o"]
DMLCTL = str(Path(sys.executable).parent / "dmlctl")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A deployed 1-node lab; returns a function that runs dmlctl against it."""
    state = tmp_path_factory.mktemp("uninstall-state")
    name = f"it-uninstall-{os.getpid()}"
    env = {**os.environ, "DMLCTL_STATE_DIR": str(state)}

    def dmlctl(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [DMLCTL, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
            env=env, timeout=timeout, check=False,
        )  # fmt: skip

    up = dmlctl("lab", "up", "--nodes", "1", "--name", name)
    assert up.returncode == 0, up.stderr
    try:
        deployed = dmlctl("deploy", timeout=1800)
        assert deployed.returncode == 0, deployed.stderr[-3000:]
        yield dmlctl
    finally:
        subprocess.run(
            [DMLCTL, "lab", "down", "--yes", "--name", name],
            capture_output=True, env=env, check=False,
        )  # fmt: skip


def _present(dmlctl, paths: list[str]) -> list[str]:
    """Which of PATHS exist on node1."""
    probe = "; ".join(f"sudo -n test -e {p} && echo {p}" for p in paths)
    result = dmlctl("lab", "ssh", "node1", "--", f"{probe}; true", timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def _healthy(dmlctl) -> dict:
    result = dmlctl("status", "--json", timeout=120)
    model = json.loads(result.stdout)
    assert result.returncode == 0, model
    return model


def test_uninstall_check_shows_what_would_go_and_removes_nothing(lab):
    result = lab("uninstall", "--check", "--purge-data", "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    would = json.loads(result.stdout)
    items = {item for change in would["changes"] for item in change["items"]}
    assert set(INSTALLED + DATA_AND_LOGS) <= items, would["changes"]
    assert _present(lab, INSTALLED + DATA_AND_LOGS) == INSTALLED + DATA_AND_LOGS
    _healthy(lab)


def test_uninstall_without_a_terminal_or_yes_refuses(lab):
    result = lab("uninstall", "--purge-data")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].strip() == "next: add --yes to confirm"
    assert _present(lab, INSTALLED + DATA_AND_LOGS) == INSTALLED + DATA_AND_LOGS


def test_purge_removes_data_and_logs_and_deploy_brings_the_cluster_back(lab):
    kept = lab("uninstall", "--yes")
    assert kept.returncode == 0, kept.stderr[-3000:]
    assert _present(lab, INSTALLED + DATA_AND_LOGS) == DATA_AND_LOGS

    purged = lab("uninstall", "--purge-data", "--yes", "--json")
    assert purged.returncode == 0, purged.stderr[-3000:]
    assert json.loads(purged.stdout)["ok"] is True
    assert _present(lab, INSTALLED + DATA_AND_LOGS) == []

    redeployed = lab("deploy", timeout=1800)
    assert redeployed.returncode == 0, redeployed.stderr[-3000:]
    model = _healthy(lab)
    assert model["spark"]["workers_alive"] == 1
    assert model["h2o"]["cloud_size"] == 1
