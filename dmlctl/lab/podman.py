"""The one place dmlctl runs podman, always with the project's containers.conf."""

import json
import os
import shutil
import subprocess
from collections.abc import Sequence

from dmlctl.errors import OperationError, UsageError
from dmlctl.paths import DATA_DIR

CONTAINERS_CONF = DATA_DIR / "containers.conf"


def env() -> dict[str, str]:
    """Environment for podman (and molecule): the project's runtime and ulimits."""
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def require() -> None:
    """Fail with a clear line when podman cannot be used for a rehearsal lab."""
    missing = [tool for tool in ("podman", "runc") if shutil.which(tool) is None]
    if missing:
        raise UsageError(
            f"{' and '.join(missing)} not found: the rehearsal lab needs them.",
            hint="run `make setup` (as root it installs podman, runc and debootstrap)",
        )
    if os.geteuid() != 0:
        raise UsageError(
            "the rehearsal lab needs root: rootful podman gives each node an address "
            "this machine can reach.",
            hint="run it as root (for example `sudo dmlctl lab up`)",
        )


def run(
    args: Sequence[str], *, input: str | None = None, check: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `podman ARGS`; on failure raise OperationError with podman's own last line."""
    proc = subprocess.run(
        ["podman", *args],
        input=input,
        capture_output=True,
        text=True,
        env=env(),
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise OperationError(
            f"podman {args[0]} failed: {detail[-1] if detail else proc.returncode}"
        )
    return proc


def inspect(kind: str, name: str) -> dict | None:
    """`podman KIND inspect NAME` as a dict, or None when it does not exist."""
    proc = run([kind, "inspect", name], check=False)
    if proc.returncode != 0:
        return None
    data = json.loads(proc.stdout)
    return data[0] if data else None
