"""A lab's life: creating its nodes (podman containers running systemd + sshd), finding
them, logging in, and removing everything a lab made.

Everything a lab creates carries the label `dmlctl.lab=NAME`, which is how leftovers of an
interrupted run are found and cleared.
"""

import contextlib
import ipaddress
import json
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from dmlctl.errors import OperationError, UsageError
from dmlctl.lab import podman
from dmlctl.lab.image import DEFAULT_SUITE, SUITES, Progress, ensure_base_image, quiet
from dmlctl.lab.inventory import Host, render_lab_inventory
from dmlctl.lab.state import (
    LAB_USER,
    Lab,
    Node,
    active_name,
    exists,
    lab_dir,
    save,
    set_active,
    validate_name,
)

LABEL = "dmlctl.lab"
MAX_NODES = 16
# `lab up --os`: one release for every node, or a lab mid-upgrade.
OS_CHOICES = (*SUITES, "mixed")
BOOT_TIMEOUT = 120.0


def _container_name(lab: str, node: str) -> str:
    return f"dmlctl-{lab}-{node}"


def _network_name(lab: str) -> str:
    return f"dmlctl-{lab}"


def lab_containers(name: str) -> list[dict]:
    proc = podman.run(["ps", "-a", "--filter", f"label={LABEL}={name}", "--format", "json"])
    return json.loads(proc.stdout or "[]")


def _remove_podman_objects(name: str) -> None:
    containers = [c["Id"] for c in lab_containers(name)]
    if containers:
        podman.run(["rm", "--force", "--time", "0", *containers])
    if podman.inspect("network", _network_name(name)) is not None:
        podman.run(["network", "rm", "--force", _network_name(name)])


def _clear_leftovers(name: str, progress: Progress) -> None:
    """A lab name is free unless one of its containers runs; stopped leftovers of an
    earlier run (a killed session, a reboot) are removed."""
    running = [c for c in lab_containers(name) if c.get("State") == "running"]
    if running:
        raise UsageError(
            f"lab name {name!r} is in use: {len(running)} of its nodes are running.",
            hint=f"use it as it is, pick another --name, or run `dmlctl lab down --name {name}`",
        )
    if lab_containers(name) or podman.inspect("network", _network_name(name)):
        progress(f"clearing stopped leftovers of an earlier lab {name!r}")
    _remove_podman_objects(name)
    shutil.rmtree(lab_dir(name), ignore_errors=True)


def node_suites(os_choice: str, count: int) -> list[str]:
    """The release of each node: `mixed` alternates Debian 12 and 13, the master (node1) on 12,
    as a lab that upgrades a few machines at a time."""
    if os_choice not in OS_CHOICES:
        raise UsageError(f"--os must be one of {', '.join(OS_CHOICES)}, not {os_choice!r}.")
    if os_choice != "mixed":
        return [os_choice] * count
    return ["bookworm" if i % 2 == 0 else "trixie" for i in range(count)]


def up(
    nodes: int = 3, name: str = "lab", *, os: str = DEFAULT_SUITE, progress: Progress = quiet
) -> Lab:
    """Create a lab of `nodes` machines; on any failure remove everything it created."""
    validate_name(name)
    if not 1 <= nodes <= MAX_NODES:
        raise UsageError(f"--nodes must be between 1 and {MAX_NODES}, not {nodes}.")
    suites = node_suites(os, nodes)
    podman.require()
    _clear_leftovers(name, progress)
    images = {suite: ensure_base_image(suite, progress=progress) for suite in sorted(set(suites))}
    started = time.monotonic()
    try:
        lab = _create(name, [images[s] for s in suites], suites, progress)
    except BaseException:
        progress(f"lab {name!r} failed; removing what was created")
        _remove_podman_objects(name)
        shutil.rmtree(lab_dir(name), ignore_errors=True)
        raise
    set_active(name)
    progress(f"lab {name!r} is up: {nodes} nodes in {time.monotonic() - started:.1f} s")
    return lab


def _create(name: str, images: list[str], suites: list[str], progress: Progress) -> Lab:
    count = len(images)
    directory = lab_dir(name)
    directory.mkdir(parents=True)
    key = directory / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"dmlctl-lab-{name}", "-f", str(key)],
        check=True, capture_output=True,
    )  # fmt: skip
    network = _network_name(name)
    progress(f"creating network {network}")
    podman.run(["network", "create", "--label", f"{LABEL}={name}", network])
    subnet = network_subnet(network)

    node_names = [f"node{i}" for i in range(1, count + 1)]
    addresses = node_addresses(subnet, count)
    for node, ip, image, suite in zip(node_names, addresses, images, suites, strict=True):
        progress(f"starting {node} at {ip} ({SUITES[suite]})")
        podman.run(
            [
                "run", "--detach", "--systemd=always",
                "--name", _container_name(name, node), "--hostname", node,
                "--network", network, "--ip", ip, "--label", f"{LABEL}={name}",
                image, "/sbin/init",
            ]
        )  # fmt: skip

    public_key = key.with_suffix(".pub").read_text()
    progress(f"waiting for systemd and sshd on {count} node(s)")
    with ThreadPoolExecutor(max_workers=min(count, 8)) as pool:
        nodes = list(
            pool.map(
                lambda n, suite: _prepare_node(name, n, network, public_key, suite),
                node_names,
                suites,
            )
        )

    lab = Lab(
        name=name,
        network=network,
        nodes=tuple(nodes),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        subnet=subnet,
    )
    hosts = [Host(n.name, n.ip) for n in nodes]
    lab.inventory.write_text(
        render_lab_inventory(hosts, lab=name, user=LAB_USER, private_key=lab.private_key)
    )
    save(lab)
    return lab


