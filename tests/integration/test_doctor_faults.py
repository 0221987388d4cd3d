"""doctor and a deploy that meets trouble, on the shared 3-node cluster, after every other test
that uses it (marked `disturbs_cluster`): doctor passes on the deployed cluster; a foreign
process on an engine port fails doctor and stops deploy before it changes anything; Ctrl-C
part-way through a deploy leaves nothing the next run does not finish; a stopped machine fails
doctor and deploy, names itself while the others converge, and a deploy once it is back heals
the cluster. (A fresh, undeployed lab passing doctor is in test_lab.)

The tests run in order and build on each other's state; the cluster ends healthy.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dmlctl.lab import podman

pytestmark = [pytest.mark.integration, pytest.mark.disturbs_cluster]

DMLCTL = str(Path(sys.executable).parent / "dmlctl")


class Lab:
    """The shared cluster, with what these tests do to its machines."""

    def __init__(self, cluster) -> None:
        self.name, self.state, self.inventory = cluster.name, cluster.state_dir, cluster.inventory
        self.env = {**os.environ, "DMLCTL_STATE_DIR": str(self.state)}
        self.dmlctl = cluster.dmlctl

    def node(self, name: str) -> dict:
        nodes = json.loads((self.state / "labs" / self.name / "lab.json").read_text())["nodes"]
        return next(n for n in nodes if n["name"] == name)

    def podman(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["podman", *args], capture_output=True, text=True, env=podman.env(), check=True
        )

    def doctor(self) -> tuple[int, dict]:
        result = self.dmlctl("doctor", "--json", "-i", str(self.inventory), timeout=120)
        return result.returncode, json.loads(result.stdout)

    def status(self) -> tuple[int, dict]:
        result = self.dmlctl("status", "--json", "-i", str(self.inventory), timeout=60)
        return result.returncode, json.loads(result.stdout)


def _failures(report: dict) -> list[dict]:
    return [c for c in report["checks"] if c["status"] == "fail"]


@pytest.fixture(scope="module")
def lab(cluster):
    assert cluster.deploy.returncode == 0, cluster.deploy.stderr[-3000:]
    original = cluster.inventory.read_text()
    yield Lab(cluster)
    cluster.inventory.write_text(original)


def test_doctor_passes_on_the_deployed_cluster(lab):
    code, report = lab.doctor()
    assert code == 0, _failures(report)
    assert report["ok"] is True
    ports = {c["host"]: c["detail"] for c in report["checks"] if c["check"] == "ports"}
    assert (
        "held by dmlctl's own services (h2o, spark)" in ports["node2"] and "54321" in ports["node2"]
    )


def test_a_foreign_listener_fails_doctor_and_stops_deploy_before_any_change(lab):
    container = lab.node("node2")["container"]
    lab.podman("exec", container, "systemctl", "stop", "h2o.service")
    lab.podman("exec", "-d", container, "python3", "-m", "http.server", "54321")
    code, report = lab.doctor()
    for _ in range(20):  # the server takes a moment to listen
        if code:
            break
        time.sleep(0.5)
        code, report = lab.doctor()
    assert code == 1
    [failure] = _failures(report)
    assert (failure["host"], failure["check"]) == ("node2", "ports")
    assert "port 54321 (h2o_port) is held by python3" in failure["detail"]
    assert "http.server" in failure["detail"] and failure["fix"]

    human = lab.dmlctl("doctor", "-i", str(lab.inventory), timeout=120)
    assert human.returncode == 1 and "54321" in human.stdout and "node2" in human.stdout

    stopped = lab.dmlctl("deploy", "-i", str(lab.inventory))
    assert stopped.returncode == 1
    assert "stopped before changing anything" in stopped.stderr
    assert "recap" not in stopped.stderr  # no playbook ran
    assert "python3" in stopped.stderr and "54321" in stopped.stderr

    pid = failure["detail"].split("(pid ")[1].split(",")[0]
    lab.podman("exec", container, "kill", pid)
    code, report = lab.doctor()
    assert code == 0, _failures(report)
    # node2's H2O stays stopped: the next test's deploy must bring it back into the cloud.


def test_ctrl_c_during_a_changing_deploy_leaves_nothing_the_next_one_does_not_finish(lab):
    """New heap sizes; the deploy is interrupted right after the new H2O unit is written, before
    the cloud restarts with it. The next deploy brings the new sizes to every node (the whole H2O
    cloud restarts together, the Spark workers come back with theirs) and brings back node2's
    H2O, stopped above."""
    original = lab.inventory.read_text()
    assert "h2o_max_heap=1g" in original and "spark_worker_memory=2g" in original
    lab.inventory.write_text(
        original.replace("h2o_max_heap=1g", "h2o_max_heap=768m").replace(
            "spark_worker_memory=2g", "spark_worker_memory=1g"
        )
    )
    deploy = subprocess.Popen(
        [DMLCTL, "deploy", "--verbose", "-i", str(lab.inventory)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=lab.env,
        # As in a terminal: a shell that starts us in the background may have SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    seen, in_unit_task = [], False
    assert deploy.stdout is not None
    for line in deploy.stdout:
        seen.append(line)
        if "TASK [" in line:
            in_unit_task = "Install the H2O unit" in line
        elif in_unit_task and "changed:" in line:
            deploy.send_signal(signal.SIGINT)
            break
    rest = deploy.communicate(timeout=300)[0]
    assert deploy.returncode == 1, "".join(seen)[-3000:] + rest[-2000:]
    assert "cancelled" in rest

    again = lab.dmlctl("deploy", "-i", str(lab.inventory), timeout=1800)
    assert again.returncode == 0, again.stderr[-3000:]
    code, model = lab.status()
    assert code == 0, model
    assert model["h2o"]["cloud_size"] == 3 and model["h2o"]["consensus"]
    assert all(512 << 20 < n["max_mem"] <= 768 << 20 for n in model["h2o"]["nodes"]), model
    # The master lists workers that re-registered after a restart twice: old entries are DEAD.
    alive = [w["memory_mb"] for w in model["spark"]["workers"] if w["state"] == "ALIVE"]
    assert alive == [1024, 1024], model["spark"]["workers"]


def _wait_for_ssh(address: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, 22), timeout=2) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"sshd on {address} did not come back")


def test_a_stopped_machine_is_named_the_others_converge_and_it_heals_when_back(lab):
    node3 = lab.node("node3")
    lab.podman("stop", "--time", "0", node3["container"])
    code, report = lab.doctor()
    assert code == 1
    assert [(f["host"], f["check"]) for f in _failures(report)] == [("node3", "ssh")]

    deploy = lab.dmlctl("deploy", "--json", "-i", str(lab.inventory), timeout=1800)
    assert deploy.returncode == 1
    recap = json.loads(deploy.stdout)
    assert recap["hosts"]["node3"]["unreachable"] > 0
    assert recap["hosts"]["node1"]["failures"] == recap["hosts"]["node2"]["failures"] == 0
    assert "node3" in deploy.stderr and "unreachable" in deploy.stderr

    code, model = lab.status()
    assert code == 1
    assert model["spark"]["status"] == "ALIVE"
    assert model["spark"]["missing_worker_names"] == [f"node3 ({node3['ip']})"]
    human = lab.dmlctl("status", "-i", str(lab.inventory), timeout=60)
    assert f"Spark worker node3 ({node3['ip']}) is not registered" in human.stdout
    assert any(p.startswith(f"node3 ({node3['ip']}") for p in model["h2o"]["problems"])
    assert {h["name"] for h in model["hosts"] if not h["reachable"]} == {"node3"}

    # Back at its inventory address: podman hands a restarted container a new one.
    lab.podman("start", node3["container"])
    network = f"dmlctl-{lab.name}"
    lab.podman("network", "disconnect", network, node3["container"])
    lab.podman("network", "connect", "--ip", node3["ip"], network, node3["container"])
    _wait_for_ssh(node3["ip"])
    healed = lab.dmlctl("deploy", "-i", str(lab.inventory), timeout=1800)
    assert healed.returncode == 0, healed.stderr[-3000:]
    code, model = lab.status()
    assert code == 0, model
    assert (model["spark"]["workers_alive"], model["h2o"]["cloud_size"]) == (2, 3)
