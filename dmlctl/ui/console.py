"""Terminal output: results on stdout, human messages and progress on stderr."""

import json
from typing import Any

from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True)

INSECURE_WARNING = (
    "warning: security is OFF on this cluster (deployed insecure): anyone on the network can "
    "run code on it and read its data"
)


def print_json(data: Any) -> None:
    """Only JSON on stdout, so `--json` output can be piped."""
    print(json.dumps(data, indent=2))


def print_error(message: str, hint: str | None) -> None:
    """An expected failure: one line saying what is wrong, one saying what to run next."""
    # Plain text: messages quote user input and commands like `pip install 'dmlctl[jobs]'`.
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    if hint:
        err.print(f"  next: {escape(hint)}", highlight=False, soft_wrap=True)


def warn_if_insecure(is_secure: bool) -> None:
    if not is_secure:
        err.print(f"[yellow]{INSECURE_WARNING}[/]", highlight=False, soft_wrap=True)
