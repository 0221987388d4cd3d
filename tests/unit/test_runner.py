"""The runner adapter against a real ansible-runner on localhost (no lab needed)."""

import os
import signal
import sys
import threading
import time

import pytest

from dmlctl import runner
from dmlctl.errors import OperationError, UsageError

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
