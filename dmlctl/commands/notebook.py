"""`dmlctl notebook`: JupyterLab here, its kernels reaching the cluster as submitted jobs do."""

from pathlib import Path
from typing import Annotated

import typer

from dmlctl.commands.common import Inventory, Profile, connect
from dmlctl.ui.console import err, out

Port = Annotated[
    int | None,
    typer.Option(
        "--port",
        help="Port on 127.0.0.1 (default: the first free one from 8888).",
        show_default=False,
    ),
]
Directory = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="The directory JupyterLab shows (default: the current one).",
        show_default=False,
    ),
]


def notebook(
    inventory: Inventory = None,
    profile_path: Profile = None,
    port: Port = None,
    directory: Directory = None,
) -> None:
    """Start JupyterLab here, its kernels wired to the cluster like `submit`; print its URL
    (Ctrl-C stops it).

    Its kernels reach the cluster as `dmlctl submit` does: SparkSession.builder.getOrCreate()
    joins the Spark master (with the cluster's secret), and h2o.init() the H2O cloud with your
    login and CA. It listens on 127.0.0.1 only; the URL carries its token.
    """
    from dmlctl.jobs import cluster_target, notebook_server
    from dmlctl.jobs.environment import cluster_environment

    notebook_server.require_jupyterlab()
    root = notebook_server.root_dir(directory)
    chosen = notebook_server.pick_port(port)
    conn = connect(inventory, profile_path)
    if differs := cluster_target.python_mismatch(conn):
        err.print(
            f"[yellow]note:[/] {differs[0]}: DataFrame and ML work runs, Python UDFs and "
            f"RDD lambdas on the executors will fail ({differs[1]})",
            highlight=False,
            soft_wrap=True,
        )
    with err.status("starting JupyterLab"):
        server = notebook_server.start(cluster_environment(conn), root, chosen)
    out.print(server.url, highlight=False, soft_wrap=True)
    err.print(
        f"JupyterLab serves {root}; its kernels reach {conn.ends.spark_master_url} and the H2O "
        "cloud. Ctrl-C stops it.",
        highlight=False,
    )
    try:
        code = server.process.wait()
    except KeyboardInterrupt:
        notebook_server.stop(server)
        err.print("JupyterLab stopped")
        return
    err.print(f"JupyterLab ended by itself (exit {code})")
    raise typer.Exit(1)
