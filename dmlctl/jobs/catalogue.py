"""The sample jobs, and resolving the JOB a user typed: a sample job's name or their own .py."""

import ast
import difflib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dmlctl import engines
from dmlctl.errors import UsageError
from dmlctl.jobs import notebook
from dmlctl.paths import JOBS_DIR

IRIS_CSV = JOBS_DIR / "data" / "iris.csv"
NOTEBOOK = ".ipynb"


@dataclass(frozen=True)
class SampleJob:
    """A program shipped in jobs/, with what dmlctl knows about it."""

    name: str
    script: Path
    engine: str
    description: str
    # The run contract: keys its result.json must have and plots it must leave.
    result_keys: tuple[str, ...]
    plots: tuple[str, ...]
    # Its input, staged on every node for a cluster run, and the option that names it there.
    data: Path
    data_flag: str
    # False: the job uploads its input from this machine instead, as h2o-rf does: H2O names
    # an imported file's key after its path, and keys are global to the cloud, so concurrent
    # runs importing one staged file would share (and delete) one key; every upload gets a
    # key of its own, and nothing needs staging.
    staged: bool
    # The option that makes it read its input on the driver, for a cluster whose nodes cannot
    # be given the file (a profile has no SSH); "" when it does so anyway.
    driver_flag: str = ""


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
            plots=(),
            data=IRIS_CSV,
            # Were it staged: h2o.import_file reads the path on the H2O nodes themselves.
            data_flag="--node-path",
            staged=False,
        ),
        SampleJob(
            name="spark-kmeans",
            script=JOBS_DIR / "spark_kmeans.py",
            engine="spark",
            description="Spark ML KMeans on iris: silhouette for k=2..9, a k=3 model, "
            "cluster sizes and plots",
            result_keys=("rows", "silhouette", "k", "cluster_counts", "master"),
            plots=("silhouette.png", "clusters.png"),
            data=IRIS_CSV,
            data_flag="--data",
            staged=True,
            driver_flag="--from-driver",
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

    @property
    def is_notebook(self) -> bool:
        return self.script.suffix == NOTEBOOK


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
    return {engine.name for m in modules if (engine := engines.by_module(m))}


def detect_engine(path: Path) -> str:
    """The engine of the user's program (or notebook), from its imports; UsageError when it is
    unclear."""
    try:
        if path.suffix == NOTEBOOK:
            source = notebook.code(path)
        else:
            source = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    found = imported_engines(source)
    if len(found) == 1:
        return found.pop()
    what = "both pyspark and h2o" if found else "neither pyspark nor h2o"
    raise UsageError(
        f"cannot tell whether {path} is a Spark or an H2O job: it imports {what}",
        hint="say which with --engine spark or --engine h2o",
    )


def _check_engine(engine: str | None) -> str | None:
    if engine is None:
        return None
    value = engine.strip().lower()
    if value not in engines.NAMES:
        raise UsageError(f"unknown engine {engine!r}: use --engine spark or --engine h2o")
    return value


def _looks_like_path(job: str) -> bool:
    return job.endswith((".py", NOTEBOOK)) or "/" in job or os.sep in job or Path(job).exists()


def run_name(text: str) -> str:
    """A run-directory-safe version of a job name."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")
    return name or "job"


def resolve_job(job: str, engine: str | None = None) -> Job:
    """JOB as typed: a sample job's name, or a path to a .py file or a notebook (.ipynb).
    UsageError when neither."""
    engine = _check_engine(engine)
    sample = SAMPLE_JOBS.get(job)
    if sample is not None:
        if engine is not None and engine != sample.engine:
            raise UsageError(
                f"{job} is an {engines.label(sample.engine)} job; "
                f"--engine {engine} does not apply to it"
            )
        return Job(sample.name, sample.script, sample.engine, sample)
    if not _looks_like_path(job):
        suggestion = nearest_name(job)
        hint = f"did you mean `dmlctl submit {suggestion}`?" if suggestion else None
        raise UsageError(
            f"unknown job {job!r}: the sample jobs are {', '.join(SAMPLE_JOBS)}, "
            "or give the path of your own .py file or .ipynb notebook",
            hint=hint or "`dmlctl jobs` lists the sample jobs",
        )
    path = Path(job).expanduser()
    if not path.exists():
        raise UsageError(f"no such file: {job}", hint="give the path of your job's .py file")
    if not path.is_file():
        raise UsageError(f"{job} is not a file", hint="give the path of your job's .py file")
    if path.suffix not in (".py", NOTEBOOK):
        raise UsageError(f"{job} is neither a Python file (.py) nor a notebook (.ipynb)")
    path = path.resolve()
    return Job(run_name(path.stem), path, engine or detect_engine(path))
