"""dmlctl's state on this machine: small JSON files read with a default and written atomically,
private directories, the key of an inventory's state, and the truth of a setting's value."""

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
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


def _lock_file(path: Path):
    """PATH opened for locking; made private (0600) when new, like every state file."""
    return os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+")


_held: dict[Path, int] = {}  # locks this process holds, and how deep


@contextlib.contextmanager
def locked(
    path: Path, *, holder: str = "", waiting: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold an exclusive lock on PATH (made if missing) for the block: other dmlctl processes,
    of this user or others, wait. HOLDER is kept in the file while the lock is held; WAITING
    is called once, with the holder's text, if the lock is held elsewhere. A process that holds
    the lock may take it again (an operation calling another)."""
    key = path.resolve()
    if _held.get(key):
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock_file(path) as handle:
        fd = handle.fileno()
        _acquire(fd, waiting)
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        _held[key] = 1
        try:
            yield
        finally:
            del _held[key]
            os.ftruncate(fd, 0)  # a waiter never reads a holder that has gone
            fcntl.flock(fd, fcntl.LOCK_UN)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


HOLDER_WRITE_WAIT_S = 2.0


def _acquire(fd: int, waiting: Callable[[str], None] | None) -> None:
    """Take FD's lock; when another process holds it, call WAITING once with what the holder
    wrote there, then wait. A holder writes its name just after taking the lock, so an empty
    file is read again for a moment (and the lock tried again: it may be free by then)."""
    if waiting is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + HOLDER_WRITE_WAIT_S
    while not _try_flock(fd):
        holder = os.pread(fd, 4096, 0).decode(errors="replace").strip()
        if holder or time.monotonic() > deadline:
            waiting(holder)
            fcntl.flock(fd, fcntl.LOCK_EX)
            return
        time.sleep(0.02)


@contextlib.contextmanager
def try_locked(path: Path) -> Iterator[bool]:
    """Whether PATH's lock was free; held for the block when it was."""
    try:
        handle = _lock_file(path)
    except OSError:
        yield False
        return
    with handle:
        yield _try_flock(handle.fileno())


@contextlib.contextmanager
def updating(path: Path, default: Any, *, mode: int = 0o644) -> Iterator[Any]:
    """Read-change-write the JSON in PATH under its lock: the block changes the value it gets
    (a dict or list) in place, and it is written back atomically when the block ends."""
    with locked(path.with_name(f".{path.name}.lock")):
        data = load(path, default)
        yield data
        save(path, data, mode=mode)
