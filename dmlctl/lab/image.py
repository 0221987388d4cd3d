"""The base images lab nodes run: Debian 12 or 13 with systemd, sshd, sudo and the lab user.

Each is built once with debootstrap and imported into podman; a label records the recipe it
was built from, so a change to the recipe (or the mirror) rebuilds it.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from dmlctl.errors import OperationError, UsageError
from dmlctl.lab import podman
from dmlctl.lab.state import LAB_USER
from dmlctl.paths import cache_dir

# The Debian releases a lab node can run (labs upgrade machines a few at a time, so a lab may
# mix them), by suite name.
SUITES = {"bookworm": "Debian 12", "trixie": "Debian 13"}
DEFAULT_SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# What a bare Debian lab machine offers Ansible: systemd, python3, sshd, sudo.
BASE_PACKAGES = (
    "systemd", "systemd-sysv", "dbus", "python3", "openssh-server", "sudo",
    "iproute2", "procps", "ca-certificates",
)  # fmt: skip
RECIPE_LABEL = "dmlctl.recipe"

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


def quiet(_: str) -> None:
    pass


def base_image(suite: str = DEFAULT_SUITE) -> str:
    return f"localhost/dmlctl-base:{suite}"


def recipe_digest(mirror: str = DEFAULT_MIRROR, suite: str = DEFAULT_SUITE) -> str:
    """Changes whenever what goes into the base image changes, so a stale image is rebuilt."""
    recipe = json.dumps([suite, mirror, BASE_PACKAGES, LAB_USER, HOSTKEYS_UNIT])
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def _image_is_current(image: str, digest: str) -> bool:
    info = podman.inspect("image", image)
    labels = (info or {}).get("Config", {}).get("Labels") or {}
    return labels.get(RECIPE_LABEL) == digest


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """Serialise image builds across processes (tests, molecule and users share the image)."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ensure_base_image(
    suite: str = DEFAULT_SUITE, *, rebuild: bool = False, progress: Progress = quiet
) -> str:
    """Build the lab's base image of SUITE once (debootstrap + podman import) and reuse it."""
    if suite not in SUITES:
        raise UsageError(f"no lab image for {suite!r}: choose one of {', '.join(SUITES)}.")
    podman.require()
    mirror = os.environ.get("DMLCTL_DEBIAN_MIRROR", DEFAULT_MIRROR)
    digest = recipe_digest(mirror, suite)
    image = base_image(suite)
    with _locked(f"base-image-{suite}"):
        if not rebuild and _image_is_current(image, digest):
            return image
        if shutil.which("debootstrap") is None:
            raise UsageError(
                "debootstrap not found: it builds the lab's base image.", hint="run `make setup`"
            )
        progress(f"building the lab base image {image} ({SUITES[suite]}, once)")
        cache_dir().mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="rootfs-", dir=cache_dir()) as tmp:
            rootfs = Path(tmp) / "rootfs"
            _debootstrap(rootfs, suite, mirror, progress)
            _customise_rootfs(rootfs, suite, mirror)
            progress("importing the root filesystem into podman")
            _import_rootfs(rootfs, image, digest)
    return image


def _debootstrap(rootfs: Path, suite: str, mirror: str, progress: Progress) -> None:
    progress(f"debootstrap {suite} from {mirror} (about a minute)")
    proc = subprocess.run(
        [
            "debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}",
            suite, str(rootfs), mirror,
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-3:]
        raise OperationError(
            "debootstrap failed: " + " | ".join(tail),
            hint="check that this machine reaches the Debian mirror (DMLCTL_DEBIAN_MIRROR)",
        )


def _customise_rootfs(rootfs: Path, suite: str, mirror: str) -> None:
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
        f"deb {mirror} {suite} main\n"
        f"deb {mirror} {suite}-updates main\n"
        f"deb {security} {suite}-security main\n"
    )
    # A container has no consoles: gettys would only fail and mark the system degraded.
    for masked in ("getty@tty1.service", "console-getty.service", "systemd-udevd.service"):
        link = rootfs / "etc/systemd/system" / masked
        link.unlink(missing_ok=True)
        link.symlink_to("/dev/null")
    shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
    (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True)
    (rootfs / "etc/machine-id").write_text("")


def _import_rootfs(rootfs: Path, image: str, digest: str) -> None:
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    imp = subprocess.run(
        [
            "podman", "import",
            "--change", 'CMD ["/sbin/init"]',
            "--change", f"LABEL {RECIPE_LABEL}={digest}",
            "-", image,
        ],
        stdin=tar.stdout, capture_output=True, text=True, env=podman.env(), check=False,
    )  # fmt: skip
    tar.stdout.close()
    tar.wait()
    if imp.returncode != 0 or tar.returncode != 0:
        raise OperationError(f"podman import of the base image failed: {imp.stderr.strip()}")
