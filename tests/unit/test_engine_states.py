"""What a failed deploy left running: each engine's state, read as `status` reads it, with the
hosts where the run failed for it. Playbooks and the engines are faked; the lecture's two-node
lab (node1: Spark master and H2O, node2: Spark worker and H2O)."""

import json
from pathlib import Path

import pytest

from dmlctl.cluster import engine_states
from dmlctl.cluster import status as cluster_status
from dmlctl.doctor import plan
from dmlctl.errors import OperationError
from dmlctl.playbooks import runner
from dmlctl.playbooks.events import PlaybookProgress
from dmlctl.playbooks.inventory import load
from dmlctl.playbooks.runner import RunOutcome

PAYLOADS = Path(__file__).parent / "payloads"
SPARK_MASTER = json.loads((PAYLOADS / "spark_master_2workers.json").read_text())


def _event(kind: str, host: str, task: str, role: str = "", **res) -> dict:
    data = {"host": host, "task": task, "res": res}
    if role:
        data["role"] = role
    return {"event": kind, "event_data": data}


# Spark's play started Spark on both nodes; H2O's play then failed on node2.
H2O_FAILED = [
    {"event": "playbook_on_play_start", "event_data": {"play": "Deploy the Spark cluster"}},
    _event("runner_on_ok", "node1", "Start the Spark master", "spark", changed=True),
    _event("runner_on_ok", "node2", "Start the Spark worker", "spark", changed=True),
    {"event": "playbook_on_play_start", "event_data": {"play": "Deploy the H2O cloud"}},
    _event("runner_on_ok", "node1", "Start H2O", "h2o", changed=True),
    _event("runner_on_failed", "node2", "Start H2O", "h2o", msg="h2o.service did not start"),
    {"event": "playbook_on_stats",
     "event_data": {"ok": {"node1": 3, "node2": 1}, "failures": {"node2": 1}}},
]  # fmt: skip


@pytest.fixture
def failing_runs(monkeypatch, tmp_path):
    """Every playbook run fails as H2O_FAILED (nothing runs); the runs asked for."""
    runs = []

    def run(playbook, inventory, *, on_event, check=False, extravars=None, **kw):
        runs.append({"playbook": playbook, "check": check})
        for event in H2O_FAILED:
            on_event(event)
        return RunOutcome("failed", 2, tmp_path)

    monkeypatch.setattr(runner, "run_playbook", run)
    monkeypatch.setattr(plan, "probe", lambda *a, **k: {})  # doctor finds nothing to stop it
    return runs


def _model(inventory_file, spark_json=SPARK_MASTER, reachable=True) -> dict:
    """The status model of the two-node lab: Spark's master as recorded, no H2O node answering."""
    inv = load(Path(inventory_file))
    ends = cluster_status.endpoints(inv)
    clouds = {address: (None, "Connection refused") for address in ends.h2o_nodes}
    return {
        "spark": cluster_status.spark_status(ends, spark_json, None if spark_json else "refused"),
        "h2o": cluster_status.h2o_status(ends, clouds),
        "hosts": [{"name": host, "reachable": reachable} for host in inv.hosts],
    }


@pytest.fixture
def asked(monkeypatch, inventory_file):
    """The status reads made (their timeouts); each answers the two-node lab's model."""
    timeouts = []

    def collect_for(conn, timeout=2.0):
        timeouts.append(timeout)
        return _model(inventory_file)

    monkeypatch.setattr(cluster_status, "collect_for", collect_for)
    return timeouts


def test_a_deploy_whose_h2o_play_failed_says_spark_runs_and_where_h2o_failed(
    cli, capsys, failing_runs, asked, inventory_file
):
    code, _, err = cli("deploy", "-i", inventory_file)
    assert code == 1  # as before: a failed deploy exits 1
    line = "Spark: running (master node1, 1 worker) — H2O: failed on node2 (see the log above)"
    assert line in err
    assert err.index(line) < err.index("deploy.yml failed")
    assert asked == [engine_states.TIMEOUT] and engine_states.TIMEOUT <= 2


