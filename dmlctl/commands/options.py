"""Options shared by several command groups."""

from pathlib import Path
from typing import Annotated

import typer

Inventory = Annotated[
    Path | None,
    typer.Option(
        "--inventory",
        "-i",
        help="Ansible inventory (default: $DMLCTL_INVENTORY, the active lab, inventory/hosts.ini).",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")]
Profile = Annotated[
    Path | None,
    typer.Option(
        "--profile",
        help="Use the cluster through this access profile instead of an inventory "
        "(default: $DMLCTL_PROFILE).",
        show_default=False,
    ),
]
