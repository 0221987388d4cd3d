"""Where dmlctl finds its files: the assets it runs (playbooks, roles, sample jobs), per-user
state and caches.

An installed dmlctl carries its assets inside the package (dmlctl/_assets, laid out by the build);
a checkout (editable install, `make setup`) uses the project tree around the package.
"""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"
_BUNDLED = PACKAGE_DIR / "_assets"
# The checkout the package lives in; None for an installed package.
CHECKOUT_DIR: Path | None = None if (_BUNDLED / "playbooks").is_dir() else PACKAGE_DIR.parent
ASSETS_DIR = CHECKOUT_DIR or _BUNDLED
PLAYBOOK_DIR = ASSETS_DIR / "playbooks"
ROLES_DIR = ASSETS_DIR / "roles"
JOBS_DIR = ASSETS_DIR / "jobs"
ANSIBLE_CFG = ASSETS_DIR / "ansible.cfg"
# The inventory used when nothing names one: the checkout's, else ./inventory in the current
# directory (an Ansible project's usual layout).
DEFAULT_INVENTORY = (CHECKOUT_DIR or Path()) / "inventory" / "hosts.ini"


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
