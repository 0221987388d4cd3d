"""Job input staged to one path on this machine and on every cluster node.

Executors and H2O nodes read input from their own disks, never from the machine dmlctl runs
on. Staging goes through Ansible's copy module; what was staged is remembered per inventory so
repeated submits skip it. The record is dropped whenever a playbook runs against the inventory
(machines may have been rebuilt or uninstalled) and whenever the inventory file changes (a new
`lab up` rewrites it).
"""

import hashlib
import shutil
from pathlib import Path

from dmlctl import runner, store
from dmlctl.errors import OperationError
from dmlctl.inventory import ClusterInventory
from dmlctl.paths import state_dir

STAGE_DIR = Path("/var/tmp/dmlctl/data")


def _record_file(inventory: Path) -> Path:
    key = hashlib.sha256(str(inventory.resolve()).encode()).hexdigest()[:16]
    return state_dir() / "staged" / f"{key}.json"


def _load(inventory: Path) -> dict:
    record = store.load(_record_file(inventory), {})
    if record.get("inventory_mtime_ns") != inventory.stat().st_mtime_ns:
        return {}
    return record.get("files", {})


def forget(inventory: Path) -> None:
    """Drop what was remembered as staged for INVENTORY."""
    _record_file(inventory).unlink(missing_ok=True)


def stage(inv: ClusterInventory, source: Path) -> str:
    """Copy SOURCE to one content-addressed path here and on every cluster node; its path."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    staged = STAGE_DIR / f"{source.stem}-{digest}{source.suffix}"
    if not staged.is_file():
        STAGE_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, staged)
        staged.chmod(0o644)
    hosts = sorted(
        {*inv.group("spark_master"), *inv.group("spark_workers"), *inv.group("h2o_nodes")}
    )
    done = _load(inv.path)
    if done.get(str(staged)) == hosts:
        return str(staged)
    answers = runner.run_module(
        inv.path,
        hosts,
        "ansible.builtin.copy",
        {"src": str(staged), "dest": f"{STAGE_DIR}/", "mode": "0644", "directory_mode": "0755"},
    )
    failed = {h: res.get("msg", "no answer") for h, (ok, res) in answers.items() if not ok}
    failed |= {h: "no answer" for h in hosts if h not in answers}
    if failed:
        detail = "; ".join(f"{host}: {message}" for host, message in sorted(failed.items()))
        raise OperationError(f"could not stage {source.name} on the nodes: {detail}")
    store.save(
        _record_file(inv.path),
        {"inventory_mtime_ns": inv.path.stat().st_mtime_ns, "files": {**done, str(staged): hosts}},
    )
    return str(staged)
