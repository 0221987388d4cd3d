"""The Java and the Python a host would run the engines with, against what the roles accept
(read from the role variables as the inventory sets them; the Java choice is the java role's own
files/java_choice.py, run by the probe)."""

import sys

from dmlctl import engines
from dmlctl.doctor.plan import Finding, HostPlan
from dmlctl.playbooks.inventory import ClusterInventory

_SOURCES = {
    "system": "installed",
    "package": "deploy installs {package}",
    "bundle": "deploy installs the controller's JDK {major} (bundle) in {home}",
    "mirror": "deploy installs the JDK {major} of java_mirror_url in {home}",
}


def _describe(engine: str, choice: dict) -> str:
    label = engines.get(engine).label
    how = _SOURCES[choice["source"]].format(**choice)
    if choice["source"] in ("bundle", "mirror") and choice.get("marker"):
        how = f"JDK {choice['major']} in {choice['home']}"
    flag = " with -allow_unsupported_java" if choice.get("beyond") else ""
    return f"{label}: Java {choice['major']}{flag} ({how})"


def _java_fix(inv: ClusterInventory, host: str, engine: str, offered: dict) -> str:
    high = inv.setting(host, f"{engine}_java_majors")[1]
    fixes = []
    if int(inv.setting(host, "java_major_version") or 0):
        fixes.append("remove java_major_version to let the roles choose")
    artifact = inv.setting(host, "java_artifact_major")
    fixes.append(
        f"set java_artifact_source: bundle (packs this controller's JDK {artifact}) or mirror "
        "with java_mirror_url and java_mirror_checksum (a JDK release tarball)"
    )
    newer = [m for m in offered.get("packages", []) + offered.get("system", []) if m > int(high)]
    if engine == "h2o" and newer:
        fixes.append(
            f"or set h2o_allow_unsupported_java: true (H2O on Java {min(newer)} after its own "
            "self-check)"
        )
    return "; ".join(fixes)


def java(inv: ClusterInventory, host: str, hp: HostPlan, seen: dict) -> Finding:
    """The Java each engine of HOST gets, as the java role will choose it."""
    offered = seen.get("java_choice")
    if not offered:
        return Finding(host, "java", "warn", "the Java choice did not run (see the probe)")
    problems = [(e, c) for e, c in offered["plan"].items() if c.get("error")]
    if problems:
        engine, choice = problems[0]
        low, high = choice["majors"]
        packages = ", ".join(map(str, offered["packages"])) or "none"
        return Finding(
            host,
            "java",
            "fail",
            f"no Java {low}-{high} for {engines.get(engine).label} ({choice['error']}; "
            f"this system's OpenJDK packages: {packages})",
            _java_fix(inv, host, engine, offered),
        )
    detail = "; ".join(_describe(e, c) for e, c in offered["plan"].items())
    return Finding(host, "java", "ok", detail)


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
