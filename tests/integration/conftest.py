"""Integration tests need root and podman. In CI they must run; elsewhere they skip."""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest


def pytest_collection_modifyitems(config, items):
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    if shutil.which("podman") is None:
        missing.append("podman")
    if not missing:
        return
    reason = f"integration tests need {' and '.join(missing)} (run `make setup` as root)"
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI cannot skip integration tests: {reason}")
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


DMLCTL = str(Path(sys.executable).parent / "dmlctl")


@dataclass
class Cluster:
    """A rehearsal lab with dmlctl's deploy run on it, shared by the tests that need one."""

    name: str
    state_dir: Path
    inventory: Path
    deploy: subprocess.CompletedProcess

    def dmlctl(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DMLCTL_STATE_DIR": str(self.state_dir)}
        return subprocess.run(
            [DMLCTL, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
        )


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """3-node lab (node1 master, node2-3 workers, all H2O), deployed once per test session."""
    state = tmp_path_factory.mktemp("cluster-state")
    name = f"it-cluster-{os.getpid()}"
    env = {**os.environ, "DMLCTL_STATE_DIR": str(state)}
    up = subprocess.run(
        [DMLCTL, "lab", "up", "--nodes", "3", "--name", name],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert up.returncode == 0, up.stderr
    inventory = state / "labs" / name / "inventory.ini"
    try:
        deployed = subprocess.run(
            [DMLCTL, "deploy", "-i", str(inventory)],
            capture_output=True, text=True, env=env, timeout=1800, check=False,
        )  # fmt: skip
        yield Cluster(name, state, inventory, deployed)
    finally:
        subprocess.run(
            [DMLCTL, "lab", "down", "--name", name], capture_output=True, env=env, check=False
        )
