"""A class at once, on the shared 3-node lab: grants side by side (a roster of ten and two
single names at the same moment) all give working profiles with at most as many H2O restarts
as there were commands, and two deploys at once wait for each other and both succeed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DMLCTL = str(Path(sys.executable).parent / "dmlctl")


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


def test_two_deploys_at_once_wait_for_each_other(cluster):
    first, second = _start(cluster, "deploy"), _start(cluster, "deploy")
    done = [_finish(first, 1800), _finish(second, 1800)]
    assert [d.returncode for d in done] == [0, 0], [d.stderr[-2000:] for d in done]
    waited = [d for d in done if "waiting: dmlctl deploy (pid" in d.stderr]
    assert len(waited) == 1, [d.stderr[-1500:] for d in done]


def test_eight_kmeans_submits_at_once_all_succeed(cluster, tmp_path):
    """Eight students submit the lecture's KMeans with the inventory at the same moment: each
    stages its input on the nodes side by side (its own playbook run) and finishes; Spark's fair
    share runs them a few at a time."""
    outs = [tmp_path / f"km{n}" for n in range(8)]
    started = [_start(cluster, "submit", "spark-kmeans", "--out", str(out)) for out in outs]
    done = [_finish(proc, 1500) for proc in started]
    for run in done:
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        assert "Traceback" not in run.stderr
    for out in outs:
        result = json.loads((out / "result.json").read_text())
        assert result["rows"] == 150 and sum(result["cluster_counts"].values()) == 150
    assert len({json.loads((o / "result.json").read_text())["app_id"] for o in outs}) == 8
