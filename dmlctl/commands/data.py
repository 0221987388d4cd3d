"""`dmlctl data push|ls|rm`: datasets published on every node (and here) for a whole class."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dmlctl import inventory, staging
from dmlctl.commands.options import Inventory, Json
from dmlctl.console import err, out, print_json

app = typer.Typer(
    help="Datasets published to every node at one path, for every user's jobs.",
    no_args_is_help=True,
)


def _inventory(path: Path | None):
    inv = inventory.load_cached(inventory.resolve(path))
    inv.require_cluster_groups()
    return inv


@app.command()
def push(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to publish.")],
    inventory_path: Inventory = None,
) -> None:
    """Publish files or directories at /srv/dmlctl/datasets/NAME here and on every node.

    Any job then reads them by that absolute path, with no --data. A dataset of the same name
    is replaced.
    """
    inv = _inventory(inventory_path)
    for path in staging.publish(inv, paths):
        out.print(f"published {path}", highlight=False)


@app.command("ls")
def list_datasets(inventory_path: Inventory = None, as_json: Json = False) -> None:
    """List the published datasets and the nodes that hold them."""
    rows = staging.published(_inventory(inventory_path))
    if as_json:
        print_json(rows)
        return
    if not rows:
        err.print(f"no datasets published in {staging.DATASETS_DIR}")
        return
    table = Table("dataset", "path", "size", "nodes", box=None)
    for row in rows:
        size = "-" if row["bytes"] is None else f"{row['bytes'] / 1e6:.2f} MB"
        nodes = f"{len(row['nodes'])} of {row['nodes_expected']}"
        table.add_row(row["name"], row["path"], size, nodes)
    out.print(table)
    if rows[0]["unreachable"]:
        err.print(f"unreachable: {', '.join(rows[0]['unreachable'])}")


@app.command("rm")
def remove(
    name: Annotated[str, typer.Argument(help="The dataset's name (see `dmlctl data ls`).")],
    inventory_path: Inventory = None,
) -> None:
    """Remove a published dataset here and from every node."""
    staging.unpublish(_inventory(inventory_path), name)
    out.print(f"removed {staging.DATASETS_DIR / name}", highlight=False)