def network_subnet(network: str) -> str:
    """The IPv4 subnet podman gave NETWORK (`10.89.3.0/24`)."""
    info = podman.inspect("network", network) or {}
    for entry in info.get("subnets") or []:
        if ipaddress.ip_network(entry["subnet"]).version == 4:
            return entry["subnet"]
    raise OperationError(f"network {network} has no IPv4 subnet.")


def node_addresses(subnet: str, count: int) -> list[str]:
    """Fixed addresses for COUNT nodes: the subnet's hosts from .11 on (.1 is the gateway).

    A node keeps its address across restarts, as a lab machine keeps its own across reboots.
    """
    hosts = list(ipaddress.ip_network(subnet).hosts())[10 : 10 + count]
    if len(hosts) < count:
        raise OperationError(f"subnet {subnet} has no room for {count} nodes.")
    return [str(ip) for ip in hosts]


def _prepare_node(lab: str, node: str, network: str, public_key: str, suite: str) -> Node:
    container = _container_name(lab, node)
    info = podman.inspect("container", container) or {}
    ip = info.get("NetworkSettings", {}).get("Networks", {}).get(network, {}).get("IPAddress")
    if not ip:
        raise OperationError(f"{node} got no address on network {network}.")
    podman.run(
        [
            "exec", "-i", container, "sh", "-c",
            f"umask 077 && mkdir -p ~{LAB_USER}/.ssh && cat > ~{LAB_USER}/.ssh/authorized_keys"
            f" && chown -R {LAB_USER}: ~{LAB_USER}/.ssh",
        ],
        input=public_key,
    )  # fmt: skip
    wait_for_boot(node, container, ip)
    return Node(name=node, container=container, ip=ip, os=suite)


def wait_for_boot(node: str, container: str, ip: str) -> None:
    """Wait until systemd has booted NODE and its sshd answers."""
    _wait_for_systemd(node, container)
    _wait_for_sshd(node, ip)


def _wait_for_systemd(node: str, container: str) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    state = "unknown"
    while time.monotonic() < deadline:
        proc = podman.run(["exec", container, "systemctl", "is-system-running"], check=False)
        state = proc.stdout.strip() or "unknown"
        if state == "running":
            return
        if state == "degraded":
            failed = podman.run(
                ["exec", container, "systemctl", "list-units", "--failed", "--plain",
                 "--no-legend", "--no-pager"], check=False,
            ).stdout.split()  # fmt: skip
            units = [u for u in failed if u.endswith((".service", ".socket", ".mount"))]
            raise OperationError(f"{node} booted degraded: failed units {', '.join(units)}.")
        time.sleep(0.3)
    raise OperationError(f"{node}: systemd not up after {BOOT_TIMEOUT:.0f} s (state {state}).")


def _wait_for_sshd(node: str, ip: str) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((ip, 22), timeout=2) as sock:
            if sock.recv(64).startswith(b"SSH-"):
                return
        time.sleep(0.3)
    raise OperationError(f"{node}: sshd on {ip}:22 did not answer within {BOOT_TIMEOUT:.0f} s.")


def require_removable(name: str) -> None:
    """Raise UsageError unless lab NAME has state, containers or a network to remove."""
    validate_name(name)
    known = exists(name)
    podman.require()
    if (
        not known
        and not lab_containers(name)
        and not podman.inspect("network", _network_name(name))
    ):
        raise UsageError(f"no lab named {name!r}.", hint="`dmlctl lab ls` lists the labs")


def down(name: str, *, progress: Progress = quiet) -> None:
    """Remove a lab's containers, network, key, inventory and state."""
    require_removable(name)
    progress(f"removing lab {name!r}")
    _remove_podman_objects(name)
    shutil.rmtree(lab_dir(name), ignore_errors=True)
    if active_name() == name:
        set_active(None)


def running_nodes(lab: Lab) -> set[str]:
    """Names of the lab's nodes whose containers are running now."""
    by_container = {n.container: n.name for n in lab.nodes}
    return {
        by_container[c["Names"][0]]
        for c in lab_containers(lab.name)
        if c.get("State") == "running" and c["Names"][0] in by_container
    }


def ssh_command(lab: Lab, node: str, command: list[str]) -> list[str]:
    """The ssh command line that logs into a lab node as the lab user."""
    target = lab.node(node)
    return [
        "ssh", "-i", str(lab.private_key),
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
        "-o", "LogLevel=ERROR",
        f"{LAB_USER}@{target.ip}", *command,
    ]  # fmt: skip
