"""`dmlctl logs`: a service's journal from one or every host."""

from typing import Annotated

import typer

from dmlctl import engines, inventory, runner
from dmlctl.commands.options import Inventory
from dmlctl.console import err, out
from dmlctl.errors import OperationError, UsageError

SERVICES = engines.SERVICES


def logs(
    service: Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}.")],
    inventory_path: Inventory = None,
    host: Annotated[str | None, typer.Option("--host", help="Only this host.")] = None,
    lines: Annotated[int, typer.Option("-n", "--lines", help="Lines per host.")] = 50,
) -> None:
    """Print the last lines of a service's journal from every host that runs it."""
    if service not in SERVICES:
        raise UsageError(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}.")
    if lines < 1:
        raise UsageError("-n must be at least 1.")
    unit, group = SERVICES[service].unit, SERVICES[service].group
    inv = inventory.load(inventory.resolve(inventory_path))
    hosts = inv.group(group)
    if host is not None:
        if host not in hosts:
            raise UsageError(
                f"{host!r} does not run {service} (hosts in {group}: {', '.join(hosts)})."
            )
        hosts = [host]
    if not hosts:
        raise UsageError(f"inventory {inv.path} has no hosts in {group}.")

    answers = runner.run_command(
        inv.path, hosts, f"journalctl --unit {unit} --lines {lines} --no-pager --output short-iso"
    )
    if not answers:
        raise OperationError("could not read the journals (no host answered).")
    for name in hosts:
        err.print(f"[bold cyan]── {name} · {unit}[/]")
        _, text = answers.get(name, (False, "(no answer)"))
        out.print(text, markup=False, highlight=False, soft_wrap=True)  # journal lines as they are
