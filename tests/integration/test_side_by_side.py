"""A class at once, on the shared 3-node lab: grants side by side (a roster of ten and two
single names at the same moment) all give working profiles with at most as many H2O restarts
as there were commands, two deploys at once wait for each other, both succeed and put back what
drifted on a node, and eight KMeans submits at once all finish, Spark's fair share running them
side by side."""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DMLCTL = str(Path(sys.executable).parent / "dmlctl")
# Where each worker keeps its applications' directories (spark_data_dir/work).
SPARK_WORK = "/var/lib/spark/work"


def _start(cluster, *args: str) -> subprocess.Popen:
    env = {**os.environ, "DMLCTL_STATE_DIR": str(cluster.state_dir)}
    return subprocess.Popen(
        [DMLCTL, *args, "-i", str(cluster.inventory)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def _finish(proc: subprocess.Popen, timeout: float = 900) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_a_roster_and_two_grants_at_once_all_give_working_profiles(cluster, tmp_path):
    roster = tmp_path / "class.csv"
    roster.write_text("".join(f"cls{n},cls{n}@uni.example\n" for n in range(10)))
    profiles = tmp_path / "profiles"
    started = [
        _start(cluster, "access", "grant", "--roster", str(roster), "--out-dir", str(profiles)),
        _start(cluster, "access", "grant", "solo1", "--out-dir", str(profiles)),
        _start(cluster, "access", "grant", "solo2", "--out-dir", str(profiles)),
    ]
    done = [_finish(proc) for proc in started]
    for grant in done:
        assert grant.returncode == 0, grant.stdout[-2000:] + grant.stderr[-2000:]
        assert "Traceback" not in grant.stderr
    restarts = sum(grant.stdout.count("restarted once") for grant in done)
    assert 1 <= restarts <= 3  # one per command at most: a waiting grant may find its logins out
    names = [f"cls{n}" for n in range(10)] + ["solo1", "solo2"]
    listed = cluster.dmlctl("access", "ls", "--json", "-i", str(cluster.inventory))
    assert {row["name"] for row in json.loads(listed.stdout)} >= set(names)
    for name in names:
        status = cluster.dmlctl(
            "status", "--json", "--profile", str(profiles / f"{name}.profile.json")
        )
        assert status.returncode == 0, (name, status.stderr[-1000:])
        assert json.loads(status.stdout)["h2o"]["cloud_size"] == 3


def test_two_deploys_at_once_wait_for_each_other_and_repair_drift(cluster):
    # Drift a deploy must put back: a managed file's content, a managed directory's mode and
    # the service account's shell (none restarts a service when put back); services a sysadmin
    # disabled (still running) or stopped.
    cluster.on_node("node2", "sudo sh -c 'echo \"# drift\" >> /etc/spark/workers'")
    cluster.on_node("node2", "sudo chmod 0700 /var/lib/spark")
    cluster.on_node("node2", "sudo usermod -s /bin/bash spark")
    cluster.on_node("node1", "sudo systemctl disable -q spark-master")
    cluster.on_node("node3", "sudo systemctl disable -q h2o-watchdog")
    cluster.on_node("node2", "sudo systemctl stop spark-worker")
    first, second = _start(cluster, "deploy"), _start(cluster, "deploy")
    done = [_finish(first, 1800), _finish(second, 1800)]
    assert [d.returncode for d in done] == [0, 0], [d.stderr[-2000:] for d in done]
    waited = [d for d in done if "waiting: dmlctl deploy (pid" in d.stderr]
    assert len(waited) == 1, [d.stderr[-1500:] for d in done]
    assert "drift" not in cluster.on_node("node2", "cat /etc/spark/workers")
    assert cluster.on_node("node2", "stat -c %a /var/lib/spark") == "750"
    assert cluster.on_node("node2", "getent passwd spark").endswith(":/usr/sbin/nologin")
    assert cluster.on_node("node1", "systemctl is-enabled spark-master") == "enabled"
    assert cluster.on_node("node3", "systemctl is-enabled h2o-watchdog") == "enabled"
    assert cluster.on_node("node2", "systemctl is-active spark-worker") == "active"


def _watch_spark_apps(master_json: str, stop: threading.Event, seen: dict, together: list) -> None:
    """Record when each application first held cores, and every moment two or more did."""
    while not stop.is_set():
        try:
            with urllib.request.urlopen(master_json, timeout=3) as response:
                apps = json.loads(response.read())["activeapps"]
        except OSError:
            apps = []
        now = time.monotonic()
        holding = {a["id"] for a in apps if a["state"] == "RUNNING" and a["cores"] > 0}
        for app in holding:
            seen.setdefault(app, now)
        if len(holding) >= 2:
            together.append(holding)
        stop.wait(0.5)


def test_eight_kmeans_submits_at_once_all_succeed_side_by_side(cluster, tmp_path):
    """Eight students submit the lecture's KMeans with the inventory at the same moment: each
    stages its input on the nodes side by side (its own playbook run) and finishes; Spark's fair
    share runs them a few at a time: the first two hold cores together, neither waits for the
    other."""
    status = cluster.dmlctl("status", "--json", "-i", str(cluster.inventory), timeout=60)
    master_json = json.loads(status.stdout)["spark"]["ui"] + "/json/"
    seen: dict[str, float] = {}
    together: list[set[str]] = []
    stop = threading.Event()
    watcher = threading.Thread(
        target=_watch_spark_apps, args=(master_json, stop, seen, together), daemon=True
    )
    watcher.start()
    outs = [tmp_path / f"km{n}" for n in range(8)]
    started = [_start(cluster, "submit", "spark-kmeans", "--out", str(out)) for out in outs]
    try:
        done = [_finish(proc, 1500) for proc in started]
    finally:
        stop.set()
        watcher.join()
    for run in done:
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        assert "Traceback" not in run.stderr
    for out in outs:
        result = json.loads((out / "result.json").read_text())
        assert result["rows"] == 150 and sum(result["cluster_counts"].values()) == 150
    ids = {json.loads((out / "result.json").read_text())["app_id"] for out in outs}
    assert len(ids) == 8 and ids <= set(seen), seen
    first, second = sorted(seen.values())[:2]
    assert second - first < 15, seen
    assert any(len(holding & ids) >= 2 for holding in together), together
    # The executors compiled with C1 alone: the Spark engine's job settings reached them.
    commands = "".join(
        cluster.on_node(
            node,
            f"sudo sh -c 'head -qn1 {SPARK_WORK}/{sorted(ids)[0]}/*/stderr 2>/dev/null || true'",
        )
        for node in ("node2", "node3")
    )
    assert "Spark Executor Command" in commands, commands
    assert '"-XX:TieredStopAtLevel=1"' in commands, commands
