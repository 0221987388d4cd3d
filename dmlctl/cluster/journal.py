"""A service's journal from the hosts that run it (`dmlctl logs`)."""

from pathlib import Path

from dmlctl import engines
from dmlctl.errors import OperationError, UsageError
from dmlctl.playbooks import inventory, runner


def read(
    inventory_path: Path | None, service: str, host: str | None, lines: int
) -> tuple[str, list[tuple[str, str]]]:
    """SERVICE's unit and its last LINES journal lines per host ((host, text), in host order):
    from every host that runs it, or from HOST only."""
    if service not in engines.SERVICES:
        choices = ", ".join(engines.SERVICES)
        raise UsageError(f"unknown service {service!r}; choose one of {choices}.")
    if lines < 1:
        raise UsageError("-n must be at least 1.")
    unit, group = engines.SERVICES[service].unit, engines.SERVICES[service].group
    inv = inventory.load(inventory.resolve(inventory_path))  # any inventory: one service
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
    return unit, [(name, answers.get(name, (False, "(no answer)"))[1]) for name in hosts]
