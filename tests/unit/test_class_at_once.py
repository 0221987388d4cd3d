"""A class at once: a roster granted in one H2O restart, and commands side by side that never
lose state or each other's events (real processes, real locks; the playbooks are faked)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dmlctl.playbooks import runner
from dmlctl.playbooks.runner import RunOutcome
from dmlctl.security.cluster_secrets import ClusterSecrets

INVENTORY = (Path(__file__).parent / "payloads" / "two_nodes.ini").read_text()
STOP, WAIT = "Stop every h2o node", "Wait until this node sees the whole cloud with consensus"


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    """A secure two-node cluster deployed from here, whose playbook runs are recorded: each
    restarts the H2O cloud for 42 s by its events."""
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(INVENTORY)
    ClusterSecrets.for_inventory(inventory).ensure({"node1": "127.0.0.1", "node2": "127.0.0.2"})
    runs = []

    def run(playbook, inv, *, on_event, extravars=None, **_):
        runs.append({"playbook": playbook, "vars": extravars})
        for task, at in ((STOP, "12:00:00"), (WAIT, "12:00:30"), (WAIT, "12:00:42")):
            created = f"2026-11-25T{at}.000000"
            on_event({"event": "runner_on_ok", "created": created,
                      "event_data": {"host": "node1", "task": task, "res": {}}})  # fmt: skip
        on_event({"event": "playbook_on_stats", "event_data": {"ok": {"node1": 3}}})
        return RunOutcome("successful", 0, tmp_path)

    monkeypatch.setattr(runner, "run_playbook", run)
    return inventory, runs


def test_a_roster_of_ten_is_granted_with_one_restart(cli, cluster, capsys, tmp_path):
    inventory, runs = cluster
    roster = tmp_path / "class.csv"
    names = [f"stu{i}" for i in range(10)]
    roster.write_text("# name,email\n" + "".join(f"{n},{n}@uni.example\n" for n in names) + "\n")
    out_dir = tmp_path / "profiles"
    code, out, err = cli(
        "access", "grant", "--roster", str(roster), "--out-dir", str(out_dir),
        "-i", str(inventory),
    )  # fmt: skip
    assert code == 0, err
    assert [r["vars"]["dmlctl_engines"] for r in runs] == [["h2o"]]
    assert "restarted once to load the logins, down for 42 s" in out
    box = ClusterSecrets.for_inventory(inventory)
    for name in names:
        profile = out_dir / f"{name}.profile.json"
        assert profile.stat().st_mode & 0o777 == 0o600
        data = json.loads(profile.read_text())
        assert data["h2o"]["user"] == name and data["h2o"]["password"] == box.logins()[name]
    code, out, _ = cli("access", "ls", "--json", "-i", str(inventory))
    assert [row["name"] for row in json.loads(out)] == sorted(names)
    code, out, _ = cli("access", "ls", "-i", str(inventory))
    table = [line.split() for line in out.splitlines()]
    assert table[0] == ["name", "granted", "profile", "written", "to"]
    assert [row[0] for row in table[1:]] == sorted(names)


def test_a_name_granted_again_is_reported_not_duplicated(cli, cluster, capsys, tmp_path):
    inventory, runs = cluster
    grant = ("access", "grant", "--out-dir", str(tmp_path), "-i", str(inventory))
    assert cli(*grant, "ann", "bob")[0] == 0
    box = ClusterSecrets.for_inventory(inventory)
    before = box.logins()
    code, out, _ = cli(*grant, "bob", "cat")
    assert code == 0 and len(runs) == 2
    assert "bob: already had a login (kept)" in out
    assert box.logins()["bob"] == before["bob"] and box.users() == ["ann", "bob", "cat"]
    # Only names that have logins already, all rolled out: no restart at all.
    code, out, _ = cli(*grant, "ann")
    assert code == 0 and len(runs) == 2 and "restarted" not in out


def test_revoke_takes_a_roster_and_refuses_unknown_names_changing_nothing(
    cli, cluster, capsys, tmp_path
):
    inventory, runs = cluster
    assert cli("access", "grant", "ann", "bob", "cat", "--out-dir", str(tmp_path),
                   "-i", str(inventory))[0] == 0  # fmt: skip
    code, _, err = cli("access", "revoke", "ann", "zed", "-i", str(inventory))
    assert code == 2 and "no login on this cluster: zed; nothing was changed" in err
    box = ClusterSecrets.for_inventory(inventory)
    assert box.users() == ["ann", "bob", "cat"] and len(runs) == 1
    roster = tmp_path / "leaving.txt"
    roster.write_text("ann\nbob  # moved to another course\n")
    code, out, _ = cli("access", "revoke", "--roster", str(roster), "-i", str(inventory))
    assert code == 0 and len(runs) == 2 and "restarted once to forget" in out
    assert box.users() == ["cat"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["Bad Name"], "is not a usable login name"),
        ([], "name at least one person"),
        (["ann", "bob", "--out", "x.json"], "--out names one file"),
        (["--roster", "/nonexistent/roster"], "cannot read the roster"),
    ],
)
def test_bad_grants_change_nothing(cli, cluster, capsys, argv, message):
    inventory, runs = cluster
    code, _, err = cli("access", "grant", *argv, "-i", str(inventory))
    assert code == 2 and message in err
    assert runs == [] and ClusterSecrets.for_inventory(inventory).users() == []


def _in_processes(count: int, script: str, tmp_path: Path) -> list[subprocess.CompletedProcess]:
    """Run SCRIPT (given its index as argv[1]) in COUNT processes started together."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script), str(i), str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(count)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def test_state_changed_at_once_by_many_processes_loses_nothing(tmp_path):
    script = """
        import sys
        from pathlib import Path
        from dmlctl import store
        from dmlctl.security.cluster_secrets import ClusterSecrets
        me, root = sys.argv[1], Path(sys.argv[2])
        for n in range(25):
            with store.updating(root / "counts.json", {}) as counts:
                counts[f"{me}-{n}"] = n
        ClusterSecrets(root / "secrets").add_users([f"stu{me}"])
    """
    results = _in_processes(8, script, tmp_path)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    assert len(json.loads((tmp_path / "counts.json").read_text())) == 8 * 25
    assert ClusterSecrets(tmp_path / "secrets").users() == [f"stu{i}" for i in range(8)]


