"""The Python minor version of a cluster's Spark executors, beside the driver's.

PySpark refuses a driver whose Python minor version differs from the executors' only when a
Python worker starts on an executor (UDFs, RDD lambdas), with a long traceback; JVM-only
DataFrame and ML calls (the lecture's KMeans) run with any executor Python. So `submit` warns
up front and, when a job fails on it, says so in one line with both versions and the fix.
The Spark role sets the fact `spark_python_version` on every worker; a deploy keeps the
versions it saw in the cluster's state, and `access grant` copies them into profiles
(`versions.python`). A cluster deployed before that records nothing: nothing is said.
"""

import re
import sys

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


def fix(executors: str, *, from_profile: bool, driver: str | None = None) -> str:
    """What makes the driver's and the executors' Python minor versions agree."""
    wanted = executors.split(",")[0]
    fix = f"run dmlctl from a Python {wanted} venv (e.g. `python{wanted} -m venv`)"
    if not from_profile:
        fix += (
            f", or set spark_python to a Python {driver or driver_version()} on the workers "
            "and redeploy"
        )
    return fix


def mismatch(executors: str | None, driver: str | None = None) -> str | None:
    """What differs, or None: the driver's minor version is every executor's (or the
    executors' is unknown, as after a deploy by an older dmlctl).

    A mismatch stops only Python code on the executors (UDFs, RDD lambdas): PySpark checks the
    versions when a Python worker starts, and JVM-only DataFrame and ML work runs either way.
    EXECUTORS: as recorded ("3.11" or "3.11,3.12").
    """
    if not executors:
        return None
    driver = driver or driver_version()
    wanted = executors.split(",")
    if wanted == [driver]:
        return None
    return f"this driver runs Python {driver}, the executors Python {' and '.join(wanted)}"


# PySpark's PYTHON_VERSION_MISMATCH, as a failed job's output shows it.
_VERSION = r"\(?(\d+(?:[.,]\s?\d+)*)\)?"
_FAILED = re.compile(
    rf"Python in worker has different version:?\s*{_VERSION}\s+than that in driver:?\s*{_VERSION}"
)


def failed_on(output: str) -> tuple[str, str] | None:
    """(executors', driver's) versions when OUTPUT shows a job stopped by the mismatch."""
    found = _FAILED.search(output)
    if found is None:
        return None
    worker, driver = (".".join(v.replace(" ", "").split(",")[:2]) for v in found.groups())
    return worker, driver
