"""The tables commands print: doctor's findings, who has access, the published datasets."""

from rich.table import Table
from rich.text import Text

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


def plain_table(columns: list[str], rows: list[list[str]], fold: tuple[int, ...] = ()) -> Table:
    """A borderless table, a row per item; cells of the FOLD columns wrap instead of cropping."""
    table = Table(*columns, box=None)
    for index in fold:
        table.columns[index].overflow = "fold"
    for row in rows:
        table.add_row(*row)
    return table
