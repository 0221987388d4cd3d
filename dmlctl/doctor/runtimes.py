"""The Java and the Python a host would run the engines with, against what the roles accept
(read from the role variables as the inventory sets them)."""

import re
import sys

from dmlctl.doctor.plan import Finding, HostPlan
from dmlctl.playbooks.inventory import ClusterInventory


def java_major(version: str) -> int | None:
    """1.8.0_402 -> 8, 17.0.9 -> 17."""
    match = re.match(r"^(?:1\.)?([0-9]+)", version or "")
    return int(match.group(1)) if match else None


def java_range(inv: ClusterInventory, host: str, engine: str) -> tuple[int, int]:
    """The Java majors ENGINE accepts on HOST: its role's `<engine>_java_majors` as the
    inventory sets it (the role's default otherwise)."""
    low, high = inv.setting(host, f"{engine}_java_majors")
    return int(low), int(high)


def _java_fix(inv: ClusterInventory, host: str, hp: HostPlan, major: int) -> str:
    wanted = inv.setting(host, "java_major_version")
    fix = (
        f"point /usr/bin/java at a Java the engines accept (update-alternatives --config java), "
        f"or set java_major_version to one this system ships (now {wanted})"
    )
    h2o_low, h2o_high = java_range(inv, host, "h2o")
    if "h2o" in hp.engines and major > h2o_high:
        fix += (
            f"; or let H2O start on Java {major} after its own self-check: "
            f"h2o_java_majors: [{h2o_low}, {major}] and h2o_extra_args: "
            "['-allow_unsupported_java']"
        )
    return fix


def java(inv: ClusterInventory, host: str, hp: HostPlan, seen: dict) -> Finding:
    wanted = inv.setting(host, "java_major_version")
    found = seen.get("java")
    major = java_major(found["version"]) if found else None
    if major is None:
        return Finding(host, "java", "ok", f"none yet; deploy installs OpenJDK {wanted}")
    ranges = [java_range(inv, host, engine) for engine in hp.engines]
    low, high = max(r[0] for r in ranges), min(r[1] for r in ranges)
    if low <= major <= high:
        return Finding(host, "java", "ok", f"Java {found['version']}")
    return Finding(
        host,
        "java",
        "fail",
        f"Java {found['version']} ({found['executable']}); {'+'.join(hp.engines)} "
        f"accept {low}-{high}",
        _java_fix(inv, host, hp, major),
    )


def python(host: str, hp: HostPlan, seen: dict) -> Finding:
    version = seen.get("python")
    if not version:
        return Finding(
            host,
            "python",
            "fail",
            f"no {hp.python}",
            "install python3 (Ansible and Spark's executors need it)",
        )
    driver = sys.version_info[:2]
    text = ".".join(map(str, version))
    if hp.executors and tuple(version[:2]) != driver:
        # Not a failure: JVM-only Spark work (DataFrames, ML) runs with any executor Python.
        return Finding(
            host,
            "python",
            "warn",
            f"{hp.python} is {text}, the driver's is {driver[0]}.{driver[1]}: Python UDFs and "
            "RDD lambdas of jobs from this machine will fail there",
            f"run dmlctl from a Python {version[0]}.{version[1]} venv, or install Python "
            f"{driver[0]}.{driver[1]} there and set spark_python to it",
        )
    return Finding(host, "python", "ok", f"{hp.python} {text}")
