"""Job input and shared datasets on every cluster node, at the paths they have on this machine.

Executors and H2O nodes read input from their own disks, never from the machine dmlctl runs
on. One mechanism serves everything: a tar of what the nodes lack, unpacked on every node by
playbooks/data.yml (dmlctl.data describes the layout). Content is sent once: what was staged is
remembered per inventory, and the record is dropped whenever a playbook runs against the
inventory (machines may have been rebuilt or uninstalled), whenever the inventory file changes
(a new `lab up` rewrites it), and whenever a node turns out to have lost it.

Shared datasets (`dmlctl data push`) live in DATASETS_DIR here and on every node; they are
never cleaned up automatically.
"""

import contextlib
import hashlib
import shutil
import tarfile
import tempfile
from pathlib import Path

from dmlctl import data, runner, store
from dmlctl.errors import OperationError, UsageError
from dmlctl.inventory import ClusterInventory
from dmlctl.paths import state_dir

STAGE_DIR = data.CONTENT_DIR
DATASETS_DIR = Path("/srv/dmlctl/datasets")
PLAYBOOK = "data.yml"


def node_hosts(inv: ClusterInventory) -> list[str]:
    return sorted(
        {*inv.group("spark_master"), *inv.group("spark_workers"), *inv.group("h2o_nodes")}
    )


# --- what the nodes hold -----------------------------------------------------------------------


def _record_file(inventory: Path) -> Path:
    key = hashlib.sha256(str(inventory.resolve()).encode()).hexdigest()[:16]
    return state_dir() / "staged" / f"{key}.json"


def _load(inventory: Path) -> dict:
    record = store.load(_record_file(inventory), {})
    if record.get("inventory_mtime_ns") != inventory.stat().st_mtime_ns:
        return {}
    return record.get("files", {})


def _remember(inventory: Path, paths: list[str], hosts: list[str]) -> None:
    files = {**_load(inventory), **dict.fromkeys(paths, hosts)}
    store.save(
        _record_file(inventory),
        {"inventory_mtime_ns": inventory.stat().st_mtime_ns, "files": files},
    )


def forget(inventory: Path) -> None:
    """Drop what was remembered as staged for INVENTORY."""
    _record_file(inventory).unlink(missing_ok=True)


# --- the one transfer --------------------------------------------------------------------------


def _as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    if not info.issym():
        info.mode = data.DIR_MODE if info.isdir() else data.FILE_MODE
    return info


def _archive(entries: dict[str, Path], scratch: Path) -> Path:
    """A tar holding each path (a file, directory or symlink) under its name in ENTRIES."""
    archive = scratch / "input.tar"
    with tarfile.open(archive, "w") as tar:
        for name, path in entries.items():
            tar.add(path, arcname=name, filter=_as_root)
    return archive


def _run(inv: ClusterInventory, hosts: list[str], extravars: dict, what: str) -> list[str]:
    """Run playbooks/data.yml on HOSTS; the hosts where it failed, each with its reason."""
    from dmlctl.progress import PlaybookProgress

    progress = PlaybookProgress()
    outcome = runner.run_playbook(
        PLAYBOOK, inv.path, on_event=progress.feed, limit=",".join(hosts), extravars=extravars
    )
    problems = [f"{f.host}: {f.message}" for f in progress.failures]
    if not outcome.ok and not problems:
        problems = [f"ansible-playbook ended {outcome.status} (rc {outcome.rc})"]
    if problems:
        raise OperationError(f"could not {what} on the nodes: {'; '.join(problems[:3])}")
    return hosts


def _stage(inv: ClusterInventory, content: list[Path], workdir: Path | None) -> None:
    hosts = node_hosts(inv)
    done = _load(inv.path)
    for attempt in (1, 2):
        missing = [p for p in content if done.get(str(p)) != hosts]
        required = [str(p.parent) for p in content if p not in missing]
        entries = {str(p.parent.relative_to(data.ROOT)): p.parent for p in missing}
        if workdir is not None:
            entries[str(workdir.relative_to(data.ROOT))] = workdir
        if not entries:
            return  # everything is there already (a run with a work directory always goes)
        with tempfile.TemporaryDirectory(prefix="dmlctl-stage-") as scratch:
            extravars = {
                "dmlctl_data_action": "stage",
                "dmlctl_data_archive": str(_archive(entries, Path(scratch))),
                "dmlctl_data_dest": str(data.ROOT),
                "dmlctl_data_required": required,
                "dmlctl_data_root": str(data.ROOT),
                "dmlctl_data_work_keep": f"{data.WORK_KEEP_DAYS}d",
                "dmlctl_data_keep": f"{data.DATA_KEEP_DAYS}d",
            }
            try:
                _run(inv, hosts, extravars, "stage the job's input")
            except OperationError:
                if attempt == 2 or not required:
                    raise
                # A node lost content it had (cleaned up, rebuilt): send everything again.
                forget(inv.path)
                done = {}
                continue
        _remember(inv.path, [str(p) for p in content], hosts)
        return


