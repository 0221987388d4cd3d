"""Faults to rehearse: a lab node lost (stopped, as by a power cut), booted again, rebooted.

A node keeps its address (fixed when the lab was made), so what comes back is the same machine,
and systemd starts its enabled services as a lab machine's would after a reboot.
"""

from dmlctl.errors import OperationError, UsageError
from dmlctl.lab import podman
from dmlctl.lab.image import Progress, quiet
from dmlctl.lab.nodes import running_nodes, wait_for_boot
from dmlctl.lab.state import Lab, Node

# Seconds systemd gets to shut down cleanly on a reboot (podman's stop signal for a systemd
# container is SIGRTMIN+3, a clean halt); a stop is a power cut and gets none.
REBOOT_GRACE = 10


def _node(lab: Lab, name: str) -> Node:
    node = lab.node(name)
    if not lab.subnet:
        raise UsageError(
            f"lab {lab.name!r} was made before lab nodes had fixed addresses: a restarted node "
            "would come back with another one.",
            hint=f"make it again: `dmlctl lab down --name {lab.name}` then `dmlctl lab up`",
        )
    return node


def _check_address(lab: Lab, node: Node) -> None:
    info = podman.inspect("container", node.container) or {}
    ip = info.get("NetworkSettings", {}).get("Networks", {}).get(lab.network, {}).get("IPAddress")
    if ip != node.ip:
        raise OperationError(f"{node.name} came back at {ip}, not at its address {node.ip}.")


def stop(lab: Lab, name: str, *, progress: Progress = quiet) -> Node:
    """Cut NODE's power: its container stops at once, nothing on it shuts down cleanly."""
    node = _node(lab, name)
    if node.name not in running_nodes(lab):
        progress(f"{node.name} is already stopped")
        return node
    progress(f"stopping {node.name} ({node.ip}) at once, as a power cut would")
    podman.run(["stop", "--time", "0", node.container])
    return node


def start(lab: Lab, name: str, *, progress: Progress = quiet) -> Node:
    """Boot a stopped NODE again at its address; return once systemd and sshd are up."""
    node = _node(lab, name)
    if node.name in running_nodes(lab):
        progress(f"{node.name} is already running")
        return node
    progress(f"booting {node.name} at {node.ip}")
    podman.run(["start", node.container])
    _check_address(lab, node)
    wait_for_boot(node.name, node.container, node.ip)
    return node


def restart(lab: Lab, name: str, *, progress: Progress = quiet) -> Node:
    """Reboot NODE: systemd shuts it down cleanly, it boots again at its address."""
    node = _node(lab, name)
    progress(f"rebooting {node.name} ({node.ip})")
    podman.run(["restart", "--time", str(REBOOT_GRACE), node.container])
    _check_address(lab, node)
    wait_for_boot(node.name, node.container, node.ip)
    return node
