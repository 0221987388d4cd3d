"""The Ansible inventory `lab up` writes for a lab: its layout and its variables."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dmlctl import engines

LAB_H2O_HEAP = "1g"
LAB_SPARK_WORKER_MEMORY = "2g"


@dataclass(frozen=True)
class Host:
    name: str
    ip: str


def lab_groups(names: Sequence[str]) -> dict[str, list[str]]:
    """A lab's layout: the first node is the Spark master, the rest are workers (a single node
    is a worker too), and every node is an H2O node."""
    master, *others = names
    return {
        engines.SPARK_MASTER_GROUP: [master],
        engines.SPARK_WORKERS_GROUP: others or [master],
        engines.H2O_GROUP: list(names),
    }


def render_lab_inventory(hosts: Sequence[Host], *, lab: str, user: str, private_key: Path) -> str:
    """INI inventory for a lab laid out by `lab_groups`.

    SSH host keys are not checked: lab nodes are recreated with new keys all the time.
    Every node sees the whole box's memory, so heaps are sized for a lab, not from facts.
    Artifacts come from the pinned packages on this machine (no download on every lab).
    """
    if not hosts:
        raise ValueError("a lab inventory needs at least one host")
    groups = lab_groups([h.name for h in hosts])
    lines = [
        f"# Written by `dmlctl lab up` for the rehearsal lab {lab!r}; rewritten on every lab up.",
        *(f"{h.name} ansible_host={h.ip}" for h in hosts),
        "",
    ]
    for group, members in groups.items():
        lines += [f"[{group}]", *members, ""]
    lines += [
        "[all:vars]",
        f"ansible_user={user}",
        f"ansible_ssh_private_key_file={private_key}",
        "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'",
        "ansible_python_interpreter=/usr/bin/python3",
        f"dmlctl_lab={lab}",
        "dmlctl_artifact_source=bundle",
        f"h2o_max_heap={LAB_H2O_HEAP}",
        f"spark_worker_memory={LAB_SPARK_WORKER_MEMORY}",
        "",
    ]
    return "\n".join(lines)
