"""A job's input on this machine: stored once per content, linked into per-run work directories.

Spark resolves a relative path against the driver's working directory and every executor then
opens that same absolute path on its own disk; H2O nodes open the absolute path a program names.
So a job with input (`dmlctl submit --data PATH`) runs in a work directory whose absolute path
is the same here and on every node, with its input linked in at the place the program expects:

    /var/tmp/dmlctl/data/<digest>/<name>      the content, stored once per content
    /var/tmp/dmlctl/work/<run-id>/<place>     -> the content (a symlink)

dmlctl.staging.nodes puts the same layout on the nodes. What the program writes into its work
directory moves to the run directory when it ends. Work directories older than WORK_KEEP and
content unused for DATA_KEEP are removed whenever input is staged (here and on the nodes).
"""

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dmlctl.errors import OperationError, UsageError

ROOT = Path("/var/tmp/dmlctl")
CONTENT_DIR = ROOT / "data"
WORK_ROOT = ROOT / "work"
# Bounds on the disk staged input takes (here and on every node).
WORK_KEEP_DAYS = 2
DATA_KEEP_DAYS = 7
# Readable by the engines' service users (spark, h2o) on the nodes.
FILE_MODE, DIR_MODE = 0o644, 0o755
# Every user of this machine may stage input: a sticky, world-writable parent, as /tmp.
SHARED_MODE = 0o1777
# In a work directory: what dmlctl puts there for h2o.init(), never an output of the job.
H2O_CONFIG = ".h2oconfig"


@dataclass(frozen=True)
class Item:
    """One --data PATH: where it is stored and where it appears in the work directory."""

    source: Path
    place: PurePosixPath  # relative to the work directory
    digest: str

    @property
    def stored(self) -> Path:
        return CONTENT_DIR / self.digest / self.source.name


def placement(argument: str) -> PurePosixPath:
    """Where --data ARGUMENT appears in the work directory: a relative path as typed (so a
    program reading `data/x.csv` finds it), otherwise the last component of the path."""
    path = PurePosixPath(argument.rstrip("/") or argument)
    parts = [p for p in path.parts if p not in (".", "")]
    if path.is_absolute() or ".." in parts or not parts:
        return PurePosixPath(Path(argument).resolve().name)
    return PurePosixPath(*parts)


def digest(source: Path) -> str:
    """A digest of SOURCE's name and content (a file, or a directory tree)."""
    hasher = hashlib.sha256(source.name.encode() + b"\0")
    if source.is_file():
        _hash_file(hasher, source)
    else:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                hasher.update(str(path.relative_to(source)).encode() + b"\0")
                _hash_file(hasher, path)
    return hasher.hexdigest()[:16]


def _hash_file(hasher, path: Path) -> None:
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            hasher.update(chunk)


def items(arguments: list[str]) -> list[Item]:
    """The --data arguments, checked: each exists, and no two land on the same place."""
    found: list[Item] = []
    for argument in arguments:
        source = Path(argument).expanduser()
        if not source.exists():
            raise UsageError(f"--data {argument}: no such file or directory")
        if not (source.is_file() or source.is_dir()):
            raise UsageError(f"--data {argument} is neither a file nor a directory")
        place = placement(argument)
        for other in found:
            if place == other.place or place in other.place.parents or other.place in place.parents:
                raise UsageError(f"--data {argument} and --data {other.source} overlap at {place}")
        try:
            found.append(Item(source.resolve(), place, digest(source)))
        except OSError as error:
            raise UsageError(f"cannot read --data {argument}: {error.strerror}") from None
    return found


def shared_dir(path: Path) -> Path:
    """PATH (and ROOT above it) as sticky world-writable directories every user can stage into."""
    for directory in (ROOT, path) if path != ROOT else (ROOT,):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(parents=True)
        if (
            directory.stat().st_uid == os.geteuid()
            and directory.stat().st_mode & 0o7777 != SHARED_MODE
        ):
            directory.chmod(SHARED_MODE)  # ours (perhaps from an older dmlctl): share it
        if not os.access(directory, os.W_OK | os.X_OK):
            raise OperationError(
                f"{directory} is not writable for this user, so job input cannot be staged",
                hint=f"as root: chmod 1777 {directory}",
            )
    return path


def store(source: Path) -> Path:
    """Store SOURCE once per content in CONTENT_DIR; its stored path (readable by everyone)."""
    item = Item(source, PurePosixPath(source.name), digest(source))
    target = item.stored
    if target.exists():
        os.utime(target.parent)  # in use: keep it from the clean-up
        return target
    shared_dir(CONTENT_DIR)
    # Built aside and renamed into place: concurrent runs see all of it or nothing.
    scratch = Path(tempfile.mkdtemp(dir=CONTENT_DIR, prefix=f".{item.digest}."))
    try:
        copy = scratch / source.name
        if source.is_dir():
            shutil.copytree(source, copy, symlinks=False)
        else:
            shutil.copyfile(source, copy)
        make_readable(scratch)
        try:
            scratch.rename(target.parent)
        except OSError:
            if not target.exists():  # not another run's identical copy: a real failure
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def make_readable(top: Path) -> None:
    top.chmod(DIR_MODE)
    for directory, dirs, files in os.walk(top):
        for name in dirs:
            os.chmod(os.path.join(directory, name), DIR_MODE)
        for name in files:
            os.chmod(os.path.join(directory, name), FILE_MODE)


def make_workdir(run_id: str, staged: list[Item]) -> Path:
    """A fresh work directory for RUN_ID with every item linked in at its place."""
    shared_dir(WORK_ROOT)
    workdir = WORK_ROOT / run_id
    workdir.mkdir(mode=DIR_MODE)
    workdir.chmod(DIR_MODE)
    for item in staged:
        link = workdir / item.place
        link.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        link.symlink_to(item.stored)
    return workdir


def collect_outputs(workdir: Path, run_dir: Path, staged: list[Item]) -> list[str]:
    """Move what the program wrote into WORKDIR to RUN_DIR, then remove WORKDIR.

    Input links stay behind; a name the run directory already has gets a `-N` suffix.
    """
    links = {workdir / item.place for item in staged} | {workdir / H2O_CONFIG}
    moved: list[str] = []
    for path in sorted(workdir.rglob("*"), reverse=True):  # deepest first
        if path in links or any(link in path.parents for link in links):
            continue
        if path.is_dir() and not path.is_symlink():
            continue  # directories are recreated by the files they hold
        relative = path.relative_to(workdir)
        target = run_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        n = 1
        while target.exists() or target.is_symlink():
            n += 1
            target = target.with_name(f"{relative.stem}-{n}{relative.suffix}")
        shutil.move(str(path), str(target))
        moved.append(str(target.relative_to(run_dir)))
    shutil.rmtree(workdir, ignore_errors=True)
    return sorted(moved)


def clean_up(now: float | None = None) -> list[Path]:
    """Remove old work directories and content unused for long, here; what was removed."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    for top, days in ((WORK_ROOT, WORK_KEEP_DAYS), (CONTENT_DIR, DATA_KEEP_DAYS)):
        if not top.is_dir():
            continue
        for entry in top.iterdir():
            try:
                old = now - entry.lstat().st_mtime > days * 86400
            except FileNotFoundError:
                continue
            if old and entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed
