"""The tables commands print: doctor's findings, who has access, the published datasets, the
labs and their nodes."""

from rich.table import Table
from rich.text import Text

from dmlctl.lab.image import SUITES

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def doctor_table(findings: list) -> Table:
    """Doctor's findings (dmlctl.doctor.plan.Finding), a row each, with the fix."""
    table = Table("host", "check", "result", "detail", "fix", box=None)
    table.columns[3].overflow = table.columns[4].overflow = "fold"
    for f in findings:
        table.add_row(f.host, f.check, Text(f.status, style=_STYLE[f.status]), f.detail, f.fix)
    return table


def access_table(rows: list[dict]) -> Table:
    table = Table("name", "granted", "profile written to", box=None)
    for row in rows:
        table.add_row(row["name"], row.get("granted", "-"), row.get("profile", "-"))
    return table


def datasets_table(rows: list[dict]) -> Table:
    table = Table("dataset", "path", "size", "nodes", box=None)
    for row in rows:
        size = "-" if row["bytes"] is None else f"{row['bytes'] / 1e6:.2f} MB"
        holding = f"{len(row['nodes'])} of {row['nodes_expected']}"
        table.add_row(row["name"], row["path"], size, holding)
    return table


def labs_table(rows: list) -> Table:
    """Labs (dmlctl.lab.Lab), each with how many of its nodes run and whether it is active."""
    table = Table("lab", "nodes", "running", "inventory", box=None)
    table.columns[3].overflow = "fold"
    for lab, running, active in rows:
        table.add_row(
            lab.name + (" (active)" if active else ""),
            " ".join(f"{n.name}={n.ip}" for n in lab.nodes),
            f"{running}/{len(lab.nodes)}",
            str(lab.inventory),
        )
    return table


def nodes_table(nodes: list, groups: dict[str, list[str]]) -> Table:
    table = Table("node", "address", "system", "groups", box=None)
    for node in nodes:
        member_of = [group for group, members in groups.items() if node.name in members]
        table.add_row(node.name, node.ip, SUITES.get(node.os, node.os), ", ".join(member_of))
    return table
