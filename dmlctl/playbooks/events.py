"""What a running playbook did, as plain data fed with ansible-runner's events.

Tests feed it recorded events; `dmlctl.ui.progress` draws it. Failures and changes are kept in
the words a recap shows them in.
"""

from dataclasses import dataclass, field

COUNTERS = ("ok", "changed", "failures", "unreachable", "skipped")
# playbook_on_stats names unreachable hosts "dark".
STATS_KEYS = {"ok": "ok", "changed": "changed", "failures": "failures", "dark": "unreachable",
              "skipped": "skipped"}  # fmt: skip


@dataclass
class HostProgress:
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    last_task: str = ""

    @property
    def state(self) -> str:
        if self.unreachable:
            return "unreachable"
        if self.failed:
            return "failed"
        return "changed" if self.changed else "ok"


@dataclass(frozen=True)
class Failure:
    host: str
    task: str
    message: str
    unreachable: bool = False
    role: str = ""  # the failed task's role ("" outside any): whose part of a deploy failed


@dataclass(frozen=True)
class Change:
    """A task that changed (or, in check mode, would change) a host; what: its items."""

    host: str
    task: str
    what: tuple[str, ...] = ()


@dataclass
class PlaybookProgress:
    """Everything the display needs, updated event by event."""

    expected_tasks: dict[str, int] = field(default_factory=dict)  # per play, from the last run
    play: str = ""
    task: str = ""
    tasks_started: int = 0
    tasks_per_play: dict[str, int] = field(default_factory=dict)
    hosts: dict[str, HostProgress] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    recap: dict[str, dict[str, int]] | None = None
    # Per task name: when its first event and its last event were made (ISO times).
    task_times: dict[str, list[str]] = field(default_factory=dict)

    def feed(self, event: dict) -> None:
        kind = event.get("event", "")
        data = event.get("event_data", {})
        if (created := event.get("created")) and (task := data.get("task")):
            self.task_times.setdefault(task, [created, created])[1] = created
        if kind == "playbook_on_play_start":
            self.play = data.get("play", "")
            self.task = ""
            self.tasks_started = 0
        elif kind == "playbook_on_task_start":
            self.task = data.get("task", "")
            self.tasks_started += 1
            self.tasks_per_play[self.play] = self.tasks_started
        elif kind.startswith("runner_on_") and "host" in data:
            self._host_result(kind, data)
        elif kind == "playbook_on_stats":
            self.recap = {}
            for source, name in STATS_KEYS.items():
                for host, count in (data.get(source) or {}).items():
                    self.recap.setdefault(host, dict.fromkeys(COUNTERS, 0))[name] = count
            for host in data.get("processed") or {}:
                self.recap.setdefault(host, dict.fromkeys(COUNTERS, 0))

    def _host_result(self, kind: str, data: dict) -> None:
        host = self.hosts.setdefault(data["host"], HostProgress())
        host.last_task = data.get("task", self.task)
        result = data.get("res") or {}
        if kind == "runner_on_ok":
            host.ok += 1
            host.changed += bool(result.get("changed"))
            if result.get("changed"):
                self.changes.append(Change(data["host"], host.last_task, changed_items(result)))
        elif kind == "runner_on_skipped":
            host.skipped += 1
        elif kind == "runner_on_failed" and not data.get("ignore_errors"):
            host.failed += 1
            self.failures.append(_failure(data, host.last_task, result))
        elif kind == "runner_on_unreachable":
            host.unreachable += 1
            self.failures.append(_failure(data, host.last_task, result, unreachable=True))

    @property
    def play_fraction(self) -> float | None:
        """How far through the current play we are, when the last run told us its size."""
        expected = self.expected_tasks.get(self.play)
        if not expected:
            return None
        return min(self.tasks_started / expected, 1.0)


def _failure(data: dict, task: str, result: dict, *, unreachable: bool = False) -> Failure:
    role = data.get("role") or ""
    return Failure(data["host"], task, failure_message(result), unreachable, role)


def changed_items(result: dict) -> tuple[str, ...]:
    """What a task changed, by path or name (files, units, users): its own, or each changed
    loop item's."""
    if "results" not in result:
        target = result.get("path") or result.get("dest") or result.get("name")
        return (str(target),) if target else ()
    items = []
    for item in result["results"]:
        if isinstance(item, dict) and item.get("changed"):
            value = item.get("path") or item.get("dest") or item.get("name") or item.get("item")
            items.append(str(value.get("path", value) if isinstance(value, dict) else value))
    return tuple(items)


def failure_message(result: dict) -> str:
    """A module's failure in plain words: its msg, else the failed loop item's, plus stderr."""
    message = result.get("msg") or ""
    if not message:
        for item in result.get("results") or []:
            if isinstance(item, dict) and item.get("failed"):
                message = item.get("msg") or item.get("stderr") or ""
                break
    if message == "non-zero return code" and "rc" in result:
        message = f"exit code {result['rc']}"
    stderr = (result.get("stderr") or "").strip()
    if stderr and stderr not in str(message):
        tail = " | ".join(stderr.splitlines()[-3:])
        message = f"{message}: {tail}" if message else tail
    if isinstance(message, list):
        message = " ".join(map(str, message))
    return " ".join(str(message).split()) or "failed (no message from the module)"


def recap_json(progress: PlaybookProgress, ok: bool) -> dict:
    """`--json` output of the playbook commands: the recap per host and what changed."""
    return {
        "ok": ok,
        "hosts": progress.recap or {},
        "changes": [
            {"host": c.host, "task": c.task, "items": list(c.what)} for c in progress.changes
        ],
    }
