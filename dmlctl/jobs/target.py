"""Where a job runs: a `Target` only sets the job's command line and environment.

- Spark jobs get spark-submit semantics through PYSPARK_SUBMIT_ARGS, so the program's plain
  `SparkSession.builder.getOrCreate()` reaches `local[*]` (local mode) or
  `spark://MASTER:PORT` with `spark.driver.host` set (cluster mode, driver on this machine);
- H2O jobs find the cloud's URL in DMLCTL_H2O_URL; without it the sample job starts an
  embedded H2O of its own (local mode).
"""

import contextlib
import importlib.util
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dmlctl import engines
from dmlctl.errors import OperationError, UsageError
from dmlctl.jobs.catalogue import Job


@dataclass(frozen=True)
class Target:
    """Where a job runs. Local: Spark `local[*]` and an embedded H2O. Cluster: URLs."""

    mode: str = "local"
    spark_master: str = "local[*]"
    spark_conf: dict[str, str] = field(default_factory=dict)
    h2o_url: str | None = None
    # Python on the executors: in local mode this interpreter; on a cluster the nodes' own.
    executor_python: str | None = None
    # A sample job's input as every node sees it (cluster mode); the job then reads it there.
    node_data: str | None = None
    # Spark settings that hold the cluster's secret: given to spark-submit in a file only this
    # user can read, never on a command line (which `ps` shows to every local user).
    secret_conf: dict[str, str] = field(default_factory=dict, repr=False)
    # DMLCTL_H2O_USER, _PASSWORD, _CACERT: what h2o.connect(url, auth, cacert) needs.
    h2o_env: dict[str, str] = field(default_factory=dict, repr=False)
    # Every H2O node's ADDRESS:PORT: h2o.init(ip=<one of them>) means this cloud.
    h2o_nodes: tuple[str, ...] = ()
    # The job's --data input is in its work directory on every node too (an inventory's
    # cluster; a profile has no SSH to put it there).
    data_on_nodes: bool = False

    @classmethod
    def local(cls, cores: int | None = None) -> "Target":
        master = f"local[{cores}]" if cores else "local[*]"
        return cls(mode="local", spark_master=master, executor_python=sys.executable)

    @classmethod
    def cluster(
        cls,
        spark_master: str | None,
        driver_host: str | None,
        h2o_url: str | None,
        *,
        executor_python: str = "python3",
        node_data: str | None = None,
        spark_conf: dict[str, str] | None = None,
        secret_conf: dict[str, str] | None = None,
        h2o_env: dict[str, str] | None = None,
        h2o_nodes: Iterable[str] = (),
    ) -> "Target":
        """Spark client mode (driver here, reachable by the workers at DRIVER_HOST) and the
        H2O cloud at H2O_URL."""
        conf = dict(spark_conf or {})
        if driver_host:
            conf.setdefault("spark.driver.host", driver_host)
        return cls(
            mode="cluster",
            spark_master=spark_master or "",
            spark_conf=conf,
            h2o_url=h2o_url,
            executor_python=executor_python,
            node_data=node_data,
            secret_conf=dict(secret_conf or {}),
            h2o_env=dict(h2o_env or {}),
            h2o_nodes=tuple(h2o_nodes),
        )

    def endpoint(self, engine: str) -> str | None:
        """The engine's address on this target (empty when the cluster has none)."""
        return self.spark_master if engine == engines.SPARK.name else self.h2o_url

    def describe(self, engine: str) -> str:
        if engine == engines.SPARK.name:
            return f"Spark {self.spark_master}"
        if self.mode == "local" or not self.h2o_url:
            return "an embedded H2O (local)"
        return f"the H2O cloud at {self.h2o_url}"


def spark_home() -> str | None:
    """The pinned pyspark package, which holds bin/spark-submit and the jars (not imported)."""
    spec = importlib.util.find_spec(engines.SPARK.client_package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(next(iter(spec.submodule_search_locations))))


@contextlib.contextmanager
def secret_conf_file(target: Target) -> Iterator[Path | None]:
    """TARGET's secret Spark settings as a properties file in a private directory (0700, file
    0600) for as long as the job runs; None when it has none."""
    if not target.secret_conf:
        yield None
        return
    directory = Path(tempfile.mkdtemp(prefix="dmlctl-spark-"))
    try:
        path = directory / "spark-secret.conf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.writelines(f"{key} {value}\n" for key, value in target.secret_conf.items())
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def spark_submit_args(
    master: str, conf: dict[str, str] | None = None, properties_file: Path | None = None
) -> str:
    """PYSPARK_SUBMIT_ARGS for MASTER: the Spark engine's job settings, then CONF."""
    args = ["--master", master]
    if properties_file is not None:
        args += ["--properties-file", str(properties_file)]
    for key, value in {**engines.SPARK.job_conf, **(conf or {})}.items():
        args += ["--conf", f"{key}={value}"]
    return shlex.join([*args, "pyspark-shell"])


