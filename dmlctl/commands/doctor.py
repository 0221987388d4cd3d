"""`dmlctl doctor`: check every machine before a deploy; a fix for every failure."""

import time

import typer
from rich.table import Table
from rich.text import Text

from dmlctl import doctor, doctor_checks, inventory
from dmlctl.commands.options import Inventory, Json
from dmlctl.console import err, out, print_json

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def render(findings: list[doctor.Finding]) -> Table:
    table = Table("host", "check", "result", "detail", "fix", box=None)
    table.columns[3].overflow = table.columns[4].overflow = "fold"
    for f in findings:
        table.add_row(f.host, f.check, Text(f.status, style=_STYLE[f.status]), f.detail, f.fix)
    return table


def doctor(inventory_path: Inventory = None, as_json: Json = False) -> None:
    """Check every host before a deploy: SSH and sudo, OS, Java, Python, memory, disk, engine
    ports, addresses and node-to-node reachability. Exit 1 on any failure."""
    inv = inventory.load_cached(inventory.resolve(inventory_path))
    inv.require_cluster_groups()
    started = time.monotonic()
    plans = doctor.plan(inv)
    findings = doctor.settings_findings(inv, plans)
    if as_json:
        answers = doctor.probe(inv.path, plans)
    else:
        with err.status(f"probing {len(plans)} host(s)"):
            answers = doctor.probe(inv.path, plans)
    findings += doctor_checks.evaluate(inv, plans, answers)
    seconds = time.monotonic() - started
    failed = doctor.failures(findings)
    if as_json:
        print_json(doctor.to_json(findings, seconds))
    else:
        out.print(render(findings))
        verdict = f"{len(failed)} failure(s)" if failed else "every host is ready"
        err.print(f"doctor: {verdict} ({len(plans)} hosts, {seconds:.1f} s)", highlight=False)
    if failed:
        raise typer.Exit(1)
