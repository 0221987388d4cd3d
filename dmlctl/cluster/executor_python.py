"""The Python minor version of a cluster's Spark executors: recorded when `deploy` runs, checked
against the driver's before `submit` sends a Spark job.

PySpark refuses a driver whose Python minor version differs from the executors' only at the
first Python task, with a long traceback. The Spark role sets the fact `spark_python_version`
on every worker; a deploy keeps the versions it saw in the cluster's state, and `access grant`
copies them into profiles (`versions.python`). A cluster deployed before that records nothing,
and then nothing is checked.
"""

import sys

from dmlctl.errors import UsageError

FACT = "spark_python_version"
PROFILE_KEY = "python"


class Seen:
    """Feed it a playbook run's events; `versions` is what the workers reported ("3.11")."""

    def __init__(self) -> None:
        self._versions: set[str] = set()

    def feed(self, event: dict) -> None:
        if event.get("event") != "runner_on_ok":
            return
        facts = (event.get("event_data", {}).get("res") or {}).get("ansible_facts") or {}
        if version := facts.get(FACT):
            self._versions.add(str(version))

    @property
    def versions(self) -> str | None:
        """ "3.11", or "3.11,3.12" when workers disagree; None when no worker reported one."""
        return ",".join(sorted(self._versions)) or None


def driver_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def check(executors: str | None, *, from_profile: bool, driver: str | None = None) -> None:
    """UsageError (exit 2) unless the driver's Python minor version is every executor's.

    EXECUTORS: as recorded ("3.11" or "3.11,3.12"); None (nothing recorded) passes.
    """
    if not executors:
        return
    driver = driver or driver_version()
    wanted = executors.split(",")
    if wanted == [driver]:
        return
    fix = f"run dmlctl from a Python {wanted[0]} venv (e.g. `python{wanted[0]} -m venv`)"
    if not from_profile:
        fix += f", or set spark_python to a Python {driver} on the workers and redeploy"
    raise UsageError(
        f"this driver runs Python {driver} but the cluster's executors run Python "
        f"{' and '.join(wanted)}; PySpark needs the same minor version on both.",
        hint=fix,
    )
