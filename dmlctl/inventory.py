"""Ansible inventories: writing the rehearsal lab's, and finding the one a command uses."""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dmlctl.errors import UsageError
from dmlctl.paths import PROJECT_DIR

DEFAULT_INVENTORY = PROJECT_DIR / "inventory" / "hosts.ini"


@dataclass(frozen=True)
class Host:
    name: str
    ip: str


def render_lab_inventory(hosts: Sequence[Host], *, lab: str, user: str, private_key: Path) -> str:
    """INI inventory for a lab: first host is the Spark master, the rest workers, all H2O.

    A single-host lab puts that host in every group, so it runs a worker too.
    SSH host keys are not checked: lab nodes are recreated with new keys all the time.
    """
    if not hosts:
        raise ValueError("a lab inventory needs at least one host")
    master, *others = hosts
    workers = others or [master]
    lines = [
        f"# Written by `dmlctl lab up` for the rehearsal lab {lab!r}; rewritten on every lab up.",
        *(f"{h.name} ansible_host={h.ip}" for h in hosts),
        "",
        "[spark_master]",
        master.name,
        "",
        "[spark_workers]",
        *(h.name for h in workers),
        "",
        "[h2o_nodes]",
        *(h.name for h in hosts),
        "",
        "[all:vars]",
        f"ansible_user={user}",
        f"ansible_ssh_private_key_file={private_key}",
        "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'",
        "ansible_python_interpreter=/usr/bin/python3",
        f"dmlctl_lab={lab}",
        "",
    ]
    return "\n".join(lines)


def resolve(explicit: Path | None = None) -> Path:
    """The inventory a command uses: -i, then $DMLCTL_INVENTORY, then the active lab's,
    then inventory/hosts.ini in the project."""
    from dmlctl import lab  # lab imports this module; resolve is only called at run time

    if explicit is not None:
        source, path = "-i", explicit
    elif env := os.environ.get("DMLCTL_INVENTORY"):
        source, path = "DMLCTL_INVENTORY", Path(env)
    elif (active := lab.active()) is not None:
        source, path = f"the active lab {active.name!r}", active.inventory
    else:
        source, path = "the default", DEFAULT_INVENTORY
    if not path.is_file():
        raise UsageError(
            f"inventory {path} (from {source}) does not exist.",
            hint="pass -i INVENTORY, set DMLCTL_INVENTORY, or create a lab with `dmlctl lab up`",
        )
    return path
