"""What a sysadmin types, on a real 3-node lab: deploy, status, stop/start/restart, logs.

A second deploy that changes nothing is proven by test_installed (with the installed tool); a
changed setting that reaches every node, by test_doctor_faults (after an interrupted deploy)."""

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DMLCTL = str(Path(sys.executable).parent / "dmlctl")


def _status(cluster) -> tuple[int, dict]:
    result = cluster.dmlctl("status", "--json", "-i", str(cluster.inventory), timeout=60)
    return result.returncode, json.loads(result.stdout)


def test_deploy_brings_up_a_healthy_cluster(cluster):
    assert cluster.deploy.returncode == 0, cluster.deploy.stderr[-3000:]
    assert "recap" in cluster.deploy.stderr

    code, model = _status(cluster)
    assert code == 0, model
    assert model["healthy"]
    spark, h2o = model["spark"], model["h2o"]
    assert spark["status"] == "ALIVE"
    assert (spark["workers_alive"], spark["workers_expected"]) == (2, 2)
    assert (h2o["cloud_size"], h2o["nodes_expected"]) == (3, 3)
    assert h2o["consensus"] and h2o["healthy"]
    assert {h["name"] for h in model["hosts"] if h["reachable"]} == {"node1", "node2", "node3"}


def test_stopped_h2o_is_reported_and_start_heals_it(cluster):
    stopped = cluster.dmlctl("stop", "h2o", "-i", str(cluster.inventory))
    assert stopped.returncode == 0, stopped.stderr[-3000:]

    code, model = _status(cluster)
    assert code == 1
    assert not model["h2o"]["healthy"] and model["spark"]["healthy"]
    human = cluster.dmlctl("status", "-i", str(cluster.inventory), timeout=60)
    assert human.returncode == 1
    assert "H2O UNHEALTHY" in human.stdout

    started = cluster.dmlctl("start", "h2o", "-i", str(cluster.inventory))
    assert started.returncode == 0, started.stderr[-3000:]
    code, model = _status(cluster)
    assert code == 0, model
    assert model["h2o"]["cloud_size"] == 3


def test_logs_reads_the_journal_of_every_h2o_node(cluster):
    logs = cluster.dmlctl("logs", "h2o", "-n", "5", "-i", str(cluster.inventory), timeout=120)
    assert logs.returncode == 0, logs.stderr
    for node in ("node1", "node2", "node3"):
        assert f"── {node}" in logs.stderr


def test_logs_of_one_host(cluster):
    logs = cluster.dmlctl(
        "logs", "spark-worker", "--host", "node3", "--lines", "3", "-i", str(cluster.inventory),
        timeout=120,
    )  # fmt: skip
    assert logs.returncode == 0, logs.stderr
    assert [line for line in logs.stderr.splitlines() if line.startswith("──")] == [
        "── node3 · spark-worker.service"
    ]
    assert 1 <= len(logs.stdout.strip().splitlines()) <= 3


def test_status_watch_refreshes_until_ctrl_c(cluster):
    """On a terminal the picture is drawn again every 2 s (two different refresh times are
    seen), and Ctrl-C ends the watch with the cluster's verdict."""
    env = {**os.environ, "DMLCTL_STATE_DIR": str(cluster.state_dir), "COLUMNS": "120",
           "LINES": "60"}  # fmt: skip
    primary, secondary = pty.openpty()
    watching = subprocess.Popen(
        [DMLCTL, "status", "--watch", "-i", str(cluster.inventory)],
        stdin=secondary, stdout=secondary, stderr=secondary, env=env, close_fds=True,
        # As from a terminal: a shell that starts tests in the background ignores SIGINT.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    os.close(secondary)
    screen, deadline = b"", time.monotonic() + 60
    while len(set(re.findall(rb"refreshed (\d\d:\d\d:\d\d)", screen))) < 2:
        assert time.monotonic() < deadline, screen[-2000:]
        if select.select([primary], [], [], 1)[0]:
            screen += os.read(primary, 65536)
    watching.send_signal(signal.SIGINT)
    assert watching.wait(timeout=60) == 0
    os.close(primary)
    plain = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", screen)  # a terminal gets colours
    assert b"H2O healthy   Spark healthy" in plain


def test_restart_brings_spark_back_with_every_worker(cluster):
    restarted = cluster.dmlctl("restart", "spark", "-i", str(cluster.inventory))
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    code, model = _status(cluster)
    assert code == 0, model
    assert (model["spark"]["workers_alive"], model["spark"]["workers_expected"]) == (2, 2)
