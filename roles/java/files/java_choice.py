#!/usr/bin/env python3
"""Which Java each engine on this host runs on, and where it comes from (printed as JSON).

Standard library only, Python 3.6+: the java role runs it on every host it deploys to, and
`dmlctl doctor` on machines dmlctl has not touched yet. Nothing is installed; at most the
package lists of a machine that has none are fetched, so that they can be read.

The argument is a JSON object:
  {"engines": {"spark": {"majors": [17, 21], "beyond": false}, ...},
   "pin": 0, "package_pattern": "openjdk-{}-jre-headless",
   "artifact": {"major": 17, "root": "/opt/dmlctl-java", "source": "bundle"}}
For each engine the choice is, in this order: the Java release `pin` (when the engine accepts
it) as installed or as the distribution's package; the newest Java in the engine's range that
is installed, else the newest the distribution offers; with "beyond" (the engine can start on a
newer Java with its own flag), the oldest newer one; the JDK artifact when its major is in range.
"""

import glob
import json
import os
import re
import subprocess
import sys

PACKAGE_LISTS = "/var/lib/apt/lists"


def release_version(home):
    try:
        with open(os.path.join(home, "release")) as handle:
            for line in handle:
                if line.startswith("JAVA_VERSION="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return ""


def major_of(version):
    """1.8.0_402 -> 8, 17.0.9 -> 17."""
    match = re.match(r"^(?:1\.)?([0-9]+)", version or "")
    return int(match.group(1)) if match else 0


def installed_homes(pattern):
    """{major: home} of the Javas a glob finds (one home per major: the first, sorted)."""
    found = {}
    for home in sorted(glob.glob(pattern)):
        real = os.path.realpath(home)
        if os.access(os.path.join(real, "bin", "java"), os.X_OK):
            major = major_of(release_version(real))
            if major and major not in found:
                found[major] = real
    return found


def available_packages(pattern):
    """{major: package} the distribution offers (Debian family; {} elsewhere)."""
    if not os.access("/usr/bin/apt-cache", os.X_OK):
        return {}
    if not glob.glob(os.path.join(PACKAGE_LISTS, "*_Packages")):
        subprocess.call(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL)
    names = subprocess.run(
        ["apt-cache", "pkgnames", pattern.split("{}")[0]],
        stdout=subprocess.PIPE,
        universal_newlines=True,  # noqa: UP021 - Python 3.6 has no text=
    ).stdout.split()
    regex = re.compile("^" + re.escape(pattern).replace(r"\{\}", "([0-9]+)") + "$")
    return {int(m.group(1)): name for name in names for m in [regex.match(name)] if m}


def read_marker(home):
    """Which artifact an artifact home holds (written by the java role after unpacking)."""
    try:
        with open(os.path.join(home, ".dmlctl-artifact")) as handle:
            return handle.read().strip()
    except OSError:
        return ""


def choose(majors, beyond, pin, system, packages, artifact):
    low, high = majors
    pinned = pin and low <= pin <= high
    for offered in (system, packages):  # what is installed needs no install
        fits = [pin] if pinned else sorted(offered, reverse=True)
        for major in (m for m in fits if low <= m <= high and m in offered):
            if offered is system:
                return {"major": major, "source": "system", "home": system[major]}
            return {"major": major, "source": "package", "package": packages[major]}
    newer = sorted(m for m in set(system) | set(packages) if m > high)
    if beyond and newer and not pinned:
        major = newer[0]
        if major in system:
            return {"major": major, "source": "system", "home": system[major], "beyond": True}
        return {"major": major, "source": "package", "package": packages[major], "beyond": True}
    wanted = artifact["major"]
    if low <= wanted <= high and artifact.get("source"):
        home = os.path.join(artifact["root"], str(wanted))
        return {"major": wanted, "source": artifact["source"], "home": home,
                "marker": read_marker(home)}  # fmt: skip
    if pinned:
        return {"major": pin, "error": "pinned release not offered"}
    return {"major": 0, "error": "no Java in range"}


def main(spec):
    system = installed_homes("/usr/lib/jvm/*")
    packages = available_packages(spec["package_pattern"])
    plan = {}
    for engine, wants in spec["engines"].items():
        choice = choose(wants["majors"], wants.get("beyond", False), spec.get("pin") or 0,
                        system, packages, spec["artifact"])  # fmt: skip
        choice.setdefault("home", "")
        choice.setdefault("package", "")
        if choice.get("package") and not choice["home"]:
            # Where Debian's packages put it; the role reads the real path after installing.
            choice["home"] = "/usr/lib/jvm/java-{}-openjdk-amd64".format(choice["major"])
        plan[engine] = dict(choice, majors=wants["majors"])
    return {
        "plan": plan,
        "system": sorted(system),
        "packages": sorted(packages),
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
