"""`dmlctl doctor`: check every machine before a deploy; a fix for every failure."""

import time

import typer

from dmlctl.commands.common import Inventory, Json
from dmlctl.doctor import plan
from dmlctl.doctor.examine import examine
from dmlctl.playbooks.inventory import load_cluster
from dmlctl.ui.console import err, out, print_json
from dmlctl.ui.tables import doctor_table


def doctor_command(inventory_path: Inventory = None, as_json: Json = False) -> None:
    """Check every host before a deploy: SSH and sudo, OS, Java, Python, memory, disk, engine
    ports, addresses and node-to-node reachability. Exit 1 on any failure."""
    inv = load_cluster(inventory_path, cached=True)
    started = time.monotonic()
    if as_json:
        findings = examine(inv)
    else:
        with err.status(f"checking {len(inv.hosts)} host(s)"):
            findings = examine(inv)
    seconds = time.monotonic() - started
    failed = plan.failures(findings)
    if as_json:
        print_json(plan.to_json(findings, seconds))
    else:
        out.print(doctor_table(findings))
        verdict = f"{len(failed)} failure(s)" if failed else "every host is ready"
        err.print(f"doctor: {verdict} ({len(inv.hosts)} hosts, {seconds:.1f} s)", highlight=False)
    if failed:
        raise typer.Exit(1)