def test_playbook_runs_at_once_keep_their_own_events(tmp_path):
    (tmp_path / "inventory.ini").write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )
    (tmp_path / "hello.yml").write_text(
        "- name: Local\n  hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: Say hello\n      ansible.builtin.debug:\n        msg: hello\n"
    )
    script = """
        import os, sys
        from pathlib import Path
        os.environ["DMLCTL_STATE_DIR"] = sys.argv[2] + "/state"
        from dmlctl.playbooks import runner
        root = Path(sys.argv[2])
        runner.PLAYBOOK_DIR = root
        runner.KEEP_RUNS = 1  # every run prunes what it may
        seen = []
        outcome = runner.run_playbook("hello.yml", root / "inventory.ini", on_event=seen.append)
        assert outcome.ok, outcome
        assert sum(e["event"] == "runner_on_ok" for e in seen) == 1
        print(outcome.artifact_dir)
    """
    results = _in_processes(6, script, tmp_path)
    assert all(r.returncode == 0 for r in results), [r.stderr[-2000:] for r in results]
    assert len({r.stdout for r in results}) == 6  # six runs, six artifact directories


def test_a_second_change_of_one_cluster_waits_and_says_for_whom(tmp_path):
    script = """
        import os, sys, time
        os.environ["DMLCTL_STATE_DIR"] = sys.argv[2] + "/state"
        from pathlib import Path
        from dmlctl.cluster import operations
        me, root = sys.argv[1], Path(sys.argv[2])
        if me == "1":
            while not (root / "first-holds").exists():
                time.sleep(0.05)
        with operations.changing(root / "hosts.ini", f"deploy-{me}", print):
            (root / "first-holds").touch()
            time.sleep(1.5 if me == "0" else 0)
            print("done", me, time.monotonic())
    """
    first, second = _in_processes(2, script, tmp_path)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert second.stdout.startswith("dmlctl deploy-0 (pid ")
    assert float(first.stdout.split()[-1]) <= float(second.stdout.split()[-1])
