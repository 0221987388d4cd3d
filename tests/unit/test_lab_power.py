"""Lab faults (stop, start, restart a node) with podman faked: what is run, in which order, and
that a node keeps its address."""

import pytest

from dmlctl import lab
from dmlctl.cli import main
from dmlctl.errors import OperationError, UsageError
from dmlctl.lab import nodes, podman, power


def _lab(subnet: str = "10.89.7.0/24") -> lab.Lab:
    made = lab.Lab(
        name="alpha",
        network="dmlctl-alpha",
        nodes=tuple(
            lab.Node(f"node{i}", f"dmlctl-alpha-node{i}", f"10.89.7.{10 + i}") for i in (1, 2, 3)
        ),
        created="2026-01-01T00:00:00+00:00",
        subnet=subnet,
    )
    made.dir.mkdir(parents=True)
    lab.save(made)
    lab.set_active("alpha")
    return made


class FakePodman:
    """Containers as podman would report them; records every call."""

    def __init__(self, made: lab.Lab, running: set[str], address_after_start: str | None = None):
        self.lab, self.running, self.calls = made, set(running), []
        self.address_after_start = address_after_start

    def run(self, args, **kwargs):
        self.calls.append(list(args))
        verb, container = args[0], args[-1]
        if verb == "stop":
            self.running.discard(container)
        elif verb in ("start", "restart"):
            self.running.add(container)
        return None

    def containers(self, name):
        return [
            {
                "Names": [n.container],
                "State": "running" if n.container in self.running else "exited",
            }
            for n in self.lab.nodes
        ]

    def inspect(self, kind, name):
        ip = self.address_after_start or next(n.ip for n in self.lab.nodes if n.container == name)
        return {"NetworkSettings": {"Networks": {self.lab.network: {"IPAddress": ip}}}}


@pytest.fixture
def fake(monkeypatch):
    made = _lab()
    podman_fake = FakePodman(made, {n.container for n in made.nodes})
    monkeypatch.setattr(podman, "run", podman_fake.run)
    monkeypatch.setattr(podman, "inspect", podman_fake.inspect)
    monkeypatch.setattr(nodes, "lab_containers", podman_fake.containers)
    booted = []
    monkeypatch.setattr(power, "wait_for_boot", lambda *a: booted.append(a))
    podman_fake.booted = booted
    return podman_fake


def test_node_addresses_are_fixed_in_the_subnet_past_the_gateway():
    assert nodes.node_addresses("10.89.3.0/24", 3) == ["10.89.3.11", "10.89.3.12", "10.89.3.13"]
    with pytest.raises(OperationError, match="no room"):
        nodes.node_addresses("10.89.3.0/29", 3)


def test_stop_cuts_the_power_at_once_and_start_boots_it_at_its_address(fake):
    power.stop(fake.lab, "node2")
    assert fake.calls[-1] == ["stop", "--time", "0", "dmlctl-alpha-node2"]
    power.start(fake.lab, "node2")
    assert fake.calls[-1] == ["start", "dmlctl-alpha-node2"]
    assert fake.booted == [("node2", "dmlctl-alpha-node2", "10.89.7.12")]


def test_stop_and_start_are_idempotent(fake):
    power.start(fake.lab, "node1")
    assert fake.calls == []
    power.stop(fake.lab, "node1")
    power.stop(fake.lab, "node1")
    assert fake.calls == [["stop", "--time", "0", "dmlctl-alpha-node1"]]


def test_restart_is_a_clean_reboot_and_waits_for_the_node(fake):
    power.restart(fake.lab, "10.89.7.13")
    assert fake.calls == [["restart", "--time", "10", "dmlctl-alpha-node3"]]
    assert fake.booted == [("node3", "dmlctl-alpha-node3", "10.89.7.13")]


def test_a_node_back_at_another_address_is_an_error(fake):
    fake.address_after_start = "10.89.7.99"
    with pytest.raises(OperationError, match=r"not at its address 10\.89\.7\.13"):
        power.restart(fake.lab, "node3")


def test_a_lab_without_fixed_addresses_is_refused(monkeypatch):
    old = lab.Lab(name="old", network="n", nodes=(lab.Node("node1", "c", "10.0.0.2"),), created="x")
    monkeypatch.setattr(podman, "run", lambda *a, **k: pytest.fail("podman was called"))
    with pytest.raises(UsageError, match="fixed addresses"):
        power.stop(old, "node1")


def test_unknown_node_is_a_usage_error(fake):
    with pytest.raises(UsageError, match="has no node 'node9'"):
        power.stop(fake.lab, "node9")


def _exit_code(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as done:
        return done.code
    return 0


def test_cli_stop_start_restart_use_the_active_lab(fake, capsys):
    for verb in ("stop", "start", "restart"):
        assert _exit_code(["lab", verb, "node2"]) == 0
    assert [c[0] for c in fake.calls] == ["stop", "start", "restart"]
    assert _exit_code(["lab", "stop", "node7"]) == 2
    assert "has no node 'node7'" in capsys.readouterr().err
