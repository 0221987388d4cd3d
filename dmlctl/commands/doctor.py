"""`dmlctl doctor`: check every machine before a deploy; a fix for every failure."""

import time

import typer
from rich.table import Table
from rich.text import Text

from dmlctl import doctor, doctor_checks, inventory
from dmlctl.commands.options import Inventory, Json
from dmlctl.console import err, out, print_json
from dmlctl.errors import OperationError

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def render(findings: list[doctor.Finding]) -> Table:
    table = Table("host", "check", "result", "detail", "fix", box=None)
    table.columns[3].overflow = table.columns[4].overflow = "fold"
    for f in findings:
        table.add_row(f.host, f.check, Text(f.status, style=_STYLE[f.status]), f.detail, f.fix)
    return table


def examine(
    inv: inventory.ClusterInventory, *, limit: str | None = None, quiet: bool = False
) -> list[doctor.Finding]:
    """Every finding for the hosts of INV (those LIMIT selects): settings, then one probe."""
    plans = doctor.plan(inv)
    if limit is not None:
        plans = {h: p for h, p in plans.items() if h in inv.hosts_matching(limit)}
    findings = doctor.settings_findings(inv, plans)
    if quiet:
        answers = doctor.probe(inv.path, plans, limit)
    else:
        with err.status(f"checking {len(plans)} host(s)"):
            answers = doctor.probe(inv.path, plans, limit)
    return findings + doctor_checks.evaluate(inv, plans, answers)


def check_before_deploy(inv: inventory.ClusterInventory, limit: str | None, as_json: bool) -> None:
    """deploy's first step: stop before changing anything when a host is unfit. A host that
    does not answer is left to the deploy, so the others still converge and its recap names it."""
    findings = examine(inv, limit=limit, quiet=as_json)
    blocking = [f for f in doctor.failures(findings) if f.check != "ssh"]
    if not blocking:
        return
    if as_json:
        print_json({"ok": False, "hosts": {}, "doctor": doctor.to_json(blocking, 0)["checks"]})
    else:
        err.print(render(blocking))
    raise OperationError(
        f"deploy stopped before changing anything: {len(blocking)} check(s) failed (above).",
        hint="fix them, then run `dmlctl deploy` again (`dmlctl doctor` checks without deploying)",
    )


def doctor_command(inventory_path: Inventory = None, as_json: Json = False) -> None:
    """Check every host before a deploy: SSH and sudo, OS, Java, Python, memory, disk, engine
    ports, addresses and node-to-node reachability. Exit 1 on any failure."""
    inv = inventory.load_cached(inventory.resolve(inventory_path))
    inv.require_cluster_groups()
    started = time.monotonic()
    findings = examine(inv, quiet=as_json)
    seconds = time.monotonic() - started
    failed = doctor.failures(findings)
    if as_json:
        print_json(doctor.to_json(findings, seconds))
    else:
        out.print(render(findings))
        verdict = f"{len(failed)} failure(s)" if failed else "every host is ready"
        err.print(f"doctor: {verdict} ({len(inv.hosts)} hosts, {seconds:.1f} s)", highlight=False)
    if failed:
        raise typer.Exit(1)
