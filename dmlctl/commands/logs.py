"""`dmlctl logs`: a service's journal from one or every host."""

from typing import Annotated

import typer

from dmlctl import engines
from dmlctl.commands.common import Inventory
from dmlctl.ui.console import err, out


def logs(
    service: Annotated[str, typer.Argument(help=f"One of: {', '.join(engines.SERVICES)}.")],
    inventory_path: Inventory = None,
    host: Annotated[str | None, typer.Option("--host", help="Only this host.")] = None,
    lines: Annotated[int, typer.Option("-n", "--lines", help="Lines per host.")] = 50,
) -> None:
    """Print the last lines of a service's journal from every host that runs it."""
    from dmlctl.cluster import journal

    unit, journals = journal.read(inventory_path, service, host, lines)
    for name, text in journals:
        err.print(f"[bold cyan]── {name} · {unit}[/]")
        out.print(text, markup=False, highlight=False, soft_wrap=True)  # journal lines as they are
