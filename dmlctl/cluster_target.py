"""Where `dmlctl submit` sends a job on a cluster: engine URLs, the driver's address, the
job's input staged on every node, and the version guard."""

import hashlib
import importlib.metadata
import re
import shutil
import socket
from pathlib import Path

from dmlctl import inventory, runner
from dmlctl import status as cluster_status
from dmlctl.errors import OperationError, UsageError
from dmlctl.jobs import Target

# One path that exists on the driver and on every node: executors and H2O nodes read input
# from their own disks, never from the machine dmlctl runs on.
STAGE_DIR = Path("/var/tmp/dmlctl/data")
CLIENT_PACKAGES = {"spark": "pyspark", "h2o": "h2o"}
_SPARK_UI_VERSION = re.compile(r'class="version[^"]*"[^>]*>\s*([0-9][^<\s]*)\s*<')


def driver_address(toward: str) -> str:
    """The local address this machine uses to reach TOWARD: where executors connect back to.

    A UDP "connect" only picks a route; no packet is sent.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((toward, 9))
        return probe.getsockname()[0]


def spark_version(ui_url: str, timeout: float = cluster_status.TIMEOUT) -> str | None:
    """The version the master's web UI shows next to the Spark logo."""
    import urllib.request

    try:
        with urllib.request.urlopen(ui_url + "/", timeout=timeout) as response:
            page = response.read(200_000).decode("utf-8", "replace")
    except OSError:
        return None
    match = _SPARK_UI_VERSION.search(page)
    return match.group(1) if match else None


def check_version(engine: str, cluster_version: str | None) -> None:
    """The cluster must run exactly the engine version of this machine's client library."""
    package = CLIENT_PACKAGES[engine]
    client = importlib.metadata.version(package)
    if cluster_version is None:
        raise OperationError(f"could not read the cluster's {engine} version to compare.")
    if cluster_version != client:
        raise UsageError(
            f"the cluster runs {engine} {cluster_version} but this machine has {package} {client}.",
            hint=f"redeploy with `dmlctl deploy` or install {package}=={cluster_version} here",
        )


def stage(inv: inventory.ClusterInventory, source: Path) -> str:
    """Copy SOURCE to one content-addressed path on this machine and on every cluster node."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    staged = STAGE_DIR / f"{source.stem}-{digest}{source.suffix}"
    if not staged.is_file():
        STAGE_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, staged)
        staged.chmod(0o644)
    hosts = sorted(
        {*inv.group("spark_master"), *inv.group("spark_workers"), *inv.group("h2o_nodes")}
    )
    answers = runner.run_module(
        inv.path,
        hosts,
        "ansible.builtin.copy",
        {"src": str(staged), "dest": f"{STAGE_DIR}/", "mode": "0644", "directory_mode": "0755"},
    )
    failed = {h: res.get("msg", "no answer") for h, (ok, res) in answers.items() if not ok}
    failed |= {h: "no answer" for h in hosts if h not in answers}
    if failed:
        detail = "; ".join(f"{host}: {message}" for host, message in sorted(failed.items()))
        raise OperationError(f"could not stage {source.name} on the nodes: {detail}")
    return str(staged)


def target(inventory_path: Path | None, engine: str, data: Path | None) -> Target:
    """Check the cluster can take a ENGINE job and describe where it runs.

    Raises OperationError (exit 1) when the engine is not healthy and UsageError (exit 2) on a
    version mismatch, before anything is staged or run.
    """
    inv = inventory.load_cached(inventory.resolve(inventory_path))
    inv.require_cluster_groups()
    model = cluster_status.collect(inv)
    engine_status = model[engine]
    if not engine_status["healthy"]:
        problems = engine_status.get("problems") or [
            f"workers alive {engine_status.get('workers_alive')} of "
            f"{engine_status.get('workers_expected')}"
        ]
        raise OperationError(
            f"the {engine} cluster is not healthy: {problems[0]}",
            hint="`dmlctl status` shows the details; `dmlctl start` or `dmlctl deploy` fixes most",
        )
    spark = model["spark"]
    if engine == "spark":
        check_version("spark", spark_version(spark["ui"]))
    else:
        check_version("h2o", model["h2o"]["version"])
    master = inv.group("spark_master")[0]
    return Target.cluster(
        spark_master=spark["master_url"],
        driver_host=driver_address(inv.address(master)),
        h2o_url=model["h2o"]["url"],
        executor_python=str(inv.var(master, "spark_python") or "/usr/bin/python3"),
        node_data=stage(inv, data) if data is not None else None,
    )