def _spark_env(env: dict[str, str], target: Target, properties_file: Path | None) -> None:
    env["PYSPARK_SUBMIT_ARGS"] = spark_submit_args(
        target.spark_master, target.spark_conf, properties_file
    )
    home = spark_home()
    if home:
        # The pinned pyspark's own Spark, never another SPARK_HOME of this machine.
        env["SPARK_HOME"] = home
    if target.executor_python:
        env["PYSPARK_PYTHON"] = target.executor_python
    env.pop("PYSPARK_DRIVER_PYTHON", None)
    if target.mode == "local":
        env["SPARK_LOCAL_IP"] = "127.0.0.1"  # a local run stays on loopback


H2O_VARIABLES = (
    "DMLCTL_DATA_ON_NODES",
    "DMLCTL_H2O_URL",
    "DMLCTL_H2O_NODES",
    "DMLCTL_H2O_USER",
    "DMLCTL_H2O_PASSWORD",
    "DMLCTL_H2O_PASSWORD_FILE",
    "DMLCTL_H2O_CACERT",
)
# A sitecustomize that installs dmlctl.jobs.program_hooks in every Python started with this
# directory on PYTHONPATH: a notebook's kernel, or a program run by hand after `dmlctl env`.
STARTUP_DIR = Path(__file__).resolve().parent / "startup"


def with_startup(pythonpath: str | None) -> str:
    """PYTHONPATH with STARTUP_DIR first."""
    rest = [p for p in (pythonpath or "").split(os.pathsep) if p and p != str(STARTUP_DIR)]
    return os.pathsep.join([str(STARTUP_DIR), *rest])


def _h2o_env(env: dict[str, str], target: Target, _: Path | None) -> None:
    for key in H2O_VARIABLES:
        env.pop(key, None)  # a local run starts its own H2O
    if target.h2o_url:
        env["DMLCTL_H2O_URL"] = target.h2o_url
        if target.h2o_nodes:
            env["DMLCTL_H2O_NODES"] = ",".join(target.h2o_nodes)
        if target.data_on_nodes:
            env["DMLCTL_DATA_ON_NODES"] = "1"
        env.update(target.h2o_env)


def job_command(
    job: Job,
    run_dir: Path,
    target: Target,
    args: Iterable[str] = (),
    base_env: dict[str, str] | None = None,
    properties_file: Path | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that run JOB on TARGET, writing into RUN_DIR (PROPERTIES_FILE:
    from secret_conf_file)."""
    if target.mode == "cluster" and not target.endpoint(job.engine):
        label = engines.label(job.engine)
        raise UsageError(f"the cluster has no {label} to run {job.name} on")
    env = dict(os.environ if base_env is None else base_env)
    env.update(
        DMLCTL_RUN_DIR=str(run_dir),
        DMLCTL_JOB=job.name,
        DMLCTL_ENGINE=job.engine,
        DMLCTL_MODE=target.mode,
        PYTHONUNBUFFERED="1",
        MPLBACKEND="Agg",
    )
    (_spark_env if job.engine == engines.SPARK.name else _h2o_env)(env, target, properties_file)
    if job.is_notebook:
        # The notebook's kernel (a Python of its own) gets the launcher's hooks this way.
        env["PYTHONPATH"] = with_startup(env.get("PYTHONPATH"))
    extra: list[str] = []
    if job.sample is not None and target.node_data:
        extra = [job.sample.data_flag, target.node_data]
    elif job.sample is not None and target.mode == "cluster" and job.sample.driver_flag:
        extra = [job.sample.driver_flag]  # the nodes cannot see its input: read it here
    # Through dmlctl.jobs.launch: the program's h2o.init() reaches the cloud (or fails, never
    # starting a private H2O here), and a notebook runs on a kernel.
    argv = [sys.executable, "-u", "-m", "dmlctl.jobs.launch", str(job.script), *extra, *args]
    return argv, env


def require_client(engine: str) -> None:
    """Submitting needs the engine's client library: the [jobs] extra, not the control plane."""
    package = engines.get(engine).client_package
    if importlib.util.find_spec(package) is None:
        raise UsageError(
            f"submitting {engines.label(engine)} jobs needs the {package} package, which this "
            "dmlctl was installed without",
            hint=f"install the job clients: {engines.CLIENTS_EXTRA}",
        )


def check_local_engine(engine: str) -> None:
    """What a local run needs on this machine besides the client library: Java."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise OperationError(
            f"Java is not installed; a local {engines.label(engine)} run needs Java 17",
            hint="make setup (installs openjdk-17-jre-headless)",
        )
