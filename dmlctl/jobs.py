"""Jobs: the sample-job catalogue, run directories, and running a job while keeping its output.

A job is a Python program run by this environment's interpreter (`sys.executable`). Where it
runs is described by a `Target`, which only sets the job's environment:

- Spark jobs get spark-submit semantics through PYSPARK_SUBMIT_ARGS, so the program's plain
  `SparkSession.builder.getOrCreate()` reaches `local[*]` (local mode) or
  `spark://MASTER:7077` with `spark.driver.host` set (cluster mode, driver on this machine);
- H2O jobs find the cloud's URL in DMLCTL_H2O_URL; without it the sample job starts an
  embedded H2O of its own (local mode).

Every run gets a fresh run directory (result.json written by the job, job.log with the full
output, the job's plots, run.json about the run); nothing of an earlier run is overwritten.
Heavy libraries (pyspark, h2o, pandas, matplotlib) are imported only by the job programs.
"""

import ast
import contextlib
import difflib
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dmlctl.errors import OperationError, UsageError
from dmlctl.paths import PROJECT_DIR

ENGINES = ("spark", "h2o")
ENGINE_LABELS = {"spark": "Spark", "h2o": "H2O"}
JOBS_DIR = PROJECT_DIR / "jobs"
IRIS_CSV = JOBS_DIR / "data" / "iris.csv"
RESULT_FILE = "result.json"
LOG_FILE = "job.log"
RUN_FILE = "run.json"
# The top-level modules that give a program's engine away.
ENGINE_MODULES = {"pyspark": "spark", "h2o": "h2o"}


@dataclass(frozen=True)
class SampleJob:
    name: str
    script: Path
    engine: str
    description: str
    # Keys its result.json must have (the run contract in DESIGN.md).
    result_keys: tuple[str, ...] = ()
    plots: tuple[str, ...] = ()


SAMPLE_JOBS: dict[str, SampleJob] = {
    job.name: job
    for job in (
        SampleJob(
            name="h2o-rf",
            script=JOBS_DIR / "h2o_rf.py",
            engine="h2o",
            description="H2O random forest on iris (ntrees=50, max_depth=10, nfolds=5, "
            "80/20 split): test metrics and confusion matrix",
            result_keys=(
                "train_rows",
                "test_rows",
                "mse",
                "rmse",
                "logloss",
                "mean_per_class_error",
                "confusion_matrix",
                "cluster",
            ),
        ),
        SampleJob(
            name="spark-kmeans",
            script=JOBS_DIR / "spark_kmeans.py",
            engine="spark",
            description="Spark ML KMeans on iris: silhouette for k=2..9, a k=3 model, "
            "cluster sizes and plots",
            result_keys=("rows", "silhouette", "k", "cluster_counts", "master"),
            plots=("silhouette.png", "clusters.png"),
        ),
    )
}


@dataclass(frozen=True)
class Job:
    """A job ready to run: a sample job or the user's own program."""

    name: str  # names the run directory
    script: Path
    engine: str
    sample: SampleJob | None = None


# --- the catalogue and resolving JOB ----------------------------------------------------------


def sample_jobs() -> list[SampleJob]:
    return list(SAMPLE_JOBS.values())


def nearest_name(name: str, candidates: Iterable[str] | None = None) -> str | None:
    """The sample job a mistyped name most likely meant, or None when nothing is close."""
    names = list(SAMPLE_JOBS if candidates is None else candidates)
    lowered = name.strip().lower().replace("_", "-")
    matches = difflib.get_close_matches(lowered, names, n=1, cutoff=0.5)
    if matches:
        return matches[0]
    # A fragment such as "kmeans" or "rf" names a job as well as a near-spelling does.
    fragments = [n for n in names if lowered and (lowered in n or n in lowered)]
    return fragments[0] if len(fragments) == 1 else None


