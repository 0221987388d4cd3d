"""Terminal output: results on stdout, human messages and progress on stderr."""

import json
from typing import Any

from rich.console import Console

out = Console()
err = Console(stderr=True)


def print_json(data: Any) -> None:
    """Only JSON on stdout, so `--json` output can be piped."""
    print(json.dumps(data, indent=2))
