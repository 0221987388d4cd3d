"""Shared test setup: every test gets its own dmlctl state dir; tools come from the venv."""

import os
import sys
from pathlib import Path

import pytest

VENV_BIN = str(Path(sys.executable).parent)


@pytest.fixture(autouse=True)
def isolated_state(tmp_path_factory, monkeypatch):
    """Keep tests away from the user's labs, active-lab marker and inventory/hosts.ini (whose
    example addresses are no test's to reach)."""
    from dmlctl.playbooks import inventory

    state = tmp_path_factory.mktemp("state")
    monkeypatch.setattr(inventory, "DEFAULT_INVENTORY", state / "no-default-inventory.ini")
    monkeypatch.setenv("DMLCTL_STATE_DIR", str(state))
    monkeypatch.delenv("DMLCTL_INVENTORY", raising=False)
    monkeypatch.setenv("PATH", VENV_BIN + os.pathsep + os.environ["PATH"])
    return state


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI nothing may be skipped: a skip there is a failure (it hides a test that did not
    run). Outside CI a test whose needs this machine lacks may skip, saying why."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI: {report.longrepr}"
