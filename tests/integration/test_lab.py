"""A real 3-node lab, reached by Ansible over SSH exactly as bare-metal lab machines are."""

import json
import os
import subprocess
import sys
from pathlib import Path

import ansible_runner
import pytest

from dmlctl import lab
from dmlctl.lab import podman

pytestmark = pytest.mark.integration

DMLCTL = str(Path(sys.executable).parent / "dmlctl")


def dmlctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DMLCTL, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )


def run_module(
    tmp_path: Path, inventory: Path, module: str, args: str = "", **extravars
) -> dict[str, dict]:
    """Run one Ansible module on every host through ansible-runner; result per host."""
    private_data_dir = tmp_path / f"runner-{len(list(tmp_path.iterdir()))}"
    private_data_dir.mkdir()
    runner = ansible_runner.run(
        private_data_dir=str(private_data_dir),
        extravars=extravars,
        inventory=str(inventory),
        host_pattern="all",
        module=module,
        module_args=args,
        quiet=True,
    )
    results = {
        event["event_data"]["host"]: event["event_data"]["res"]
        for event in runner.events
        if event["event"] == "runner_on_ok"
    }
    assert runner.rc == 0, f"{module} failed: {runner.stats}"
    return results


@pytest.fixture
def lab_name():
    name = f"it-lab-{os.getpid()}"
    yield name
    if lab.lab_dir(name).exists() or lab.lab_containers(name):
        lab.down(name)


def test_three_node_lab_is_usable_by_ansible_and_leaves_nothing_behind(tmp_path, lab_name):
    created = dmlctl("lab", "up", "--nodes", "3", "--name", lab_name)
    assert created.returncode == 0, created.stderr

    listed = json.loads(dmlctl("lab", "ls", "--json").stdout)
    assert [entry["name"] for entry in listed] == [lab_name]
    nodes = {n["name"]: n["ip"] for n in listed[0]["nodes"]}
    assert sorted(nodes) == ["node1", "node2", "node3"]
    inventory = Path(listed[0]["inventory"])
    assert inventory.is_file()

    pings = run_module(tmp_path, inventory, "ansible.builtin.ping")
    assert {host: res["ping"] for host, res in pings.items()} == dict.fromkeys(nodes, "pong")

    systemd = run_module(
        tmp_path, inventory, "ansible.builtin.command", "systemctl is-system-running"
    )
    assert {host: res["stdout"] for host, res in systemd.items()} == dict.fromkeys(nodes, "running")

    facts = run_module(tmp_path, inventory, "ansible.builtin.setup", "gather_subset=network")
    for host, res in facts.items():
        assert res["ansible_facts"]["ansible_hostname"] == host
        assert res["ansible_facts"]["ansible_default_ipv4"]["address"] == nodes[host]

    plain = run_module(tmp_path, inventory, "ansible.builtin.command", "id -un")
    assert {res["stdout"] for res in plain.values()} == {"sysadm"}
    become = run_module(
        tmp_path, inventory, "ansible.builtin.command", "id -u", ansible_become=True
    )
    assert {res["stdout"] for res in become.values()} == {"0"}

    # A fresh lab is fit for a deploy: every check of every host passes.
    doctor = dmlctl("doctor", "--json", "-i", str(inventory))
    report = json.loads(doctor.stdout)
    assert doctor.returncode == 0, [c for c in report["checks"] if c["status"] == "fail"]
    checks = {(c["host"], c["check"]) for c in report["checks"]}
    for host in nodes:
        assert {(host, "ssh+sudo"), (host, "python"), (host, "ports"), (host, "reach")} <= checks

    in_use = dmlctl("lab", "up", "--name", lab_name)
    assert in_use.returncode == 2
    assert "in use" in in_use.stderr

    ssh = dmlctl("lab", "ssh", "node2", "--name", lab_name, "--", "hostname")
    assert ssh.stdout.strip() == "node2"
    by_address = dmlctl("lab", "ssh", nodes["node3"], "--name", lab_name, "--", "hostname")
    assert by_address.stdout.strip() == "node3", by_address.stderr

    human = dmlctl("lab", "ls")
    assert lab_name in human.stdout and "3/3" in human.stdout, human.stdout

    unconfirmed = dmlctl("lab", "down", "--name", lab_name)  # no terminal, no --yes
    assert unconfirmed.returncode == 2
    assert "add --yes" in unconfirmed.stderr
    assert len(lab.lab_containers(lab_name)) == 3  # nothing removed

    removed = dmlctl("lab", "down", "--yes", "--name", lab_name)
    assert removed.returncode == 0, removed.stderr
    assert lab.lab_containers(lab_name) == []
    assert podman.inspect("network", f"dmlctl-{lab_name}") is None
    assert not lab.lab_dir(lab_name).exists()
    assert lab.active() is None
    assert json.loads(dmlctl("lab", "ls", "--json").stdout) == []


def test_lab_up_clears_stopped_leftovers_of_an_earlier_run(lab_name):
    lab.up(1, lab_name)
    podman.run(["stop", "--time", "0", f"dmlctl-{lab_name}-node1"])

    again = dmlctl("lab", "up", "-n", "1", "--name", lab_name)
    assert again.returncode == 0, again.stderr
    assert "leftovers" in again.stderr
    assert len(lab.lab_containers(lab_name)) == 1
    assert lab.running_nodes(lab.load(lab_name)) == {"node1"}
