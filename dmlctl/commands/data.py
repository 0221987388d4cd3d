"""`dmlctl data push|ls|rm`: datasets published on every node (and here) for a whole class."""

from pathlib import Path
from typing import Annotated

import typer

from dmlctl.commands.common import Inventory, Json
from dmlctl.playbooks.inventory import load_cluster
from dmlctl.staging import datasets
from dmlctl.ui.console import err, out, print_json
from dmlctl.ui.tables import datasets_table

app = typer.Typer(
    help="Datasets published to every node at one path, for every user's jobs.",
    no_args_is_help=True,
)


@app.command()
def push(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to publish.")],
    inventory_path: Inventory = None,
) -> None:
    """Publish files or directories at /srv/dmlctl/datasets/NAME here and on every node.

    Any job then reads them by that absolute path, with no --data. A dataset of the same name
    is replaced.
    """
    inv = load_cluster(inventory_path, cached=True)
    for path in datasets.publish(inv, paths):
        out.print(f"published {path}", highlight=False)


@app.command("ls")
def list_datasets(inventory_path: Inventory = None, as_json: Json = False) -> None:
    """List the published datasets and the nodes that hold them."""
    rows = datasets.published(load_cluster(inventory_path, cached=True))
    if as_json:
        print_json(rows)
        return
    if not rows:
        err.print(f"no datasets published in {datasets.DATASETS_DIR}")
        return
    out.print(datasets_table(rows))
    if rows[0]["unreachable"]:
        err.print(f"unreachable: {', '.join(rows[0]['unreachable'])}")


@app.command("rm")
def remove(
    name: Annotated[str, typer.Argument(help="The dataset's name (see `dmlctl data ls`).")],
    inventory_path: Inventory = None,
) -> None:
    """Remove a published dataset here and from every node."""
    datasets.unpublish(load_cluster(inventory_path, cached=True), name)
    out.print(f"removed {datasets.DATASETS_DIR / name}", highlight=False)
