"""A running playbook on the terminal: the live view of a `PlaybookProgress` and its recap.

`PlaybookView` is the one path from runner events to the screen.
"""

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from dmlctl import engines
from dmlctl.playbooks.events import COUNTERS, PlaybookProgress

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


def render_engine_states(states) -> Text:
    """What a failed run left (dmlctl.cluster.engine_states), one line:
    `Spark: running (master node1, 2 workers) — H2O: failed on node2 (see the log above)`."""
    if all(state.running is None for state in states):
        names = ", ".join(engines.label(state.engine) for state in states)
        return Text(f"{names}: state unknown ({states[0].detail})", style="yellow")
    parts = []
    for state in states:
        failed = f"failed on {', '.join(state.failed_on)} (see the log above)"
        if state.running:
            said = f"running ({state.detail})" + (f", but {failed}" if state.failed_on else "")
            style = "yellow" if state.failed_on else "green"
        else:
            said, style = (failed if state.failed_on else f"not running ({state.detail})"), "red"
        parts.append(Text.assemble(f"{engines.label(state.engine)}: ", (said, style)))
    return Text(" — ").join(parts)


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


class PlaybookView:
    """A playbook run on the terminal: `refresh` redraws it from its model after each event.

    ansible-runner's thread only queues events; the main thread feeds them to the model
    (`dmlctl.cluster.operations.execute`) and then calls `refresh`. Without `live` (for
    --verbose and --json) nothing is drawn while the playbook runs.
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

    def refresh(self, _event: dict | None = None) -> None:
        if self._live is not None:
            self._live.update(render_live(self.progress))
