#!/usr/bin/env python3
"""Locate h2o.jar in the pinned h2o package on the controller and checksum it (cached).

Runs with the Python that runs ansible-playbook, so the cluster gets exactly the H2O that this
controller's h2o client expects. Prints one JSON object:
{"version", "branch", "build", "path", "sha1", "sha256", "size"}.
With --release-layout, also writes a release directory as H2O's release site serves it,
rel-X.Y.Z/BUILD/ holding h2o-VERSION.zip and sha256.txt (`sha256sum h2o-*.zip` output, as
h2o-3's make-dist.sh writes it), and adds its path as "release_dir" (used to rehearse the
`mirror` source against a local web server).
"""

import argparse
import hashlib
import importlib.util
import json
import os
import sys
import zipfile
from pathlib import Path


def default_cache_dir() -> Path:
    if override := os.environ.get("DMLCTL_CACHE_DIR"):
        return Path(override) / "artifacts"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dmlctl" / "artifacts"


def h2o_dir() -> Path:
    spec = importlib.util.find_spec("h2o")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"h2o is not installed for {sys.executable}; install the pinned package first")
    return Path(next(iter(spec.submodule_search_locations)))


def digests(path: Path, cache: Path) -> dict:
    """sha1 + sha256 of path, remembered by (path, size, mtime) so reruns cost nothing."""
    st = path.stat()
    key = f"{path}:{st.st_size}:{st.st_mtime_ns}"
    memo = cache / (hashlib.sha256(str(path).encode()).hexdigest()[:16] + ".sums.json")
    if memo.is_file():
        try:
            data = json.loads(memo.read_text())
            if data.get("key") == key:
                return data
        except ValueError:
            pass
    sha1, sha256 = hashlib.sha1(), hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(4 << 20):
            sha1.update(chunk)
            sha256.update(chunk)
    data = {"key": key, "sha1": sha1.hexdigest(), "sha256": sha256.hexdigest(), "size": st.st_size}
    memo.write_text(json.dumps(data) + "\n")
    return data


def write_release_dir(jar: Path, version: str, release_dir: Path, cache: Path) -> None:
    """h2o-VERSION.zip (top directory h2o-VERSION/) and sha256.txt listing it, in release_dir."""
    release_dir.mkdir(parents=True, exist_ok=True)
    dest = release_dir / f"h2o-{version}.zip"
    if not dest.is_file():
        tmp = dest.with_name(f"{dest.name}.{os.getpid()}.part")  # own name: builds may run at once
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.write(jar, f"h2o-{version}/h2o.jar")
        tmp.replace(dest)
    # sha256sum's text-mode line: HEX, two spaces, the name (get_url picks the line by name).
    sums = release_dir / "sha256.txt"
    sums.write_text(f"{digests(dest, cache)['sha256']}  {dest.name}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--release-layout", action="store_true")
    args = parser.parse_args()

    root = h2o_dir()
    version = (root / "version.txt").read_text().strip()
    jar = root / "backend" / "bin" / "h2o.jar"
    if not jar.is_file():
        sys.exit(f"{jar} is missing: this h2o package carries no server jar")
    parts = version.split(".")
    cache = args.cache_dir or default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    sums = digests(jar, cache)
    result = {
        "version": version,
        "branch": "rel-" + ".".join(parts[:3]),
        "build": parts[3] if len(parts) > 3 else "0",
        "path": str(jar),
        "sha1": sums["sha1"],
        "sha256": sums["sha256"],
        "size": sums["size"],
    }
    if args.release_layout:
        release_dir = cache / "h2o-release" / result["branch"] / result["build"]
        write_release_dir(jar, version, release_dir, cache)
        result["release_dir"] = str(release_dir)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
