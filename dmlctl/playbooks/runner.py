"""The one adapter between dmlctl and ansible-runner: runs the project's playbooks.

ansible-runner calls `event_handler` from its own thread; the handler only queues the event,
and the caller's thread (the one that owns the terminal) consumes the queue.
"""

import contextlib
import os
import queue
import shlex
import shutil
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dmlctl import store
from dmlctl.errors import OperationError, UsageError
from dmlctl.paths import ANSIBLE_CFG, PLAYBOOK_DIR, ROLES_DIR, state_dir

KEEP_RUNS = 20  # finished runs whose events and logs stay on disk
ABANDONED_AFTER_S = 3600  # a run directory still hidden this long was never started

EventSink = Callable[[dict], None]


@dataclass(frozen=True)
class RunOutcome:
    status: str  # successful | failed | canceled | timeout
    rc: int
    artifact_dir: Path

    @property
    def ok(self) -> bool:
        return self.status == "successful" and self.rc == 0


def _environment() -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    env = {
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
        "ANSIBLE_ROLES_PATH": str(ROLES_DIR),
        "ANSIBLE_FORCE_COLOR": "0",
    }
    if ANSIBLE_CFG.is_file():
        env["ANSIBLE_CONFIG"] = str(ANSIBLE_CFG)
    return env


@contextlib.contextmanager
def _private_data_dir(name: str) -> Iterator[Path]:
    """ansible-runner's working directory for one run, its own: runs at the same time (two
    commands, two users) never share or rotate away each other's events. While the run holds
    it, the directory is locked; older ones beyond the newest KEEP_RUNS are pruned only when
    nothing holds them.

    Runs are told everything as arguments, with suppress_env_files: left to itself,
    ansible-runner keeps the extravars and cmdline it is given in env/ and applies them to
    later runs of the same directory.
    """
    root = state_dir() / "runner"
    root.mkdir(parents=True, exist_ok=True)
    for legacy in ("env", "artifacts"):  # the shared directory of older dmlctl versions
        shutil.rmtree(root / legacy, ignore_errors=True)
    # Made under a hidden name that pruning leaves alone (unless it is an hour old), and shown
    # only once locked: a run starting beside a prune is never taken for a finished one.
    hidden = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    with store.locked(hidden / ".in-use"):
        path = hidden.rename(root / hidden.name[1:])
        _prune(root, keep=path)
        yield path


def _prune(root: Path, keep: Path) -> None:
    """Remove run directories beyond the newest KEEP_RUNS that no running command holds, and
    those of runs that never started."""
    runs: list[tuple[float, Path]] = []
    for path in root.iterdir():
        if path == keep:
            continue
        try:  # another command's prune may remove it between the listing and this look
            info = path.stat()
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(info.st_mode):
            continue
        if not path.name.startswith("."):
            runs.append((info.st_mtime, path))
        elif time.time() - info.st_mtime > ABANDONED_AFTER_S:
            # Hidden for an instant while a run starts; an old one is from a command killed then.
            shutil.rmtree(path, ignore_errors=True)
    runs.sort(key=lambda run: run[0], reverse=True)
    for _, old in runs[KEEP_RUNS:]:
        with store.try_locked(old / ".in-use") as free:
            if free:
                shutil.rmtree(old, ignore_errors=True)


def run_playbook(
    playbook: str,
    inventory: Path,
    *,
    on_event: EventSink,
    limit: str | None = None,
    check: bool = False,
    extravars: dict | None = None,
    verbose: bool = False,
) -> RunOutcome:
    """Run playbooks/PLAYBOOK against INVENTORY; feed every event to `on_event` in this thread.

    Ctrl-C cancels the run through ansible-runner's cancel_callback and raises OperationError
    once Ansible has stopped.
    """
    import ansible_runner  # only the playbook commands need it

    if not (PLAYBOOK_DIR / playbook).is_file():
        raise UsageError(f"playbook {playbook} is missing from {PLAYBOOK_DIR}.")
    events: queue.Queue[dict] = queue.Queue()
    cancelled = threading.Event()
    ident = f"{Path(playbook).stem}-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"

    def queue_event(event: dict) -> bool:
        events.put(event)
        return True  # keep it in the artifacts too

    # ansible-runner echoes Ansible's output (verbose runs) to sys.stdout from its thread: it is
    # progress, so it goes to stderr and stdout keeps only results (`--json` stays pure).
    with _private_data_dir(ident) as private_data_dir, contextlib.redirect_stdout(sys.stderr):
        thread, runner = ansible_runner.run_async(
            private_data_dir=str(private_data_dir),
            project_dir=str(PLAYBOOK_DIR),
            playbook=playbook,
            inventory=str(inventory.resolve()),
            limit=limit,
            cmdline="--check --diff" if check else None,
            extravars=extravars or {},
            envvars=_environment(),
            suppress_env_files=True,
            ident=ident,
            quiet=not verbose,
            event_handler=queue_event,
            cancel_callback=cancelled.is_set,
        )
        interrupted = _pump(thread, events, on_event, cancelled)
    outcome = RunOutcome(
        status=runner.status, rc=runner.rc or 0, artifact_dir=Path(runner.config.artifact_dir)
    )
    if interrupted or outcome.status == "canceled":
        raise OperationError(
            f"cancelled: {playbook} was stopped part-way; hosts may be half-configured.",
            hint="run the same command again to finish (the playbooks are idempotent)",
        )
    return outcome


def _pump(thread, events: queue.Queue, on_event: EventSink, cancelled: threading.Event) -> bool:
    """Hand queued events to ON_EVENT in this thread until the run ends; whether Ctrl-C
    cancelled it (the cancel callback then stops Ansible)."""
    interrupted = False
    while thread.is_alive() or not events.empty():
        try:
            on_event(events.get(timeout=0.1))
        except queue.Empty:
            continue
        except KeyboardInterrupt:
            interrupted = True
            cancelled.set()
    thread.join()
    return interrupted


def run_module(
    inventory: Path, hosts: list[str], module: str, args: str | dict, *, become: bool = True
) -> dict[str, tuple[bool, dict]]:
    """Run one module on HOSTS (ad hoc); per host (succeeded, the module's result)."""
    import ansible_runner

    with _private_data_dir(module.rsplit(".", 1)[-1]) as private_data_dir:
        result = ansible_runner.run(
            private_data_dir=str(private_data_dir),
            inventory=str(inventory.resolve()),
            host_pattern=",".join(hosts),
            module=module,
            module_args=args
            if isinstance(args, str)
            else " ".join(f"{key}={shlex.quote(str(value))}" for key, value in args.items()),
            extravars={"ansible_become": become},
            envvars=_environment(),
            suppress_env_files=True,
            quiet=True,
        )
        events = list(result.events)  # read from the run's artifacts while it is held
    answers: dict[str, tuple[bool, dict]] = {}
    for event in events:
        data = event.get("event_data", {})
        if event["event"] in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable"):
            answers[data["host"]] = (event["event"] == "runner_on_ok", data.get("res", {}))
    return answers


def run_command(
    inventory: Path, hosts: list[str], command: str, *, become: bool = True
) -> dict[str, tuple[bool, str]]:
    """Run one command on HOSTS; per host (succeeded, its output or error)."""
    return {
        host: (ok, res.get("stdout") or res.get("msg") or res.get("stderr") or "")
        for host, (ok, res) in run_module(
            inventory, hosts, "ansible.builtin.command", command, become=become
        ).items()
    }
