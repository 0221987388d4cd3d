"""The event→display model, fed with ansible-runner events of a small play (ping, a command,
a skipped task, a failing one) on two lab nodes and one unreachable host.

payloads/runner_events.json is trimmed from a real run: only the fields the model reads are
kept (event; play, task, host, res, and the stats), not the uuids, counters, timestamps and
stdout ansible-runner also sends; the play's name is a placeholder.
"""

import json
from pathlib import Path

from rich.console import Console

from dmlctl.playbooks.events import PlaybookProgress, failure_message, recap_json
from dmlctl.ui.progress import (
    PlaybookView,
    render_changes,
    render_failures,
    render_live,
    render_recap,
)

EVENTS = json.loads((Path(__file__).parent / "payloads" / "runner_events.json").read_text())


def _fed(events=EVENTS, **kwargs) -> PlaybookProgress:
    progress = PlaybookProgress(**kwargs)
    for event in events:
        progress.feed(event)
    return progress


def _text(renderable) -> str:
    console = Console(width=120, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_hosts_counters_and_last_task_follow_the_events():
    progress = _fed()
    assert progress.play == "Recorded play"
    assert progress.tasks_per_play == {"Recorded play": 4}
    node1, node2 = progress.hosts["node1"], progress.hosts["node2"]
    assert (node1.ok, node1.changed, node1.skipped, node1.failed) == (2, 1, 2, 0)
    assert (node2.ok, node2.changed, node2.failed) == (3, 1, 1)
    assert node2.last_task == "Fail on node2"
    assert progress.hosts["ghost"].state == "unreachable"
    assert node2.state == "failed"
    assert node1.state == "changed"


def test_failures_are_in_plain_words():
    progress = _fed()
    by_host = {f.host: f for f in progress.failures}
    assert by_host["node2"].task == "Fail on node2"
    assert by_host["node2"].message == "exit code 3: boom"
    assert by_host["ghost"].unreachable
    assert "timed out" in by_host["ghost"].message
    text = _text(render_failures(progress))
    assert "node2 — Fail on node2: exit code 3: boom" in text


def test_recap_comes_from_playbook_on_stats():
    progress = _fed()
    assert progress.recap["node2"] == {
        "ok": 3, "changed": 1, "failures": 1, "unreachable": 0, "skipped": 0,
    }  # fmt: skip
    assert progress.recap["ghost"]["unreachable"] == 1
    assert recap_json(progress, ok=False)["ok"] is False
    text = _text(render_recap(progress))
    assert "node1" in text and "ghost" in text


def test_progress_fraction_uses_the_previous_runs_task_count():
    second_task = [i for i, e in enumerate(EVENTS) if e["event"] == "playbook_on_task_start"][1]
    halfway = EVENTS[: second_task + 1]
    progress = _fed(halfway, expected_tasks={"Recorded play": 4})
    assert progress.tasks_started == 2
    assert progress.play_fraction == 0.5
    assert "task 2/4" in _text(render_live(progress))
    assert _fed(halfway).play_fraction is None


def test_identical_failures_on_several_hosts_print_once():
    failed = {"task": "Install Java", "res": {"msg": "No package openjdk-17-jre-headless"}}
    events = [
        {"event": "runner_on_failed", "event_data": {**failed, "host": host}}
        for host in ("node1", "node2")
    ]
    text = _text(render_failures(_fed(events)))
    assert text.strip() == "node1, node2 — Install Java: No package openjdk-17-jre-headless"


def test_ignored_failures_do_not_count():
    event = {
        "event": "runner_on_failed",
        "event_data": {"host": "h", "task": "t", "ignore_errors": True, "res": {"msg": "x"}},
    }
    progress = _fed([event])
    assert progress.failures == []
    assert progress.hosts["h"].failed == 0


def test_failure_message_prefers_msg_then_failed_loop_item():
    assert failure_message({"msg": "Could not find java"}) == "Could not find java"
    looped = {"results": [{"failed": False}, {"failed": True, "msg": "No package openjdk-99"}]}
    assert failure_message(looped) == "No package openjdk-99"
    assert failure_message({}) == "failed (no message from the module)"


def test_the_view_draws_its_model_only_when_live():
    for live in (False, True):
        console = Console(width=120, record=True, color_system=None, force_terminal=live)
        progress = PlaybookProgress()
        with PlaybookView(progress, console, live=live) as view:
            for event in EVENTS:
                progress.feed(event)
                view.refresh(event)
        assert view.progress.recap == _fed().recap
        assert bool(console.export_text().strip()) is live


def test_changes_name_the_changed_items_of_looped_tasks():
    def ok(host, task, res):
        return {"event": "runner_on_ok", "event_data": {"host": host, "task": task, "res": res}}

    removed = {
        "changed": True,
        "results": [
            {"changed": True, "path": "/opt/spark", "item": "/opt/spark"},
            {"changed": False, "path": "/etc/spark", "item": "/etc/spark"},
            {"changed": True, "name": "spark-worker.service", "item": "spark-worker"},
        ],
    }
    progress = _fed(
        [
            ok("node1", "Remove Spark", removed),
            ok("node2", "Remove Spark", removed),
            ok("node1", "Reload systemd", {"changed": True}),
            ok("node1", "Remove the data", {"changed": True, "path": "/var/lib/spark"}),
            ok("node1", "Remove the user", {"changed": True, "name": "spark", "uid": 999}),
            ok("node1", "Look", {"changed": False}),
        ]
    )
    assert [(c.host, c.task, c.what) for c in progress.changes] == [
        ("node1", "Remove Spark", ("/opt/spark", "spark-worker.service")),
        ("node2", "Remove Spark", ("/opt/spark", "spark-worker.service")),
        ("node1", "Reload systemd", ()),
        ("node1", "Remove the data", ("/var/lib/spark",)),
        ("node1", "Remove the user", ("spark",)),
    ]
    text = _text(render_changes(progress, "would change:"))
    assert "node1, node2 — Remove Spark: /opt/spark, spark-worker.service" in text
    assert "node1 — Reload systemd\n" in text
    assert recap_json(progress, True)["changes"][2] == {
        "host": "node1", "task": "Reload systemd", "items": [],
    }  # fmt: skip
    assert "nothing" in _text(render_changes(_fed([]), "would change:"))