def imported_engines(source: str) -> set[str]:
    """The engines a program imports (`import pyspark...`, `from h2o... import ...`)."""
    modules: set[str] = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        # Not parseable (yet): fall back to reading its import lines.
        pattern = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_][\w.]*)", re.MULTILINE)
        modules = {m.group(1).split(".")[0] for m in pattern.finditer(source)}
    else:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    return {ENGINE_MODULES[m] for m in modules if m in ENGINE_MODULES}


def detect_engine(path: Path) -> str:
    """The engine of the user's program, from its imports; UsageError when it is unclear."""
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    engines = imported_engines(source)
    if len(engines) == 1:
        return engines.pop()
    what = "both pyspark and h2o" if engines else "neither pyspark nor h2o"
    raise UsageError(
        f"cannot tell whether {path} is a Spark or an H2O job: it imports {what}",
        hint="say which with --engine spark or --engine h2o",
    )


def _check_engine(engine: str | None) -> str | None:
    if engine is None:
        return None
    value = engine.strip().lower()
    if value not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}: use --engine spark or --engine h2o")
    return value


def _looks_like_path(job: str) -> bool:
    return job.endswith(".py") or "/" in job or os.sep in job or Path(job).exists()


def run_name(text: str) -> str:
    """A run-directory-safe version of a job name."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")
    return name or "job"


def resolve_job(job: str, engine: str | None = None) -> Job:
    """JOB as typed: a sample job's name or a path to a .py file. UsageError when neither."""
    engine = _check_engine(engine)
    sample = SAMPLE_JOBS.get(job)
    if sample is not None:
        if engine is not None and engine != sample.engine:
            raise UsageError(
                f"{job} is an {ENGINE_LABELS[sample.engine]} job; "
                f"--engine {engine} does not apply to it"
            )
        return Job(sample.name, sample.script, sample.engine, sample)
    if not _looks_like_path(job):
        suggestion = nearest_name(job)
        hint = f"did you mean `dmlctl submit {suggestion}`?" if suggestion else None
        raise UsageError(
            f"unknown job {job!r}: the sample jobs are {', '.join(SAMPLE_JOBS)}, "
            "or give the path of your own .py file",
            hint=hint or "`dmlctl jobs` lists the sample jobs",
        )
    path = Path(job).expanduser()
    if not path.exists():
        raise UsageError(f"no such file: {job}", hint="give the path of your job's .py file")
    if not path.is_file():
        raise UsageError(f"{job} is not a file", hint="give the path of your job's .py file")
    if path.suffix != ".py":
        raise UsageError(f"{job} is not a Python file (.py)")
    path = path.resolve()
    return Job(run_name(path.stem), path, engine or detect_engine(path))


# --- run directories ---------------------------------------------------------------------------


def timestamp(now: datetime | None = None) -> str:
    """UTC, sortable, safe in a file name: 20260101T120000Z."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def make_run_dir(
    job_name: str, out: Path | None = None, base: Path | None = None, now: datetime | None = None
) -> Path:
    """Create the run directory: OUT (new or empty), else BASE/<job>-<UTC timestamp>[-N].

    BASE defaults to ./runs. An earlier run is never written into: a non-empty OUT is refused
    and default names get a -2, -3 ... suffix when a run of the same second exists.
    """
    if out is not None:
        out = out.expanduser()
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out} exists and is not a directory")
        if out.is_dir() and any(out.iterdir()):
            raise UsageError(
                f"--out {out} is not empty; a run never overwrites an earlier one",
                hint="give a new or empty directory, or leave --out away for runs/<job>-<time>/",
            )
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"cannot create --out {out}: {error.strerror}") from None
        return out.resolve()
    base = (base if base is not None else Path.cwd() / "runs").expanduser()
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create {base}: {error.strerror}", hint="use --out DIR") from None
    stem = f"{run_name(job_name)}-{timestamp(now)}"
    for n in range(1, 1000):
        candidate = base / (stem if n == 1 else f"{stem}-{n}")
        try:
            candidate.mkdir()  # atomic: two runs of the same second get different names
        except FileExistsError:
            continue
        return candidate.resolve()
    raise OperationError(f"too many runs named {stem} in {base}")


# --- where a job runs ------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a job runs. Local: Spark `local[*]` and an embedded H2O. Cluster: URLs."""

    mode: str = "local"
    spark_master: str = "local[*]"
    spark_conf: dict[str, str] = field(default_factory=dict)
    h2o_url: str | None = None
    # Python on the executors: in local mode this interpreter; on a cluster the nodes' own.
    executor_python: str | None = None
    # The iris CSV as every node sees it (cluster mode); sample jobs then read it from there.
    node_data: str | None = None

    @classmethod
    def local(cls) -> "Target":
        return cls(mode="local", spark_master="local[*]", executor_python=sys.executable)

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
        )

    def describe(self, engine: str) -> str:
        if engine == "spark":
            return f"Spark {self.spark_master}"
        if self.mode == "local" or not self.h2o_url:
            return "an embedded H2O (local)"
        return f"the H2O cloud at {self.h2o_url}"


