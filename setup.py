"""Build step: the wheel carries what dmlctl runs (playbooks, roles, sample jobs, ansible.cfg)
as dmlctl/_assets, so an installed dmlctl needs no checkout. Metadata lives in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


def copy_assets(target: Path) -> None:
    """The project's run-time trees, laid out under TARGET as they are at the project root."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy2(ROOT / "ansible.cfg", target / "ansible.cfg")
    # playbooks/roles is a convenience link for running ansible-playbook by hand; dmlctl
    # points Ansible at roles/ itself.
    shutil.copytree(
        ROOT / "playbooks",
        target / "playbooks",
        ignore=lambda folder, names: [
            *IGNORED(folder, names),
            *(["roles"] if Path(folder) == ROOT / "playbooks" else []),
        ],
    )
    shutil.copytree(ROOT / "roles", target / "roles", ignore=IGNORED)
    (target / "jobs").mkdir()
    for job in sorted([*(ROOT / "jobs").glob("*.py"), *(ROOT / "jobs").glob("*.ipynb")]):
        shutil.copy2(job, target / "jobs" / job.name)
    shutil.copytree(ROOT / "jobs" / "data", target / "jobs" / "data", ignore=IGNORED)


class BuildWithAssets(build_py):
    def run(self) -> None:
        super().run()
        # An editable install runs from the checkout, which has the trees already.
        if not self.editable_mode:
            copy_assets(Path(self.build_lib) / "dmlctl" / "_assets")


setup(cmdclass={"build_py": BuildWithAssets})
