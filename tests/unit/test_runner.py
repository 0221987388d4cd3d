"""The runner adapter against a real ansible-runner on localhost (no lab needed)."""

import os
import signal
import sys
import threading
import time

import pytest

from dmlctl.errors import OperationError, UsageError
from dmlctl.playbooks import runner

PLAYBOOK = """\
- name: Local
  hosts: all
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.command: echo hello
      changed_when: false
    - name: Wait
      ansible.builtin.command: sleep {seconds}
      changed_when: false
"""


@pytest.fixture
def playbooks(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "PLAYBOOK_DIR", tmp_path)
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )

    def write(seconds: float) -> str:
        (tmp_path / "local.yml").write_text(PLAYBOOK.format(seconds=seconds))
        return "local.yml"

    return write, inventory


def test_events_reach_the_callers_thread_in_order(playbooks):
    write, inventory = playbooks
    seen = []

    def on_event(event):
        assert threading.current_thread() is threading.main_thread()
        seen.append(event["event"])

    outcome = runner.run_playbook(write(0), inventory, on_event=on_event)
    assert outcome.ok
    assert seen.index("playbook_on_play_start") < seen.index("playbook_on_stats")
    assert seen.count("runner_on_ok") == 2
    assert (outcome.artifact_dir / "job_events").is_dir()


def test_ctrl_c_cancels_the_run(playbooks):
    write, inventory = playbooks
    # As in a terminal: a shell that starts us in the background may have SIGINT ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    with pytest.raises(OperationError, match="cancelled"):
        try:
            runner.run_playbook(write(15), inventory, on_event=lambda event: None)
        finally:
            signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - started < 12


def test_missing_playbook_is_a_usage_error(playbooks):
    _, inventory = playbooks
    with pytest.raises(UsageError, match="missing"):
        runner.run_playbook("nope.yml", inventory, on_event=lambda event: None)


def test_a_runs_extra_vars_and_check_mode_do_not_leak_into_the_next(playbooks, tmp_path):
    # ansible-runner keeps the first extravars/cmdline it is given in env/ and applies them to
    # every later run of the same private data dir: a deploy after `stop h2o` skipped Spark.
    (tmp_path / "vars.yml").write_text(
        "- name: Vars\n  hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: Show the engines\n      ansible.builtin.debug:\n"
        "        msg: \"engines={{ dmlctl_engines | default('unset') }}"
        ' check={{ ansible_check_mode }}"\n'
    )
    _, inventory = playbooks

    def messages(**options) -> list[str]:
        seen = []
        runner.run_playbook("vars.yml", inventory, on_event=seen.append, **options)
        return [
            e["event_data"]["res"].get("msg", "")
            for e in seen
            if e["event"] == "runner_on_ok" and "res" in e.get("event_data", {})
        ]

    assert messages(extravars={"dmlctl_engines": ["h2o"]}) == ["engines=['h2o'] check=False"]
    assert messages(check=True) == ["engines=unset check=True"]
    assert messages() == ["engines=unset check=False"]


def test_verbose_output_of_ansible_goes_to_stderr(playbooks, capfd):
    write, inventory = playbooks
    outcome = runner.run_playbook(write(0), inventory, on_event=lambda event: None, verbose=True)
    assert outcome.ok
    captured = capfd.readouterr()
    assert captured.out == ""  # stdout is kept for results (`--json`)
    assert "TASK [Say hello]" in captured.err


def test_pruning_passes_over_a_run_another_prune_removed_meanwhile(tmp_path, monkeypatch):
    for n in range(3):
        (tmp_path / f"deploy-{n}").mkdir()
        os.utime(tmp_path / f"deploy-{n}", (n, n))

    class Vanished(type(tmp_path)):  # listed as a directory, gone by the time it is looked at
        def is_dir(self):
            return True

        def stat(self, **kwargs):
            raise FileNotFoundError(self)

    listed = [*sorted(tmp_path.iterdir()), Vanished(tmp_path / "restart-gone")]
    monkeypatch.setattr(type(tmp_path), "iterdir", lambda self: iter(listed))
    monkeypatch.setattr(runner, "KEEP_RUNS", 1)
    runner._prune(tmp_path, keep=tmp_path / "deploy-0")
    assert sorted(p.name for p in tmp_path.glob("*")) == ["deploy-0", "deploy-2"]


def test_pruning_removes_a_run_that_never_started_once_it_is_old(tmp_path):
    abandoned, starting = tmp_path / ".deploy-old", tmp_path / ".deploy-new"
    for path in (abandoned, starting):
        path.mkdir()
    os.utime(abandoned, (0, time.time() - runner.ABANDONED_AFTER_S - 60))
    runner._prune(tmp_path, keep=tmp_path / "deploy-now")
    assert not abandoned.exists() and starting.is_dir()
