"""Integration tests run real things; each needs what it runs. In CI they must run; elsewhere
a test whose needs this machine lacks is skipped, saying what is missing.

- marked `local_engines` (Spark local[*], an embedded or loopback H2O on this machine): Java and
  the engines' client packages, as `dmlctl submit --local` itself checks;
- every other integration test works on rehearsal labs: root and podman.
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest


def _lab_missing() -> str | None:
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    if shutil.which("podman") is None:
        missing.append("podman")
    if not missing:
        return None
    return f"lab tests need {' and '.join(missing)} (run `make setup` as root)"


def _local_engines_missing() -> str | None:
    from dmlctl.errors import OperationError
    from dmlctl.jobs import check_local_engine

    try:
        for engine in ("spark", "h2o"):
            check_local_engine(engine)
    except OperationError as error:
        return f"local engine tests: {error.message} ({error.hint})"
    return None


def pytest_collection_modifyitems(config, items):
    # Tests that break the shared cluster (and heal it) come last, so no other test sees it broken.
    items.sort(key=lambda item: "disturbs_cluster" in item.keywords)
    reasons = {"local_engines": _local_engines_missing(), "lab": _lab_missing()}
    for item in items:
        if "integration" not in item.keywords:
            continue
        reason = reasons["local_engines" if "local_engines" in item.keywords else "lab"]
        if reason is None:
            continue
        if os.environ.get("CI"):
            raise pytest.UsageError(f"CI cannot skip integration tests: {reason}")
        item.add_marker(pytest.mark.skip(reason=reason))


DMLCTL = str(Path(sys.executable).parent / "dmlctl")


@dataclass
class Cluster:
    """A rehearsal lab made and deployed by `dmlctl demo` (the README's first command), shared
    by the tests that need one. `deploy` is the demo's run; its jobs' runs are in `runs`."""

    name: str
    state_dir: Path
    inventory: Path
    deploy: subprocess.CompletedProcess
    runs: Path

    def demo_run(self, job: str) -> Path:
        """The run directory of JOB that the demo made."""
        (run,) = self.runs.glob(f"{job}-*")
        return run

    def secrets(self):
        """The cluster's secrets as dmlctl keeps them (read afresh: rotation changes them)."""
        from dmlctl.security.cluster_secrets import ClusterSecrets

        old = os.environ.get("DMLCTL_STATE_DIR")
        os.environ["DMLCTL_STATE_DIR"] = str(self.state_dir)
        try:
            return ClusterSecrets.for_inventory(self.inventory)
        finally:
            if old is None:
                del os.environ["DMLCTL_STATE_DIR"]
            else:
                os.environ["DMLCTL_STATE_DIR"] = old

    def h2o_json(self, url: str, timeout: float = 10) -> dict:
        """GET an H2O endpoint with dmlctl's own login and CA (clusters are secure by default)."""
        from dmlctl.security.credentials import from_secrets, open_url

        creds = from_secrets(self.secrets(), secure=url.startswith("https:"))
        with open_url(url, creds, timeout) as response:
            return json.loads(response.read())

    def dmlctl(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DMLCTL_STATE_DIR": str(self.state_dir)}
        return subprocess.run(
            [DMLCTL, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
        )

    def on_node(self, node: str, command: str) -> str:
        """COMMAND's output on NODE, run as the lab's SSH user (sudo for root); it must pass."""
        result = self.dmlctl("lab", "ssh", node, "--name", self.name, "--", command, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """3-node lab (node1 master, node2-3 workers, all H2O), made once per test session by
    `dmlctl demo`: lab up, deploy, status and both sample jobs."""
    state = tmp_path_factory.mktemp("cluster-state")
    workdir = tmp_path_factory.mktemp("demo")
    name = f"{os.environ.get('DMLCTL_TEST_LAB_PREFIX', 'it')}-cluster-{os.getpid()}"
    env = {**os.environ, "DMLCTL_STATE_DIR": str(state)}
    inventory = state / "labs" / name / "inventory.ini"
    try:
        demo = subprocess.run(
            [DMLCTL, "demo", "--name", name],
            capture_output=True, text=True, env=env, cwd=workdir, timeout=1800, check=False,
        )  # fmt: skip
        assert inventory.is_file(), demo.stdout[-3000:] + demo.stderr[-3000:]
        yield Cluster(name, state, inventory, demo, workdir / "runs")
    finally:
        subprocess.run(
            [DMLCTL, "lab", "down", "--yes", "--name", name],
            capture_output=True,
            env=env,
            timeout=300,
            check=False,
        )
