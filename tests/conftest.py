"""Shared test setup: every test gets its own dmlctl state dir; tools come from the venv."""

import os
import sys
from pathlib import Path

import pytest

VENV_BIN = str(Path(sys.executable).parent)


@pytest.fixture(autouse=True)
def isolated_state(tmp_path_factory, monkeypatch):
    """Keep tests away from the user's labs and active-lab marker."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("DMLCTL_STATE_DIR", str(state))
    monkeypatch.delenv("DMLCTL_INVENTORY", raising=False)
    monkeypatch.setenv("PATH", VENV_BIN + os.pathsep + os.environ["PATH"])
    return state
