"""Where `dmlctl submit` sends a job on a cluster: engine URLs, the driver's address, the
job's input staged on every node (dmlctl.staging.nodes), and the version guard."""

import dataclasses
import importlib.metadata
import re
import secrets
import socket
from pathlib import Path

from dmlctl import engines
from dmlctl.cluster import executor_python
from dmlctl.cluster.connection import Connection
from dmlctl.errors import OperationError, UsageError
from dmlctl.jobs import Job, Target
from dmlctl.playbooks.inventory import ClusterInventory
from dmlctl.security.cluster_secrets import ClusterSecrets
from dmlctl.staging import local_input, nodes

H2O_CONFIG = local_input.H2O_CONFIG

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


def recorded_executor_python(conn: Connection) -> str | None:
    """What the last deploy saw of the executors' Python: in the profile, or in the state of
    the inventory's cluster."""
    if conn.profile is not None:
        return conn.profile.versions.get(executor_python.PROFILE_KEY)
    return ClusterSecrets.for_inventory(conn.inv.path).executor_python


def python_mismatch(conn: Connection) -> tuple[str, str] | None:
    """(what differs, the fix) when this driver's Python is not the executors' minor version."""
    recorded = recorded_executor_python(conn)
    differs = executor_python.mismatch(recorded)
    if differs is None:
        return None
    return differs, executor_python.fix(recorded, from_profile=conn.profile is not None)


def target(conn: Connection, engine: str, cores: int | None = None) -> Target:
    """Check the cluster can take a ENGINE job and describe where it runs.

    Raises OperationError (exit 1) when the engine is not healthy or refuses dmlctl's login and
    UsageError (exit 2) on a version mismatch, before anything is staged or run. CORES caps a
    Spark application's cores (else the master's per-application default).
    """
    from dmlctl.cluster.status import collect_for

    # Once per submit, so it may wait longer than `status`: a busy node is slow to shake hands.
    model = collect_for(conn, timeout=SUBMIT_TIMEOUT)
    engine_status = model[engine]
    # A degraded H2O cloud (a member lost, the others re-formed without it) serves jobs.
    if not engine_status.get("serves_jobs", engine_status["healthy"]):
        problems = engine_status.get("problems") or [
            f"workers alive {engine_status.get('workers_alive')} of "
            f"{engine_status.get('workers_expected')}"
        ]
        raise OperationError(
            f"the {engine} cluster is not healthy: {problems[0]}",
            hint=engine_status.get("next")
            or "`dmlctl status` shows the details; `dmlctl start` or `dmlctl deploy` fixes most",
        )
    spark = model["spark"]
    if engine == "spark":
        check_version("spark", spark_version(spark["ui"]))
    else:
        check_version("h2o", model["h2o"]["version"])
    return Target.cluster(
        spark_master=spark["master_url"],
        driver_host=driver_address(conn.ends.spark_master_address),
        h2o_url=model["h2o"]["url"],
        executor_python=conn.ends.spark_python,
        # Asked for with --cores; else the master's per-application default.
        spark_conf={"spark.cores.max": str(cores)} if cores else None,
        secret_conf=conn.creds.spark_conf(),
        h2o_env=conn.creds.h2o_env(),
        h2o_nodes=tuple(conn.ends.h2o_nodes),
    )


def prepare_input(
    inv: ClusterInventory | None,
    job: Job,
    target: Target,
    run_dir: Path,
    inputs: list[local_input.Item],
) -> tuple[Path, list[local_input.Item], Target]:
    """The job's work directory with its input, here and (INV given) on every node.

    Returns the work directory, every input linked into it, and the target with a staged
    sample job's input path as the nodes see it. Without INV (a profile: no SSH) nothing
    reaches the nodes, and a sample job reads its input here on the driver instead.
    """
    if inv is not None and job.sample is not None and job.sample.staged:
        # Every run reads one staged copy (sent once).
        target = dataclasses.replace(target, node_data=nodes.stage(inv, job.sample.data))
    for item in inputs:
        local_input.store(item.source)
    workdir = local_input.make_workdir(f"{run_dir.name}-{secrets.token_hex(4)}", inputs)
    if target.h2o_url:
        # h2o.init() with no address reads this: it reaches the cloud, not a private H2O.
        (workdir / H2O_CONFIG).write_text(f"[init]\nurl = {target.h2o_url}\n")
    if inv is not None and inputs:
        nodes.stage_workdir(inv, workdir, inputs)
        target = dataclasses.replace(target, data_on_nodes=True)
    return workdir, inputs, target
