"""Running the project's playbooks on a cluster: what happens before and after Ansible runs.

A command asks `prepare` for a run (the hosts it reaches, its extra vars, with every check that
must stop it before anything changes), shows it however it likes while `execute` runs it, and
gets back what Ansible did. Nothing here draws on a terminal.
"""

import contextlib
import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from dmlctl import engines, store
from dmlctl.cluster import executor_python
from dmlctl.errors import UsageError
from dmlctl.paths import state_dir
from dmlctl.playbooks import runner
from dmlctl.playbooks.events import PlaybookProgress
from dmlctl.playbooks.inventory import ClusterInventory
from dmlctl.security import policy
from dmlctl.security.cluster_secrets import ClusterSecrets
from dmlctl.staging import nodes

# Playbooks that configure or check the engines and so need the cluster's secrets.
SECURED_PLAYBOOKS = frozenset({"deploy.yml", "start.yml", "restart.yml"})
# Playbooks that change the engines: one at a time per cluster (two deploys, two H2O restarts
# for two grants, a stop during a start would undo each other).
CHANGING_PLAYBOOKS = frozenset({"deploy.yml", "start.yml", "stop.yml", "restart.yml",
                                "uninstall.yml"})  # fmt: skip


@dataclass
class PlaybookRun:
    playbook: str
    inv: ClusterInventory
    hosts: list[str]
    limit: str | None
    check: bool
    extravars: dict
    secure: bool
    progress: PlaybookProgress = field(default_factory=PlaybookProgress)


@contextlib.contextmanager
def changing(inv_path: Path, what: str, waiting=None):
    """The lock held while a command changes the cluster of INV_PATH: a second one waits, and
    WAITING(holder) is called first with what the holder said it does."""
    path = state_dir() / "locks" / f"{store.inventory_key(inv_path)}.lock"

    def wait(holder: str) -> None:
        if waiting is not None:
            waiting(holder or "another dmlctl command")

    with store.locked(path, holder=f"dmlctl {what} (pid {os.getpid()})\n", waiting=wait):
        yield


def _task_counts_file() -> Path:
    return state_dir() / "task-counts.json"


def selected_hosts(inv: ClusterInventory, limit: str | None) -> list[str]:
    """The hosts a run reaches; a --limit that Ansible matches to no host is refused (the run
    would silently do nothing)."""
    if limit is None:
        return inv.hosts
    if selected := inv.hosts_matching(limit):
        return selected
    parts = {part.lstrip("&!") for part in re.split("[,:]", limit)}
    by_address = [host for host in inv.hosts if inv.address(host) in parts]
    hint = f"hosts: {', '.join(inv.hosts)}; groups: {', '.join(sorted(inv.groups))}"
    if by_address:
        hint = f"Ansible matches host names, not addresses: use {', '.join(by_address)}"
    raise UsageError(f"--limit {limit!r} matches no host in {inv.path}.", hint=hint)


def _builds_here(inv: ClusterInventory, host: str, engine: str) -> bool:
    """Whether the role runs ENGINE's bundle script on this machine for HOST, as the roles'
    defaults decide: the bundle source (the default on labs), or no version given."""
    source = inv.artifact_source(host, engine)
    return source == "bundle" or not inv.var(host, f"{engine}_version")


def require_bundle_clients(inv: ClusterInventory, hosts: list[str], chosen: list[str]) -> None:
    """A deploy reads the engines' client packages here for their bundle and version: without
    them (no [jobs] extra) it would fail deep in a role, so say so before anything runs."""
    for engine in map(engines.get, chosen):
        if importlib.util.find_spec(engine.client_package) is not None:
            continue
        members = {h for service in engine.services for h in inv.group(service.group)}
        if any(_builds_here(inv, h, engine.name) for h in hosts if h in members):
            raise UsageError(
                f"deploying {engine.label} needs the {engine.client_package} package on this "
                "machine (its bundle and version come from it), which this dmlctl was "
                "installed without",
                hint=f"install the engine clients: {engines.CLIENTS_EXTRA}",
            )


def check_run(
    playbook: str, inv: ClusterInventory, limit: str | None, extravars: dict | None
) -> list[str]:
    """The hosts a run of PLAYBOOK reaches; UsageError when it cannot work."""
    hosts = selected_hosts(inv, limit)
    if playbook == "deploy.yml":
        chosen = (extravars or {}).get("dmlctl_engines", engines.NAMES)
        require_bundle_clients(inv, hosts, chosen)
    return hosts


def prepare(
    playbook: str,
    inv: ClusterInventory,
    *,
    limit: str | None = None,
    check: bool = False,
    extravars: dict | None = None,
    insecure: bool | None = None,
    hosts: list[str] | None = None,
) -> PlaybookRun:
    """A run of PLAYBOOK on INV (see check_run). For the engines' playbooks it makes any
    missing secret and says where they are; INSECURE: see policy.playbook_vars (None keeps
    the mode of the last deploy). HOSTS: what check_run already said, so it is not asked twice."""
    hosts = hosts if hosts is not None else check_run(playbook, inv, limit, extravars)
    extravars = dict(extravars or {})
    if playbook in SECURED_PLAYBOOKS:
        security_vars = policy.playbook_vars(inv, inv.path, insecure=insecure, record=not check)
        secure = policy.INSECURE_VAR not in security_vars
        extravars.update(security_vars)
    else:
        secure = policy.secure(inv, inv.path)
    expected = store.load(_task_counts_file(), {}).get(playbook, {})
    run = PlaybookRun(playbook, inv, hosts, limit, check, extravars, secure)
    run.progress.expected_tasks = expected
    return run


def execute(run: PlaybookRun, on_event, *, verbose: bool = False) -> runner.RunOutcome:
    """Run RUN's playbook; ON_EVENT sees every event after RUN.progress has. Afterwards the
    task counts (for the next run's progress bar) and the executors' Python are recorded."""
    nodes.forget(run.inv.path)  # the machines may change under this run
    python_seen = executor_python.Seen()

    def feed(event: dict) -> None:
        run.progress.feed(event)
        python_seen.feed(event)
        on_event(event)

    outcome = runner.run_playbook(
        run.playbook,
        run.inv.path,
        on_event=feed,
        limit=run.limit,
        check=run.check,
        extravars=run.extravars,
        verbose=verbose,
    )
    if run.check:
        return outcome
    if outcome.ok:
        with store.updating(_task_counts_file(), {}) as counts:
            counts[run.playbook] = run.progress.tasks_per_play
    box = ClusterSecrets.for_inventory(run.inv.path)
    if python_seen.versions:
        box.note_executor_python(python_seen.versions)
    h2o_deployed = "h2o" in run.extravars.get("dmlctl_engines", engines.NAMES)
    if outcome.ok and run.playbook == "deploy.yml" and h2o_deployed and run.secure:
        box.note_logins_rolled_out()
    return outcome
