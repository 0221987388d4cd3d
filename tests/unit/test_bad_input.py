"""Bad input to the playbook and status commands: one clear line, exit 2, nothing run."""

from pathlib import Path

import pytest

from dmlctl.cli import main
from dmlctl.playbooks import runner

# The lecture's two-node lab, as an inventory.
GOOD = (Path(__file__).parent / "payloads" / "two_nodes.ini").read_text()


@pytest.fixture(autouse=True)
def no_ansible(monkeypatch):
    monkeypatch.setattr(runner, "run_playbook", lambda *a, **k: pytest.fail("a playbook ran"))


def _run(capsys, *argv: str) -> tuple[int, list[str]]:
    with pytest.raises(SystemExit) as caught:
        main(list(argv))
    return caught.value.code, capsys.readouterr().err.strip().splitlines()


def test_missing_inventory(capsys, tmp_path):
    code, lines = _run(capsys, "deploy", "-i", str(tmp_path / "nope.ini"))
    assert code == 2
    assert lines[0] == f"error: inventory {tmp_path / 'nope.ini'} (from -i) does not exist."
    assert len(lines) == 2


def test_malformed_inventory(capsys, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("all:\n  hosts: [unclosed\n")
    code, lines = _run(capsys, "status", "-i", str(bad))
    assert code == 2
    assert lines[0].startswith(f"error: inventory {bad} could not be read")


@pytest.mark.parametrize("missing", ["spark_master", "spark_workers", "h2o_nodes"])
def test_missing_groups(capsys, tmp_path, missing):
    text = GOOD.replace(f"[{missing}]", "[something_else]")
    inv = tmp_path / "hosts.ini"
    inv.write_text(text)
    code, lines = _run(capsys, "deploy", "-i", str(inv))
    assert code == 2
    assert lines[0] == f"error: inventory {inv} has no hosts in {missing}."


def test_two_masters(capsys, tmp_path):
    inv = tmp_path / "hosts.ini"
    inv.write_text(GOOD.replace("[spark_master]\nnode1", "[spark_master]\nnode1\nnode2"))
    code, lines = _run(capsys, "start", "-i", str(inv))
    assert code == 2
    assert "exactly one master" in lines[0]


def test_limit_matching_no_host(capsys, tmp_path):
    inv = tmp_path / "hosts.ini"
    inv.write_text(GOOD)
    code, lines = _run(capsys, "deploy", "-i", str(inv), "--limit", "node9")
    assert code == 2
    assert lines == [
        f"error: --limit 'node9' matches no host in {inv}.",
        "  next: hosts: node1, node2; groups: h2o_nodes, spark_master, spark_workers",
    ]


def test_unknown_engine_and_service(capsys, tmp_path):
    inv = tmp_path / "hosts.ini"
    inv.write_text(GOOD)
    code, _ = _run(capsys, "stop", "hadoop", "-i", str(inv))
    assert code == 2
    code, lines = _run(capsys, "logs", "yarn", "-i", str(inv))
    assert code == 2
    assert lines[0].startswith("error: unknown service 'yarn'")


def test_limit_given_an_address_names_the_host(capsys, tmp_path):
    inv = tmp_path / "hosts.ini"
    inv.write_text(GOOD)
    code, lines = _run(capsys, "deploy", "-i", str(inv), "--limit", "127.0.0.2")
    assert code == 2
    assert lines == [
        f"error: --limit '127.0.0.2' matches no host in {inv}.",
        "  next: Ansible matches host names, not addresses: use node2",
    ]


def test_limit_that_ansible_refuses(capsys, tmp_path):
    inv = tmp_path / "hosts.ini"
    inv.write_text(GOOD)
    code, lines = _run(capsys, "deploy", "-i", str(inv), "--limit", "spark_workers[5]")
    assert code == 2
    assert lines[0] == (
        "error: --limit 'spark_workers[5]': "
        "No hosts matched the subscripted pattern 'spark_workers[5]'."
    )
    assert len(lines) == 2


@pytest.mark.parametrize("missing", ["spark_master", "h2o_nodes"])
def test_doctor_on_an_inventory_without_a_cluster(capsys, tmp_path, missing):
    inv = tmp_path / "hosts.ini"
    inv.write_text(GOOD.replace(f"[{missing}]", "[something_else]"))
    code, lines = _run(capsys, "doctor", "-i", str(inv))
    assert code == 2
    assert lines[0] == f"error: inventory {inv} has no hosts in {missing}."


def test_deploy_with_colliding_ports_stops_before_any_playbook(capsys, tmp_path, monkeypatch):
    from dmlctl.doctor import plan

    monkeypatch.setattr(plan, "probe", lambda *a, **k: {})  # every host unreachable
    inv = tmp_path / "hosts.ini"
    inv.write_text(
        GOOD.replace("node1 ansible_host=127.0.0.1", "node1 ansible_host=127.0.0.1 h2o_port=8080")
    )
    code, lines = _run(capsys, "deploy", "-i", str(inv))
    assert code == 1
    assert "stopped before changing anything" in " ".join(lines)
