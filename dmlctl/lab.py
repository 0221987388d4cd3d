"""The rehearsal lab: N real machines on one box (podman containers running systemd + sshd).

Each node gets its own IP on a lab network, an sshd that accepts the lab's key for the
sudo-capable user `sysadm`, and an Ansible inventory, so the same playbooks that target bare
metal can target the lab. Everything a lab creates carries the label `dmlctl.lab=NAME`, which
is how leftovers of an interrupted run are found and cleared.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from dmlctl import podman
from dmlctl.errors import OperationError, UsageError
from dmlctl.inventory import Host, render_lab_inventory
from dmlctl.paths import cache_dir, state_dir

BASE_IMAGE = "localhost/dmlctl-base:bookworm"
DEBIAN_SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# What a bare Debian 12 lab machine offers Ansible: systemd, python3, sshd, sudo.
BASE_PACKAGES = (
    "systemd", "systemd-sysv", "dbus", "python3", "openssh-server", "sudo",
    "iproute2", "procps", "ca-certificates",
)  # fmt: skip
LAB_USER = "sysadm"
LABEL = "dmlctl.lab"
RECIPE_LABEL = "dmlctl.recipe"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
MAX_NODES = 16
BOOT_TIMEOUT = 120.0

# sshd host keys are made on each node's first boot, so nodes never share them.
HOSTKEYS_UNIT = """\
[Unit]
Description=Generate SSH host keys for this lab node
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
"""

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class Node:
    name: str
    container: str
    ip: str


@dataclass(frozen=True)
class Lab:
    name: str
    network: str
    nodes: tuple[Node, ...]
    created: str

    @property
    def dir(self) -> Path:
        return lab_dir(self.name)

    @property
    def inventory(self) -> Path:
        return self.dir / "inventory.ini"

    @property
    def private_key(self) -> Path:
        return self.dir / "id_ed25519"

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if name in (node.name, node.ip):
                return node
        names = ", ".join(n.name for n in self.nodes)
        raise UsageError(f"lab {self.name!r} has no node {name!r} (it has {names}).")

    def to_json(self) -> dict:
        return {**asdict(self), "inventory": str(self.inventory)}

    @classmethod
    def from_json(cls, data: dict) -> "Lab":
        return cls(
            name=data["name"],
            network=data["network"],
            nodes=tuple(Node(**n) for n in data["nodes"]),
            created=data["created"],
        )


# ---------------------------------------------------------------- state on disk


def labs_dir() -> Path:
    return state_dir() / "labs"


def lab_dir(name: str) -> Path:
    return labs_dir() / name


def _active_file() -> Path:
    return state_dir() / "active-lab"


def validate_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise UsageError(
            f"invalid lab name {name!r}: use 1-24 lowercase letters, digits or '-', "
            "starting with a letter."
        )


def load(name: str) -> Lab:
    validate_name(name)
    path = lab_dir(name) / "lab.json"
    if not path.is_file():
        raise UsageError(f"no lab named {name!r}.", hint="`dmlctl lab ls` lists the labs")
    return Lab.from_json(json.loads(path.read_text()))


def save(lab: Lab) -> None:
    path = lab.dir / "lab.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(lab.to_json(), indent=2) + "\n")
    tmp.replace(path)


def list_labs() -> list[Lab]:
    if not labs_dir().is_dir():
        return []
    return [Lab.from_json(json.loads(p.read_text())) for p in sorted(labs_dir().glob("*/lab.json"))]


def active() -> Lab | None:
    """The lab that commands use when no inventory is given, if it still exists."""
    try:
        name = _active_file().read_text().strip()
        return load(name)
    except (FileNotFoundError, UsageError):
        return None


def set_active(name: str | None) -> None:
    if name is None:
        _active_file().unlink(missing_ok=True)
    else:
        _active_file().parent.mkdir(parents=True, exist_ok=True)
        _active_file().write_text(name + "\n")


def resolve_name(name: str | None) -> str:
    """--name if given, else the active lab, else the only lab there is."""
    if name is not None:
        return name
    if (lab := active()) is not None:
        return lab.name
    labs = list_labs()
    if len(labs) == 1:
        return labs[0].name
    raise UsageError(
        "no active lab; say which one with --name.",
        hint="`dmlctl lab ls` lists the labs, `dmlctl lab up` creates one",
    )


# ---------------------------------------------------------------- base image


def recipe_digest(mirror: str = DEFAULT_MIRROR) -> str:
    """Changes whenever what goes into the base image changes, so a stale image is rebuilt."""
    recipe = json.dumps([DEBIAN_SUITE, mirror, BASE_PACKAGES, LAB_USER, HOSTKEYS_UNIT])
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def _image_is_current(digest: str) -> bool:
    info = podman.inspect("image", BASE_IMAGE)
    labels = (info or {}).get("Config", {}).get("Labels") or {}
    return labels.get(RECIPE_LABEL) == digest


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """Serialise image builds across processes (tests, molecule and users share the image)."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ensure_base_image(*, rebuild: bool = False, progress: Progress = _quiet) -> str:
    """Build the lab's base image once (debootstrap + podman import) and reuse it."""
    podman.require()
    mirror = os.environ.get("DMLCTL_DEBIAN_MIRROR", DEFAULT_MIRROR)
    digest = recipe_digest(mirror)
    with _locked("base-image"):
        if not rebuild and _image_is_current(digest):
            return BASE_IMAGE
        if shutil.which("debootstrap") is None:
            raise UsageError(
                "debootstrap not found: it builds the lab's base image.", hint="run `make setup`"
            )
        progress(f"building the lab base image {BASE_IMAGE} (Debian {DEBIAN_SUITE}, once)")
        cache_dir().mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="rootfs-", dir=cache_dir()) as tmp:
            rootfs = Path(tmp) / "rootfs"
            _debootstrap(rootfs, mirror, progress)
            _customise_rootfs(rootfs, mirror)
            progress("importing the root filesystem into podman")
            _import_rootfs(rootfs, digest)
    return BASE_IMAGE