def spark_home() -> str | None:
    """The pinned pyspark package, which holds bin/spark-submit and the jars (not imported)."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(next(iter(spec.submodule_search_locations))))


def spark_submit_args(target: Target) -> str:
    args = ["--master", target.spark_master]
    for key, value in target.spark_conf.items():
        args += ["--conf", f"{key}={value}"]
    return shlex.join([*args, "pyspark-shell"])


def job_command(
    job: Job,
    run_dir: Path,
    target: Target,
    args: Iterable[str] = (),
    base_env: dict[str, str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that run JOB on TARGET, writing into RUN_DIR."""
    env = dict(os.environ if base_env is None else base_env)
    env.update(
        DMLCTL_RUN_DIR=str(run_dir),
        DMLCTL_JOB=job.name,
        DMLCTL_ENGINE=job.engine,
        DMLCTL_MODE=target.mode,
        PYTHONUNBUFFERED="1",
        MPLBACKEND="Agg",
    )
    extra: list[str] = []
    if target.mode == "cluster" and not (
        target.spark_master if job.engine == "spark" else target.h2o_url
    ):
        raise UsageError(f"the cluster has no {ENGINE_LABELS[job.engine]} to run {job.name} on")
    if job.engine == "spark":
        env["PYSPARK_SUBMIT_ARGS"] = spark_submit_args(target)
        home = spark_home()
        if home:
            # The pinned pyspark's own Spark, never another SPARK_HOME of this machine.
            env["SPARK_HOME"] = home
        if target.executor_python:
            env["PYSPARK_PYTHON"] = target.executor_python
        env.pop("PYSPARK_DRIVER_PYTHON", None)
        if target.mode == "local":
            env["SPARK_LOCAL_IP"] = "127.0.0.1"  # a local run stays on loopback
        if job.sample is not None and target.node_data:
            extra = ["--data", target.node_data]
    else:
        if target.h2o_url:
            env["DMLCTL_H2O_URL"] = target.h2o_url
        else:
            env.pop("DMLCTL_H2O_URL", None)  # the job starts its own H2O
        if job.sample is not None and target.node_data:
            extra = ["--node-path", target.node_data]
    argv = [sys.executable, "-u", str(job.script), *extra, *args]
    return argv, env


def check_local_engine(engine: str) -> None:
    """What a local run needs on this machine: the engine's client library and Java."""
    module = "pyspark" if engine == "spark" else "h2o"
    if importlib.util.find_spec(module) is None:
        raise OperationError(
            f"the {module} package is not installed in this environment", hint="make setup"
        )
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise OperationError(
            f"Java is not installed; a local {ENGINE_LABELS[engine]} run needs Java 17",
            hint="make setup (installs openjdk-17-jre-headless)",
        )


# --- running ---------------------------------------------------------------------------------


