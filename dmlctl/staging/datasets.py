"""Datasets published for a whole class (`dmlctl data push|ls|rm`): in DATASETS_DIR here and
on every node, at one path any job reads with no --data. Never cleaned up automatically."""

import shutil
import tempfile
from pathlib import Path

from dmlctl.errors import UsageError
from dmlctl.playbooks import runner
from dmlctl.playbooks.inventory import ClusterInventory
from dmlctl.staging import local_input
from dmlctl.staging.nodes import archive, run_data_playbook

DATASETS_DIR = Path("/srv/dmlctl/datasets")


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
            "dmlctl_data_archive": str(archive(names, Path(scratch))),
            "dmlctl_data_dest": str(DATASETS_DIR),
            "dmlctl_data_paths": [str(DATASETS_DIR / name) for name in names],
        }
        run_data_playbook(inv, inv.cluster_hosts, extravars, "publish the datasets")
    return [DATASETS_DIR / name for name in names]


def _store_dataset(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=local_input.DIR_MODE)
    scratch = target.with_name(f".{target.name}.new")
    shutil.rmtree(scratch, ignore_errors=True)
    if source.is_dir():
        shutil.copytree(source, scratch)
    else:
        shutil.copyfile(source, scratch)
    if scratch.is_dir():
        local_input.make_readable(scratch)
    else:
        scratch.chmod(local_input.FILE_MODE)
    if target.is_dir():
        shutil.rmtree(target)
    scratch.replace(target)


def unpublish(inv: ClusterInventory, name: str) -> None:
    """Remove dataset NAME here and from every node."""
    if "/" in name or name.startswith(".") or not name:
        raise UsageError(f"{name!r} is not a dataset name", hint="`dmlctl data ls` lists them")
    target = DATASETS_DIR / name
    extravars = {"dmlctl_data_action": "remove", "dmlctl_data_paths": [str(target)]}
    run_data_playbook(inv, inv.cluster_hosts, extravars, f"remove {name}")
    try:
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    except PermissionError:
        raise UsageError(f"cannot remove {target} here", hint="run as root (sudo)") from None


def published(inv: ClusterInventory) -> list[dict]:
    """Every dataset known here or on a node: its path, size here, and the nodes holding it."""
    hosts = inv.cluster_hosts
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
