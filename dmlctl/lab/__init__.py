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

from dmlctl.lab.image import ensure_base_image, recipe_digest
from dmlctl.lab.inventory import lab_groups
from dmlctl.lab.nodes import (
    MAX_NODES,
    down,
    lab_containers,
    require_removable,
    running_nodes,
    ssh_command,
    up,
)
from dmlctl.lab.power import restart as restart_node
from dmlctl.lab.power import start as start_node
from dmlctl.lab.power import stop as stop_node
from dmlctl.lab.state import (
    Lab,
    Node,
    active,
    lab_dir,
    list_labs,
    load,
    resolve_name,
    save,
    set_active,
    validate_name,
)

__all__ = [
    "MAX_NODES",
    "Lab",
    "Node",
    "active",
    "down",
    "ensure_base_image",
    "lab_containers",
    "lab_dir",
    "lab_groups",
    "list_labs",
    "load",
    "recipe_digest",
    "require_removable",
    "resolve_name",
    "restart_node",
    "running_nodes",
    "save",
    "set_active",
    "ssh_command",
    "start_node",
    "stop_node",
    "up",
    "validate_name",
]