def stage(inv: ClusterInventory, source: Path) -> str:
    """SOURCE stored once per content here and on every cluster node; its path there."""
    stored = data.store(source)
    _stage(inv, [stored], None)
    return str(stored)


def stage_workdir(inv: ClusterInventory, workdir: Path, items: list[data.Item]) -> None:
    """WORKDIR (its links) and the content it links to, at the same paths on every node."""
    _stage(inv, [item.stored for item in items], workdir)
    with contextlib.suppress(OSError):
        data.clean_up()


# --- shared datasets ---------------------------------------------------------------------------


def dataset_name(source: Path) -> str:
    name = source.resolve().name
    if not name or name.startswith("."):
        raise UsageError(f"{source}: a dataset needs a plain name (not hidden)")
    return name


def publish(inv: ClusterInventory, sources: list[Path]) -> list[Path]:
    """SOURCES copied to DATASETS_DIR here and on every node (replacing same-named ones)."""
    names: dict[str, Path] = {}
    for source in sources:
        if not source.exists():
            raise UsageError(f"no such file or directory: {source}")
        name = dataset_name(source)
        if name in names:
            raise UsageError(f"{source} and {names[name]} would both be published as {name}")
        names[name] = source.resolve()
    try:
        for name, source in names.items():
            _store_dataset(source, DATASETS_DIR / name)
    except PermissionError:
        raise UsageError(
            f"cannot write {DATASETS_DIR} on this machine (the driver reads datasets here too)",
            hint="run `dmlctl data push` as root (sudo)",
        ) from None
    with tempfile.TemporaryDirectory(prefix="dmlctl-publish-") as scratch:
        extravars = {
            "dmlctl_data_action": "publish",
            "dmlctl_data_archive": str(_archive(names, Path(scratch))),
            "dmlctl_data_dest": str(DATASETS_DIR),
            "dmlctl_data_paths": [str(DATASETS_DIR / name) for name in names],
        }
        _run(inv, node_hosts(inv), extravars, "publish the datasets")
    return [DATASETS_DIR / name for name in names]


def _store_dataset(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=data.DIR_MODE)
    scratch = target.with_name(f".{target.name}.new")
    shutil.rmtree(scratch, ignore_errors=True)
    if source.is_dir():
        shutil.copytree(source, scratch)
    else:
        shutil.copyfile(source, scratch)
    if scratch.is_dir():
        data.make_readable(scratch)
    else:
        scratch.chmod(data.FILE_MODE)
    if target.is_dir():
        shutil.rmtree(target)
    scratch.replace(target)


def unpublish(inv: ClusterInventory, name: str) -> None:
    """Remove dataset NAME here and from every node."""
    if "/" in name or name.startswith(".") or not name:
        raise UsageError(f"{name!r} is not a dataset name", hint="`dmlctl data ls` lists them")
    target = DATASETS_DIR / name
    extravars = {"dmlctl_data_action": "remove", "dmlctl_data_paths": [str(target)]}
    _run(inv, node_hosts(inv), extravars, f"remove {name}")
    try:
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    except PermissionError:
        raise UsageError(f"cannot remove {target} here", hint="run as root (sudo)") from None


def published(inv: ClusterInventory) -> list[dict]:
    """Every dataset known here or on a node: its path, size here, and the nodes holding it."""
    hosts = node_hosts(inv)
    answers = runner.run_module(
        inv.path,
        hosts,
        "ansible.builtin.find",
        {"paths": str(DATASETS_DIR), "file_type": "any"},
    )
    on_nodes: dict[str, list[str]] = {}
    unreachable = []
    for host in hosts:
        ok, result = answers.get(host, (False, {}))
        if not ok:
            unreachable.append(host)
            continue
        for entry in result.get("files", []):
            on_nodes.setdefault(Path(entry["path"]).name, []).append(host)
    local = {p.name: p for p in DATASETS_DIR.iterdir()} if DATASETS_DIR.is_dir() else {}
    rows = []
    for name in sorted(set(on_nodes) | {n for n in local if not n.startswith(".")}):
        path = local.get(name)
        rows.append(
            {
                "name": name,
                "path": str(DATASETS_DIR / name),
                "bytes": _size(path) if path else None,
                "here": path is not None,
                "nodes": sorted(on_nodes.get(name, [])),
                "nodes_expected": len(hosts),
                "unreachable": unreachable,
            }
        )
    return rows


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
