#!/usr/bin/env python3
"""Pack a JDK of the controller as a portable runtime (cached) for hosts whose distribution has
no Java in an engine's range (Debian 13 ships no Java 17, which H2O needs).

A Linux OpenJDK needs only the C and C++ runtimes and zlib of the host, so the controller's
runtime runs on a newer release of the same architecture. Symbolic links are followed (Debian
links the configuration into /etc), dangling ones and what a runtime does not need (the JDK's
jmods, headers, sources, manual pages) are left out.
Prints one JSON object: {"path", "sha1", "version", "major", "home", "built"}.
"""

import argparse
import fcntl
import glob
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

PARTS = ("bin", "conf", "lib", "legal", "release")


def default_cache_dir() -> Path:
    if override := os.environ.get("DMLCTL_CACHE_DIR"):
        return Path(override) / "artifacts"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dmlctl" / "artifacts"


def release_version(home: Path) -> str:
    for line in (home / "release").read_text().splitlines():
        if line.startswith("JAVA_VERSION="):
            return line.split("=", 1)[1].strip().strip('"')
    return ""


def find_home(major: int) -> Path:
    for candidate in sorted(glob.glob("/usr/lib/jvm/*")):
        home = Path(candidate).resolve()
        if (home / "bin/java").is_file() and (home / "release").is_file():
            version = release_version(home)
            if version.removeprefix("1.").split(".")[0] == str(major):
                return home
    sys.exit(
        f"no Java {major} on this controller under /usr/lib/jvm: install "
        f"openjdk-{major}-jre-headless here, set java_bundle_home to a JDK, or use "
        "java_artifact_source=mirror"
    )


def dangling(home: Path) -> list[str]:
    """Links to nothing (Debian's JDK links sources and an accessibility bridge it may lack)."""
    paths = [p for part in PARTS if (home / part).is_dir() for p in (home / part).rglob("*")]
    return [str(p.relative_to(home)) for p in paths if p.is_symlink() and not p.exists()]


def build(home: Path, target: Path) -> None:
    partial = target.with_suffix(".partial")
    excludes = [f"--exclude=./{name}" for name in dangling(home)]
    parts = [f"./{p}" for p in PARTS if (home / p).exists()]
    subprocess.run(
        ["tar", "-C", str(home), "--dereference", "-czf", str(partial), *excludes, *parts],
        check=True,
    )
    partial.rename(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--major", type=int, required=True)
    parser.add_argument("--home", default="")
    parser.add_argument("--cache-dir", default="")
    args = parser.parse_args()
    home = Path(args.home).resolve() if args.home else find_home(args.major)
    version = release_version(home)
    cache = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    # Keyed on the runtime's own files: a Java update on the controller makes a new bundle.
    stamped = [p for p in ("release", "lib/modules") if (home / p).exists()]
    stamp = "|".join(f"{p}:{(home / p).stat().st_mtime_ns}" for p in stamped)
    key = hashlib.sha256(f"{home}|{version}|{stamp}".encode()).hexdigest()[:16]
    target = cache / f"java-{args.major}-{key}.tar.gz"
    built = False
    with open(cache / "java-bundle.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # hosts of one deploy ask at the same time
        if not target.is_file():
            build(home, target)
            built = True
    sha1 = hashlib.sha1()
    with target.open("rb") as handle:
        while chunk := handle.read(4 << 20):
            sha1.update(chunk)
    print(json.dumps({"path": str(target), "sha1": sha1.hexdigest(), "version": version,
                      "major": args.major, "home": str(home), "built": built}))  # fmt: skip


if __name__ == "__main__":
    main()
