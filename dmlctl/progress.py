"""What a running playbook looks like: a model fed with ansible-runner events, and its view.

The model is plain data so tests can feed it recorded events; the `render_*` functions turn it
into rich renderables for the live display and the final recap. `PlaybookView` is the one path
from runner events to the screen.
"""

from dataclasses import dataclass, field

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

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

    def feed(self, event: dict) -> None:
        kind = event.get("event", "")
        data = event.get("event_data", {})
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
            self.failures.append(Failure(data["host"], host.last_task, failure_message(result)))
        elif kind == "runner_on_unreachable":
            host.unreachable += 1
            self.failures.append(
                Failure(data["host"], host.last_task, failure_message(result), unreachable=True)
            )

    @property
    def play_fraction(self) -> float | None:
        """How far through the current play we are, when the last run told us its size."""
        expected = self.expected_tasks.get(self.play)
        if not expected:
            return None
        return min(self.tasks_started / expected, 1.0)


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


# ---------------------------------------------------------------- views

_STATE_STYLE = {"ok": "green", "changed": "yellow", "failed": "bold red", "unreachable": "bold red"}


def render_live(progress: PlaybookProgress) -> RenderableType:
    header = Text.assemble(("PLAY ", "bold"), progress.play or "starting", style="cyan")
    task = Text.assemble(("TASK ", "bold"), progress.task or "…")
    fraction = progress.play_fraction
    bar = ProgressBar(total=1.0, completed=fraction or 0.0, pulse=fraction is None, width=40)
    counter = Text(f" task {progress.tasks_started}", style="dim")
    if progress.expected_tasks.get(progress.play):
        counter = Text(
            f" task {progress.tasks_started}/{progress.expected_tasks[progress.play]}", style="dim"
        )
    table = Table("host", "state", "ok", "changed", "failed", "last task", box=None)
    for name, host in sorted(progress.hosts.items()):
        table.add_row(
            name,
            Text(host.state, style=_STATE_STYLE[host.state]),
            str(host.ok),
            str(host.changed),
            str(host.failed + host.unreachable),
            Text(host.last_task, overflow="ellipsis", no_wrap=True),
        )
    bar_row = Table.grid()
    bar_row.add_row(bar, counter)
    return Group(header, task, bar_row, table)


def render_recap(progress: PlaybookProgress) -> RenderableType:
    table = Table("host", *COUNTERS, title="recap", title_justify="left")
    for host, counts in sorted((progress.recap or {}).items()):
        bad = counts["failures"] or counts["unreachable"]
        table.add_row(
            Text(host, style="bold red" if bad else "green"),
            *(str(counts[c]) for c in COUNTERS),
        )
    return table


def render_failures(progress: PlaybookProgress) -> RenderableType:
    """One line per distinct failure; hosts that failed the same way share it."""
    grouped: dict[tuple[str, str, bool], list[str]] = {}
    for f in progress.failures:
        grouped.setdefault((f.task, f.message, f.unreachable), []).append(f.host)
    lines = [
        Text.assemble(
            (", ".join(hosts), "bold red"),
            (" unreachable" if unreachable else "", "red"),
            f" — {task}: ",
            message,
        )
        for (task, message, unreachable), hosts in grouped.items()
    ]
    return Group(*lines)


def render_changes(progress: PlaybookProgress, title: str) -> RenderableType:
    """One line per changed task; hosts where it changed the same things share it."""
    grouped: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for change in progress.changes:
        grouped.setdefault((change.task, change.what), []).append(change.host)
    lines = [Text(title, style="bold")]
    lines += [
        Text.assemble(
            (", ".join(hosts), "yellow"), f" — {task}", (": " + ", ".join(what)) if what else ""
        )
        for (task, what), hosts in grouped.items()
    ]
    if not progress.changes:
        lines.append(Text("nothing", style="green"))
    return Group(*lines)


def recap_json(progress: PlaybookProgress, ok: bool) -> dict:
    """`--json` output of the playbook commands: the recap per host and what changed."""
    return {
        "ok": ok,
        "hosts": progress.recap or {},
        "changes": [
            {"host": c.host, "task": c.task, "items": list(c.what)} for c in progress.changes
        ],
    }


class PlaybookView:
    """The one path from runner events to the screen: `feed` updates the model, then the view.

    ansible-runner's thread only queues events; `runner.run_playbook` hands them to `feed` in
    the main thread, which owns the model and builds every renderable. Without `live` (for
    --verbose and --json) the model is fed and nothing is drawn while the playbook runs.
    """

    def __init__(self, progress: PlaybookProgress, console: Console, *, live: bool = True):
        self.progress = progress
        self._live = (
            Live(render_live(progress), console=console, refresh_per_second=8, transient=True)
            if live
            else None
        )

    def __enter__(self) -> "PlaybookView":
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._live is not None:
            self._live.stop()

    def feed(self, event: dict) -> None:
        self.progress.feed(event)
        if self._live is not None:
            self._live.update(render_live(self.progress))