def run_job(
    argv: list[str],
    env: dict[str, str],
    log_path: Path,
    sink: Callable[[bytes], None] | None = None,
    cwd: Path | None = None,
) -> int:
    """Run ARGV, streaming its output (stdout and stderr) live to SINK and to LOG_PATH.

    Returns the exit code. On Ctrl-C the job (which got the signal too) is given a moment to
    stop, then terminated; the KeyboardInterrupt is raised again.
    """
    if sink is None:

        def sink(chunk: bytes) -> None:
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()

    try:
        log = log_path.open("xb")  # a run directory's log is never written twice
    except FileExistsError:
        raise UsageError(f"{log_path} exists: that run directory was used before") from None
    with log:
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
            )
        except OSError as error:
            raise OperationError(f"cannot start {argv[0]}: {error.strerror}") from None
        assert process.stdout is not None
        try:
            fd = process.stdout.fileno()
            while chunk := os.read(fd, 65536):
                log.write(chunk)
                log.flush()
                sink(chunk)
            return process.wait()
        except KeyboardInterrupt:
            _stop(process)
            raise
        finally:
            process.stdout.close()


def _stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def read_result(run_dir: Path) -> dict[str, Any] | None:
    """The job's result.json, or None when it wrote none."""
    path = run_dir / RESULT_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise OperationError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise OperationError(f"{path} holds no JSON object")
    return data


def check_result(job: Job, result: dict[str, Any] | None, run_dir: Path) -> list[str]:
    """What a sample job's run is missing against the run contract (empty when complete)."""
    if job.sample is None:
        return []
    if result is None:
        return [f"no {RESULT_FILE}"]
    problems = [
        f"{RESULT_FILE} has no {key!r}" for key in job.sample.result_keys if key not in result
    ]
    problems += [f"no {plot}" for plot in job.sample.plots if not (run_dir / plot).is_file()]
    return problems


@dataclass
class Run:
    job: Job
    target: Target
    run_dir: Path
    returncode: int
    seconds: float
    result: dict[str, Any] | None

    @property
    def log(self) -> Path:
        return self.run_dir / LOG_FILE


def submit(
    job: Job,
    target: Target,
    run_dir: Path,
    args: Iterable[str] = (),
    sink: Callable[[bytes], None] | None = None,
) -> Run:
    """Run JOB on TARGET into RUN_DIR; OperationError when it fails or its result is short."""
    args = list(args)
    argv, env = job_command(job, run_dir, target, args)
    started = datetime.now(UTC)
    clock = time.monotonic()
    returncode: int | None = None
    try:
        returncode = run_job(argv, env, run_dir / LOG_FILE, sink=sink)
    finally:
        seconds = time.monotonic() - clock
        _write_run_record(job, target, run_dir, argv, env, started, seconds, returncode)
    if returncode != 0:
        raise OperationError(
            f"{job.name} failed (exit {returncode}) after {seconds:.0f} s",
            hint=f"full output: {run_dir / LOG_FILE}",
        )
    result = read_result(run_dir)
    problems = check_result(job, result, run_dir)
    if problems:
        raise OperationError(
            f"{job.name} finished but its run is incomplete: {'; '.join(problems)}",
            hint=f"full output: {run_dir / LOG_FILE}",
        )
    return Run(job, target, run_dir, returncode, seconds, result)


def _write_run_record(
    job: Job,
    target: Target,
    run_dir: Path,
    argv: list[str],
    env: dict[str, str],
    started: datetime,
    seconds: float,
    returncode: int | None,
) -> None:
    shown = ("DMLCTL_H2O_URL", "PYSPARK_SUBMIT_ARGS", "PYSPARK_PYTHON", "SPARK_HOME")
    record = {
        "job": job.name,
        "script": str(job.script),
        "engine": job.engine,
        "mode": target.mode,
        "where": target.describe(job.engine),
        "command": argv,
        "env": {key: env[key] for key in shown if key in env},
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "returncode": returncode,  # null: interrupted
    }
    with contextlib.suppress(OSError):
        (run_dir / RUN_FILE).write_text(json.dumps(record, indent=2) + "\n")
