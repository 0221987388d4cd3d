"""Where dmlctl keeps its files: the project tree, per-user state and caches."""

import os
from pathlib import Path

# The package lives inside the project tree next to playbooks/, roles/ and jobs/.
PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"


def _xdg(var: str, fallback: str) -> Path:
    base = os.environ.get(var)
    return Path(base) if base else Path.home() / fallback


def state_dir() -> Path:
    """Labs, their keys and inventories, the active-lab marker, runner artifacts."""
    override = os.environ.get("DMLCTL_STATE_DIR")
    return Path(override) if override else _xdg("XDG_STATE_HOME", ".local/state") / "dmlctl"


def cache_dir() -> Path:
    """Rebuildable things shared by every state dir: image build lock, artifact bundles."""
    override = os.environ.get("DMLCTL_CACHE_DIR")
    return Path(override) if override else _xdg("XDG_CACHE_HOME", ".cache") / "dmlctl"
