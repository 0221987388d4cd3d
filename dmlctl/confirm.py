"""Confirmation before commands that destroy something: asked on a terminal, `--yes` skips it."""

import sys
from typing import Annotated

import typer

from dmlctl.errors import OperationError, UsageError

Yes = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (for scripts).")
]


def confirm(action: str, *, yes: bool) -> None:
    """Go on only when YES is set or the user agrees, on the terminal, to ACTION (a phrase such
    as "remove lab 'x'"). Without a terminal to ask on, refuse (exit 2): scripts say --yes."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            f"refusing to {action} without confirmation (no terminal to ask on).",
            hint="add --yes to confirm",
        )
    if not typer.confirm(f"{action[0].upper()}{action[1:]}?", default=False, err=True):
        raise OperationError("cancelled; nothing was changed.")