def test_a_failed_deploy_json_tells_each_engine(cli, capsys, failing_runs, asked, inventory_file):
    code, out, _ = cli("deploy", "-i", inventory_file, "--json")
    result = json.loads(out)
    assert code == 1 and result["ok"] is False and "node2" in result["hosts"]
    assert result["engines"] == {
        "spark": {"running": True, "detail": "master node1, 1 worker", "failed_on": []},
        "h2o": {"running": False, "detail": "no node answers", "failed_on": ["node2"]},
    }


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (OperationError("the H2O cloud refused the login\nfrom hosts.ini (HTTP 401)"),
         "the H2O cloud refused the login from hosts.ini (HTTP 401)"),
        (OSError("[Errno 101] Network is unreachable"), "[Errno 101] Network is unreachable"),
        (KeyError("spark"), "KeyError: 'spark'"),
        (KeyboardInterrupt(), "not read: interrupted"),  # Ctrl-C while it reads
    ],
)  # fmt: skip
def test_a_state_that_cannot_be_read_is_unknown_in_one_line(
    cli, capsys, monkeypatch, failing_runs, inventory_file, error, reason
):
    def collect_for(conn, timeout=2.0):
        raise error

    monkeypatch.setattr(cluster_status, "collect_for", collect_for)
    code, _, err = cli("deploy", "-i", inventory_file)
    assert code == 1 and "Traceback" not in err
    [line] = [line for line in err.splitlines() if "state unknown" in line]
    assert line == f"Spark, H2O: state unknown ({reason})"
    assert "deploy.yml failed" in err
    code, out, _ = cli("deploy", "-i", inventory_file, "--json")
    engines = json.loads(out)["engines"]
    assert code == 1 and engines["h2o"]["running"] is None
    assert engines["h2o"]["failed_on"] == ["node2"]  # known from the run all the same


def test_a_cluster_no_host_of_which_answers_is_in_an_unknown_state(
    cli, capsys, monkeypatch, failing_runs, inventory_file
):
    model = _model(inventory_file, spark_json=None, reachable=False)
    monkeypatch.setattr(cluster_status, "collect_for", lambda conn, timeout=2.0: model)
    code, _, err = cli("deploy", "-i", inventory_file)
    assert code == 1
    assert "Spark, H2O: state unknown (no host of the cluster answers over SSH)" in err


def test_a_failed_start_tells_too_and_a_check_or_a_stop_does_not(
    cli, capsys, failing_runs, asked, inventory_file
):
    code, _, err = cli("start", "h2o", "-i", inventory_file)
    assert code == 1 and "H2O: failed on node2" in err and len(asked) == 1
    code, _, err = cli("deploy", "-i", inventory_file, "--check")
    assert code == 1 and "H2O: failed" not in err  # a check run changed nothing
    code, _, err = cli("stop", "-i", inventory_file)
    assert code == 1 and "H2O: failed" not in err and "stop.yml failed" in err
    assert len(asked) == 1


def test_a_successful_deploy_reads_no_state(cli, capsys, playbook_runs, asked, inventory_file):
    code, _, err = cli("deploy", "-i", inventory_file, "--limit", "node1")
    assert code == 0 and asked == [] and "running" not in err


def _failures(*events):
    progress = PlaybookProgress()
    for event in events:
        progress.feed(event)
    return progress.failures


def test_a_failure_counts_for_its_engine_or_for_every_engine_of_its_host(inventory_file):
    inv = load(Path(inventory_file))
    model = _model(inventory_file)
    # Spark's own role failed on node2: Spark's, not H2O's.
    spark_failed = _failures(_event("runner_on_failed", "node2", "Start the worker", "spark"))
    spark, h2o = engine_states.judge(inv, model, spark_failed)
    assert spark.failed_on == ("node2",) and h2o.failed_on == ()
    # Java on node2 (before either engine's play): both engines node2 runs.
    java_failed = _failures(_event("runner_on_failed", "node2", "Install Java", "java"))
    assert [s.failed_on for s in engine_states.judge(inv, model, java_failed)] == [
        ("node2",),
        ("node2",),
    ]
    # node1 unreachable outside any role: the Spark master's host and an H2O node.
    gone = _failures(_event("runner_on_unreachable", "node1", "Gathering Facts", msg="timed out"))
    assert [s.failed_on for s in engine_states.judge(inv, model, gone)] == [
        ("node1",),
        ("node1",),
    ]


def test_an_engine_running_where_the_run_failed_says_both(inventory_file):
    from rich.console import Console

    from dmlctl.ui.progress import render_engine_states

    inv = load(Path(inventory_file))
    model = _model(inventory_file, spark_json={**SPARK_MASTER, "workers": []})
    failed = _failures(_event("runner_on_failed", "node2", "Start the worker", "spark"))
    console = Console(width=200, record=True, color_system=None)
    console.print(render_engine_states(engine_states.judge(inv, model, failed)))
    assert console.export_text().strip() == (
        "Spark: running (master node1, 0 of 1 workers), but failed on node2 (see the log above)"
        " — H2O: not running (no node answers)"
    )