def _debootstrap(rootfs: Path, mirror: str, progress: Progress) -> None:
    progress(f"debootstrap {DEBIAN_SUITE} from {mirror} (about a minute)")
    proc = subprocess.run(
        [
            "debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}",
            DEBIAN_SUITE, str(rootfs), mirror,
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-3:]
        raise OperationError(
            "debootstrap failed: " + " | ".join(tail),
            hint="check that this machine reaches the Debian mirror (DMLCTL_DEBIAN_MIRROR)",
        )


def _customise_rootfs(rootfs: Path, mirror: str) -> None:
    """Make the bare system behave like a freshly installed lab machine."""

    def chroot(*cmd: str) -> None:
        subprocess.run(["chroot", str(rootfs), *cmd], check=True, capture_output=True)

    chroot("useradd", "--create-home", "--shell", "/bin/bash", "--groups", "sudo", LAB_USER)
    sudoers = rootfs / "etc/sudoers.d/dmlctl-lab"
    sudoers.write_text(f"{LAB_USER} ALL=(ALL) NOPASSWD:ALL\n")
    sudoers.chmod(0o440)

    for key in (rootfs / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    unit = rootfs / "etc/systemd/system/ssh-hostkeys.service"
    unit.write_text(HOSTKEYS_UNIT)
    wants = rootfs / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    (wants / unit.name).symlink_to(f"/etc/systemd/system/{unit.name}")

    security = mirror.replace("/debian", "/debian-security")
    (rootfs / "etc/apt/sources.list").write_text(
        f"deb {mirror} {DEBIAN_SUITE} main\n"
        f"deb {mirror} {DEBIAN_SUITE}-updates main\n"
        f"deb {security} {DEBIAN_SUITE}-security main\n"
    )
    # A container has no consoles: gettys would only fail and mark the system degraded.
    for masked in ("getty@tty1.service", "console-getty.service", "systemd-udevd.service"):
        link = rootfs / "etc/systemd/system" / masked
        link.unlink(missing_ok=True)
        link.symlink_to("/dev/null")
    shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
    (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True)
    (rootfs / "etc/machine-id").write_text("")


def _import_rootfs(rootfs: Path, digest: str) -> None:
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    imp = subprocess.run(
        [
            "podman", "import",
            "--change", 'CMD ["/sbin/init"]',
            "--change", f"LABEL {RECIPE_LABEL}={digest}",
            "-", BASE_IMAGE,
        ],
        stdin=tar.stdout, capture_output=True, text=True, env=podman.env(), check=False,
    )  # fmt: skip
    tar.stdout.close()
    tar.wait()
    if imp.returncode != 0 or tar.returncode != 0:
        raise OperationError(f"podman import of the base image failed: {imp.stderr.strip()}")


# ---------------------------------------------------------------- lab lifecycle


def _container_name(lab: str, node: str) -> str:
    return f"dmlctl-{lab}-{node}"


def _network_name(lab: str) -> str:
    return f"dmlctl-{lab}"


def _lab_containers(name: str) -> list[dict]:
    proc = podman.run(["ps", "-a", "--filter", f"label={LABEL}={name}", "--format", "json"])
    return json.loads(proc.stdout or "[]")


def _remove_podman_objects(name: str) -> None:
    containers = [c["Id"] for c in _lab_containers(name)]
    if containers:
        podman.run(["rm", "--force", "--time", "0", *containers])
    if podman.inspect("network", _network_name(name)) is not None:
        podman.run(["network", "rm", "--force", _network_name(name)])


def _clear_leftovers(name: str, progress: Progress) -> None:
    """A lab name is free unless one of its containers runs; stopped leftovers of an
    earlier run (a killed session, a reboot) are removed."""
    running = [c for c in _lab_containers(name) if c.get("State") == "running"]
    if running:
        raise UsageError(
            f"lab name {name!r} is in use: {len(running)} of its nodes are running.",
            hint=f"use it as it is, pick another --name, or run `dmlctl lab down --name {name}`",
        )
    if _lab_containers(name) or podman.inspect("network", _network_name(name)):
        progress(f"clearing stopped leftovers of an earlier lab {name!r}")
    _remove_podman_objects(name)
    shutil.rmtree(lab_dir(name), ignore_errors=True)


def up(nodes: int = 3, name: str = "lab", *, progress: Progress = _quiet) -> Lab:
    """Create a lab of `nodes` machines; on any failure remove everything it created."""
    validate_name(name)
    if not 1 <= nodes <= MAX_NODES:
        raise UsageError(f"--nodes must be between 1 and {MAX_NODES}, not {nodes}.")
    podman.require()
    _clear_leftovers(name, progress)
    image = ensure_base_image(progress=progress)
    started = time.monotonic()
    try:
        lab = _create(name, nodes, image, progress)
    except BaseException:
        progress(f"lab {name!r} failed; removing what was created")
        _remove_podman_objects(name)
        shutil.rmtree(lab_dir(name), ignore_errors=True)
        raise
    set_active(name)
    progress(f"lab {name!r} is up: {nodes} nodes in {time.monotonic() - started:.1f} s")
    return lab


def _create(name: str, count: int, image: str, progress: Progress) -> Lab:
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

    node_names = [f"node{i}" for i in range(1, count + 1)]
    for node in node_names:
        progress(f"starting {node}")
        podman.run(
            [
                "run", "--detach", "--systemd=always",
                "--name", _container_name(name, node), "--hostname", node,
                "--network", network, "--label", f"{LABEL}={name}",
                image, "/sbin/init",
            ]
        )  # fmt: skip

    public_key = key.with_suffix(".pub").read_text()
    progress(f"waiting for systemd and sshd on {count} node(s)")
    with ThreadPoolExecutor(max_workers=min(count, 8)) as pool:
        nodes = list(pool.map(lambda n: _prepare_node(name, n, network, public_key), node_names))

    lab = Lab(
        name=name,
        network=network,
        nodes=tuple(nodes),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    hosts = [Host(n.name, n.ip) for n in nodes]
    lab.inventory.write_text(
        render_lab_inventory(hosts, lab=name, user=LAB_USER, private_key=lab.private_key)
    )
    save(lab)
    return lab


def _prepare_node(lab: str, node: str, network: str, public_key: str) -> Node:
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
    _wait_for_systemd(node, container)
    _wait_for_sshd(node, ip)
    return Node(name=node, container=container, ip=ip)


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


def down(name: str, *, progress: Progress = _quiet) -> None:
    """Remove a lab's containers, network, key, inventory and state."""
    validate_name(name)
    known = (lab_dir(name) / "lab.json").is_file()
    podman.require()
    if (
        not known
        and not _lab_containers(name)
        and not podman.inspect("network", _network_name(name))
    ):
        raise UsageError(f"no lab named {name!r}.", hint="`dmlctl lab ls` lists the labs")
    progress(f"removing lab {name!r}")
    _remove_podman_objects(name)
    shutil.rmtree(lab_dir(name), ignore_errors=True)
    active_lab = _active_file().read_text().strip() if _active_file().exists() else None
    if active_lab == name:
        set_active(None)


def running_nodes(lab: Lab) -> set[str]:
    """Names of the lab's nodes whose containers are running now."""
    by_container = {n.container: n.name for n in lab.nodes}
    return {
        by_container[c["Names"][0]]
        for c in _lab_containers(lab.name)
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
