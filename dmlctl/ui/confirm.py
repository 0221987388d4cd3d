"""Confirmation before commands that destroy something: asked on a terminal, `--yes` skips it."""

import sys

from dmlctl.errors import OperationError, UsageError


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
    from rich.prompt import Confirm

    from dmlctl.ui.console import err

    if not Confirm.ask(f"{action[0].upper()}{action[1:]}?", default=False, console=err):
        raise OperationError("cancelled; nothing was changed.")
