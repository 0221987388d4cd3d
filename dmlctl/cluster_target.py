"""Where `dmlctl submit` sends a job on a cluster: engine URLs, the driver's address, the
job's input staged on every node (dmlctl.staging), and the version guard."""

import importlib.metadata
import re
import socket
from pathlib import Path

from dmlctl import engines, staging
from dmlctl.connection import Connection
from dmlctl.errors import OperationError, UsageError
from dmlctl.jobs import Target

_SPARK_UI_VERSION = re.compile(r'class="version[^"]*"[^>]*>\s*([0-9][^<\s]*)\s*<')


SUBMIT_TIMEOUT = 10.0


def driver_address(toward: str) -> str:
    """The local address this machine uses to reach TOWARD: where executors connect back to.

    A UDP "connect" only picks a route; no packet is sent.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((toward, 9))
        return probe.getsockname()[0]


def spark_version(ui_url: str, timeout: float = 10.0) -> str | None:
    """The version the master's web UI shows next to the Spark logo.

    Read once per submit, so it may wait longer than status probes: a busy master renders
    its page slowly, and a missed read refuses the job."""
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
    package = engines.get(engine).client_package
    client = importlib.metadata.version(package)
    if cluster_version is None:
        raise OperationError(f"could not read the cluster's {engine} version to compare.")
    if cluster_version != client:
        raise UsageError(
            f"the cluster runs {engine} {cluster_version} but this machine has {package} {client}.",
            hint=f"redeploy with `dmlctl deploy` or install {package}=={cluster_version} here",
        )


def target(conn: Connection, engine: str, data: Path | None) -> Target:
    """Check the cluster can take a ENGINE job and describe where it runs.

    Raises OperationError (exit 1) when the engine is not healthy or refuses dmlctl's login and
    UsageError (exit 2) on a version mismatch, before anything is staged or run. DATA (a sample
    job's input) is staged on every node over SSH; with a profile there is no SSH, and the job
    reads it here on the driver instead.
    """
    from dmlctl.commands.status import collect

    # Once per submit, so it may wait longer than `status`: a busy node is slow to shake hands.
    model = collect(conn, timeout=SUBMIT_TIMEOUT)
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
    staged = staging.stage(conn.inv, data) if data is not None and conn.inv is not None else None
    return Target.cluster(
        spark_master=spark["master_url"],
        driver_host=driver_address(conn.ends.spark_master_address),
        h2o_url=model["h2o"]["url"],
        executor_python=conn.ends.spark_python,
        node_data=staged,
        secret_conf=conn.creds.spark_conf(),
        h2o_env=conn.creds.h2o_env(),
    )
