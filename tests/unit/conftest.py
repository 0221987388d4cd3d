"""Fakes the unit tests of several commands share."""

from pathlib import Path

import pytest

from dmlctl.playbooks import runner
from dmlctl.playbooks.runner import RunOutcome


@pytest.fixture
def playbook_runs(monkeypatch, tmp_path):
    """Playbook runs the commands ask for (nothing is run): playbook, limit, check mode, extra
    vars and whether Ansible's own output was asked for. Each run reports node1 ok."""
    runs = []

    def run(playbook, inventory, *, on_event, limit=None, check=False, extravars=None, **kw):
        runs.append({"playbook": playbook, "limit": limit, "check": check,
                     "vars": extravars or {}, "verbose": kw.get("verbose", False)})  # fmt: skip
        on_event({"event": "playbook_on_stats", "event_data": {"ok": {"node1": 1}}})
        return RunOutcome("successful", 0, tmp_path)

    monkeypatch.setattr(runner, "run_playbook", run)
    return runs


@pytest.fixture
def inventory_file(tmp_path):
    """The lecture's two-node lab as an inventory file (loopback addresses)."""
    path = tmp_path / "hosts.ini"
    path.write_text((Path(__file__).parent / "payloads" / "two_nodes.ini").read_text())
    return str(path)


@pytest.fixture
def cli(capsys):
    """Run dmlctl in-process: cli("status", "--json") -> (exit code, stdout, stderr)."""
    from dmlctl.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            main(list(argv))
            code = 0
        except SystemExit as exit:
            code = exit.code or 0
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
