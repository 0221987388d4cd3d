"""dmlctl's state on this machine: small JSON files read with a default and written atomically,
private directories, the key of an inventory's state, and the truth of a setting's value."""

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def load(path: Path, default: Any = None) -> Any:
    """The JSON in PATH, or DEFAULT when the file is missing or unreadable as JSON."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return default


def save(path: Path, data: Any, *, mode: int = 0o644) -> None:
    """Write DATA to PATH as JSON so readers see the old file or the new one, never half."""
    write(path, json.dumps(data, indent=2) + "\n", mode=mode)


def write(path: Path, content: str | bytes, *, mode: int = 0o644) -> None:
    """Write CONTENT to PATH atomically. The file is 0600 from its first byte (mkstemp) until
    it gets MODE, so a secret written with mode 0o600 is never readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content.encode() if isinstance(content, str) else content)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def private_dir(path: Path) -> Path:
    """PATH as a directory only this user can enter (made if missing, tightened if not)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def key(text: str) -> str:
    """A short, stable file-name key for TEXT (an inventory's path, a cluster's name)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def inventory_key(inventory: Path) -> str:
    """The key of the state dmlctl keeps per inventory file, wherever it is given from."""
    return key(str(inventory.expanduser().resolve()))


def truthy(value) -> bool:
    """A setting's truth as Ansible reads it: booleans, and "yes"/"true"/"on"/"1" strings."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
