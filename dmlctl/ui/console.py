"""Terminal output: results on stdout, human messages and progress on stderr.

`out` and `err` are rich consoles made on first use, so a command that only prints JSON
(`status --json`) never imports rich.
"""

import json
from typing import Any

_consoles: dict = {}


def _console(name: str):
    """The console NAME ("out" or "err"), both made the first time either is asked for."""
    if not _consoles:
        from rich.console import Console

        _consoles.update(out=Console(), err=Console(stderr=True))
    return _consoles[name]


def __getattr__(name: str):  # `from dmlctl.ui.console import err` asks here
    if name in ("out", "err"):
        return _console(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


INSECURE_WARNING = (
    "warning: security is OFF on this cluster (deployed insecure): anyone on the network can "
    "run code on it and read its data"
)


def print_json(data: Any) -> None:
    """Only JSON on stdout, so `--json` output can be piped."""
    print(json.dumps(data, indent=2))


def print_error(message: str, hint: str | None) -> None:
    """An expected failure: one line saying what is wrong, one saying what to run next."""
    from rich.markup import escape

    # Plain text: messages quote user input and commands like `pip install 'dmlctl[jobs]'`.
    err = _console("err")
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    if hint:
        err.print(f"  next: {escape(hint)}", highlight=False, soft_wrap=True)


def warn_if_insecure(is_secure: bool) -> None:
    if not is_secure:
        _console("err").print(f"[yellow]{INSECURE_WARNING}[/]", highlight=False, soft_wrap=True)
