"""The rehearsal lab: N real machines on one box (podman containers running systemd + sshd).

Each node gets its own IP on a lab network, an sshd that accepts the lab's key for the
sudo-capable user `sysadm`, and an Ansible inventory, so the same playbooks that target bare
metal can target the lab.

- `state`: a lab as recorded on disk, the list of labs and the active one;
- `image`: the base image the nodes run;
- `inventory`: the Ansible inventory written for a lab;
- `nodes`: creating, finding, reaching and removing a lab's nodes;
- `power`: faults to rehearse (a node stopped, started, rebooted; it keeps its address);
- `podman`: the one place dmlctl runs podman.
"""

import importlib

# What the package offers, from the module that holds it: imported on first use, so that
# reading the active lab (every command's inventory lookup) does not load podman's driver.
_EXPORTS = {
    "ensure_base_image": ("image", "ensure_base_image"),
    "recipe_digest": ("image", "recipe_digest"),
    "lab_groups": ("inventory", "lab_groups"),
    "MAX_NODES": ("nodes", "MAX_NODES"),
    "down": ("nodes", "down"),
    "lab_containers": ("nodes", "lab_containers"),
    "require_removable": ("nodes", "require_removable"),
    "running_nodes": ("nodes", "running_nodes"),
    "ssh_command": ("nodes", "ssh_command"),
    "up": ("nodes", "up"),
    "restart_node": ("power", "restart"),
    "start_node": ("power", "start"),
    "stop_node": ("power", "stop"),
    "Lab": ("state", "Lab"),
    "Node": ("state", "Node"),
    "active": ("state", "active"),
    "lab_dir": ("state", "lab_dir"),
    "list_labs": ("state", "list_labs"),
    "load": ("state", "load"),
    "resolve_name": ("state", "resolve_name"),
    "save": ("state", "save"),
    "set_active": ("state", "set_active"),
    "validate_name": ("state", "validate_name"),
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dmlctl.lab' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    return getattr(importlib.import_module(f"dmlctl.lab.{module}"), attribute)
