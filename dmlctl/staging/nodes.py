"""Job input on every cluster node, at the paths it has on this machine.

Executors and H2O nodes read input from their own disks, never from the machine dmlctl runs
on. One mechanism serves everything: a tar of what the nodes lack, unpacked on every node by
playbooks/data.yml (dmlctl.staging.local_input describes the layout). Content is sent once:
what was staged is remembered per inventory, and the record is dropped whenever a playbook
runs against the inventory (machines may have been rebuilt or uninstalled), whenever the
inventory file changes (a new `lab up` rewrites it), and whenever a node turns out to have
lost it.
"""

import contextlib
import tarfile
import tempfile
from pathlib import Path

from dmlctl import store
from dmlctl.errors import OperationError
from dmlctl.paths import state_dir
from dmlctl.playbooks import runner
from dmlctl.playbooks.inventory import ClusterInventory
from dmlctl.staging import local_input

PLAYBOOK = "data.yml"


# --- what the nodes hold -----------------------------------------------------------------------


def _record_file(inventory: Path) -> Path:
    return state_dir() / "staged" / f"{store.inventory_key(inventory)}.json"


def _load(inventory: Path) -> dict:
    record = store.load(_record_file(inventory), {})
    if record.get("inventory_mtime_ns") != inventory.stat().st_mtime_ns:
        return {}
    return record.get("files", {})


def _remember(inventory: Path, paths: list[str], hosts: list[str]) -> None:
    mtime = inventory.stat().st_mtime_ns
    with store.updating(_record_file(inventory), {}) as record:
        if record.get("inventory_mtime_ns") != mtime:
            record.clear()
        record["inventory_mtime_ns"] = mtime
        record.setdefault("files", {}).update(dict.fromkeys(paths, hosts))


def forget(inventory: Path) -> None:
    """Drop what was remembered as staged for INVENTORY."""
    _record_file(inventory).unlink(missing_ok=True)


# --- the one transfer --------------------------------------------------------------------------


def _as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    if not info.issym():
        info.mode = local_input.DIR_MODE if info.isdir() else local_input.FILE_MODE
    return info


def archive(entries: dict[str, Path], scratch: Path) -> Path:
    """A tar holding each path (a file, directory or symlink) under its name in ENTRIES."""
    archive = scratch / "input.tar"
    with tarfile.open(archive, "w") as tar:
        for name, path in entries.items():
            tar.add(path, arcname=name, filter=_as_root)
    return archive


def run_data_playbook(
    inv: ClusterInventory, hosts: list[str], extravars: dict, what: str
) -> list[str]:
    """Run playbooks/data.yml on HOSTS; the hosts where it failed, each with its reason."""
    from dmlctl.playbooks.events import PlaybookProgress

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
    hosts = inv.cluster_hosts
    done = _load(inv.path)
    for attempt in (1, 2):
        missing = [p for p in content if done.get(str(p)) != hosts]
        required = [str(p.parent) for p in content if p not in missing]
        entries = {str(p.parent.relative_to(local_input.ROOT)): p.parent for p in missing}
        if workdir is not None:
            entries[str(workdir.relative_to(local_input.ROOT))] = workdir
        if not entries:
            return  # everything is there already (a run with a work directory always goes)
        with tempfile.TemporaryDirectory(prefix="dmlctl-stage-") as scratch:
            extravars = {
                "dmlctl_data_action": "stage",
                "dmlctl_data_archive": str(archive(entries, Path(scratch))),
                "dmlctl_data_dest": str(local_input.ROOT),
                "dmlctl_data_required": required,
                "dmlctl_data_root": str(local_input.ROOT),
                "dmlctl_data_work_keep": f"{local_input.WORK_KEEP_DAYS}d",
                "dmlctl_data_keep": f"{local_input.DATA_KEEP_DAYS}d",
            }
            try:
                run_data_playbook(inv, hosts, extravars, "stage the job's input")
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
    stored = local_input.store(source)
    _stage(inv, [stored], None)
    return str(stored)


def stage_workdir(inv: ClusterInventory, workdir: Path, items: list[local_input.Item]) -> None:
    """WORKDIR (its links) and the content it links to, at the same paths on every node."""
    _stage(inv, [item.stored for item in items], workdir)
    with contextlib.suppress(OSError):
        local_input.clean_up()
