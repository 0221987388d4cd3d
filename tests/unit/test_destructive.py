"""Commands that destroy something ask first on a terminal, take --yes, and refuse otherwise."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.prompt import Confirm

from dmlctl import lab as labs
from dmlctl.cli import main

INVENTORY = (Path(__file__).parent / "payloads" / "two_nodes.ini").read_text()


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def no_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO())


def _run(capsys, *argv: str) -> tuple[int, list[str]]:
    with pytest.raises(SystemExit) as caught:
        main(list(argv))
    return caught.value.code, capsys.readouterr().err.strip().splitlines()


def test_uninstall_without_a_terminal_needs_yes(capsys, playbook_runs, inventory_file, no_terminal):
    code, lines = _run(capsys, "uninstall", "-i", inventory_file, "--purge-data")
    assert code == 2
    assert lines == [
        "error: refusing to stop and remove Spark and H2O with their data, logs and service users"
        " on 2 hosts (node1, node2) without confirmation (no terminal to ask on).",
        "  next: add --yes to confirm",
    ]
    assert playbook_runs == []


@pytest.mark.parametrize(
    ("flags", "purge"), [((), False), (("--purge-data",), True)], ids=["keep", "purge"]
)
def test_uninstall_yes_passes_the_purge_variables_the_roles_read(
    capsys, playbook_runs, inventory_file, no_terminal, flags, purge
):
    code, _ = _run(capsys, "uninstall", "-i", inventory_file, "--yes", *flags)
    assert code == 0
    assert playbook_runs == [
        {
            "playbook": "uninstall.yml",
            "limit": None,
            "check": False,
            "vars": {"spark_uninstall_purge": purge, "h2o_uninstall_purge": purge},
            "verbose": False,
        }
    ]


def test_uninstall_check_asks_nothing_and_runs_in_check_mode(
    capsys, playbook_runs, inventory_file, no_terminal
):
    code, lines = _run(capsys, "uninstall", "-i", inventory_file, "--check", "--purge-data")
    assert code == 0
    assert [run["check"] for run in playbook_runs] == [True]
    assert "would change:" in lines


def test_uninstall_on_a_terminal_asks(capsys, monkeypatch, playbook_runs, inventory_file):
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    answers = iter([False, True])
    asked = []

    def answer(question, **_):
        asked.append(question)
        return next(answers)

    monkeypatch.setattr(Confirm, "ask", classmethod(lambda cls, question, **k: answer(question)))
    code, lines = _run(capsys, "uninstall", "-i", inventory_file)
    assert code == 1
    assert lines == ["error: cancelled; nothing was changed."]
    assert playbook_runs == []
    code, _ = _run(capsys, "uninstall", "-i", inventory_file, "--json")
    assert code == 0
    assert len(playbook_runs) == 1
    assert asked[0] == (
        "Stop and remove Spark and H2O with their installations (data kept) on 2 hosts "
        "(node1, node2)?"
    )


def test_uninstall_json_prints_only_json(capsys, playbook_runs, inventory_file, no_terminal):
    with pytest.raises(SystemExit) as caught:
        main(["uninstall", "-i", inventory_file, "--yes", "--json"])
    assert caught.value.code == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_lab_down_without_a_terminal_needs_yes(capsys, monkeypatch, no_terminal):
    removed = []
    monkeypatch.setattr(labs, "require_removable", lambda name: None)
    monkeypatch.setattr(labs, "down", lambda name, progress: removed.append(name))
    code, lines = _run(capsys, "lab", "down", "--name", "alpha")
    assert code == 2
    assert lines[-1] == "  next: add --yes to confirm"
    assert removed == []
    code, _ = _run(capsys, "lab", "down", "--name", "alpha", "--yes")
    assert (code, removed) == (0, ["alpha"])


def test_completion_script_completes_commands_and_options():
    dmlctl = str(Path(sys.executable).parent / "dmlctl")
    script = subprocess.run(
        ["bash", "-c", f"{dmlctl} --show-completion"], capture_output=True, text=True, check=True
    ).stdout
    assert "complete -o default -F _dmlctl_completion dmlctl" in script
    completed = subprocess.run(
        [
            "bash",
            "-c",
            f'{script}\nCOMP_WORDS=({dmlctl} uninstall --p); COMP_CWORD=2; '
            f'_dmlctl_completion {dmlctl}; printf "%s\\n" "${{COMPREPLY[@]}}"',
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert completed.stdout.split() == ["--purge-data"]
