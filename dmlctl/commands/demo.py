"""`dmlctl demo`: the whole story on one box."""

from typing import Annotated

import typer

from dmlctl import engines
from dmlctl import jobs as joblib
from dmlctl import lab as labs
from dmlctl.commands import cluster, status, submit
from dmlctl.commands.lab import report, show_nodes
from dmlctl.errors import UsageError
from dmlctl.ui.console import err

DEMO_LAB = "demo"


def _step(title: str) -> None:
    err.rule(f"[bold]{title}", align="left")


def demo(
    name: Annotated[str, typer.Option("--name", help="The lab's name.")] = DEMO_LAB,
) -> None:
    """Bring up a 3-node rehearsal lab, deploy Spark and H2O, show status, run both sample jobs.

    Runs again safely: a running demo lab is reused and the deploy then changes nothing.
    Each job's results are kept under runs/ in the current directory.
    """
    for engine in engines.NAMES:  # before making anything: the demo ends with a submit each
        joblib.require_client(engine)
    _step("1/4  rehearsal lab: 3 machines on this box")
    try:
        existing = labs.load(name)
    except UsageError:  # no demo lab yet
        existing = None
    if existing is not None and len(labs.running_nodes(existing)) == len(existing.nodes):
        err.print(f"reusing the running lab {name!r}")
        labs.set_active(name)
        lab = existing
    else:
        lab = labs.up(3, name, progress=report)
    show_nodes(lab)

    _step("2/4  dmlctl deploy: Java, Spark standalone, H2O")
    cluster.deploy(inventory_path=lab.inventory)

    _step("3/4  dmlctl status")
    status.status(inventory_path=lab.inventory)

    for job in ("spark-kmeans", "h2o-rf"):
        _step(f"4/4  dmlctl submit {job}")
        submit.submit(job=job, inventory=lab.inventory)
    err.print(
        f"\nDone. The lab stays up: `dmlctl status`, `dmlctl lab ssh node1`, "
        f"`dmlctl lab down --name {name}` when finished.",
        highlight=False,
    )
