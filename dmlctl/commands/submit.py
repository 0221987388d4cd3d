"""`dmlctl submit`: run a sample job or the user's own program, keep its results, sum them up."""

from pathlib import Path
from typing import Annotated

import typer

from dmlctl import jobs as joblib
from dmlctl.commands.common import Inventory, Profile, connect
from dmlctl.errors import UsageError
from dmlctl.jobs import cluster_target, notebook
from dmlctl.staging import local_input
from dmlctl.ui.console import err, out
from dmlctl.ui.summaries import show_run

JobArg = Annotated[
    str,
    typer.Argument(
        help="h2o-rf, spark-kmeans (see `dmlctl jobs`), or a path to your .py or .ipynb."
    ),
]
Args = Annotated[
    list[str] | None,
    typer.Argument(
        help="Arguments for the job, after `--` (a notebook's: NAME=VALUE parameters).",
        show_default=False,
    ),
]
Local = Annotated[
    bool, typer.Option("--local", help="Run on an embedded engine here (Spark local[*], own H2O).")
]
OutDir = Annotated[
    Path | None,
    typer.Option("--out", help="Run directory (new or empty). Default: runs/<job>-<UTC time>/."),
]
EngineOpt = Annotated[
    str | None,
    typer.Option("--engine", help="spark or h2o, for your own .py (default: its imports)."),
]
DataPaths = Annotated[
    list[str] | None,
    typer.Option(
        "--data",
        help="Input file or directory (repeatable): at the same path, relative to the job's "
        "working directory, on this machine and on every node.",
        show_default=False,
    ),
]
Cores = Annotated[
    int | None,
    typer.Option(
        "--cores",
        min=1,
        help="Spark: cores for this application (default: the cluster's per-application share).",
        show_default=False,
    ),
]


def submit(
    job: JobArg,
    args: Args = None,
    local: Local = False,
    out_dir: OutDir = None,
    engine: EngineOpt = None,
    data_paths: DataPaths = None,
    cores: Cores = None,
    inventory: Inventory = None,
    profile_path: Profile = None,
) -> None:
    """Run JOB and keep its output, result.json and plots in a run directory.

    Your own Spark program runs with spark-submit semantics: getOrCreate() reaches the engine.

    Your own H2O program's h2o.init() reaches the cluster's cloud with your login, and
    h2o.import_file("x.csv") reads the x.csv given with --data (with --local: its own H2O).

    Either finds its run directory in DMLCTL_RUN_DIR, and runs in a work directory of its own
    (DMLCTL_WORK_DIR) holding its --data input; what it writes there, and the figures of
    plt.show(), end up in the run directory.

    A notebook runs top to bottom on a kernel here; the executed notebook is kept in the run
    directory, and a failing cell fails the job.
    """
    spec = joblib.resolve_job(job, engine)
    joblib.require_client(spec.engine)
    if spec.is_notebook:
        notebook.require_executor()
        notebook.parameters(args or [])  # checked before anything runs
    if cores is not None and spec.engine != "spark":
        raise UsageError("--cores applies to Spark jobs only", hint="leave --cores away")
    inputs = local_input.items(data_paths or [])
    if local:
        joblib.check_local_engine(spec.engine)
        inv, target = None, joblib.Target.local(cores)
    else:
        conn = connect(inventory, profile_path)
        inv, target = conn.inv, cluster_target.target(conn, spec.engine, cores)
        if spec.engine == "spark" and (differs := cluster_target.python_mismatch(conn)):
            err.print(
                f"[yellow]note:[/] {differs[0]}: DataFrame and ML work runs, Python UDFs and "
                f"RDD lambdas on the executors will fail ({differs[1]})",
                highlight=False,
                soft_wrap=True,
            )
    run_dir = joblib.make_run_dir(spec.name, out=out_dir)
    workdir, inputs, target = cluster_target.prepare_input(inv, spec, target, run_dir, inputs)
    err.print(
        f"[bold]{spec.name}[/] on {target.describe(spec.engine)} → {_shown(run_dir)}",
        highlight=False,
    )
    run = joblib.submit(spec, target, run_dir, args or (), workdir=workdir, inputs=inputs)
    show_run(run, out, _shown(run.run_dir))


def _shown(path: Path) -> str:
    """PATH relative to the current directory when inside it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
