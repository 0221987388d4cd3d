#!/usr/bin/env python3
"""Build (or reuse) the Spark bundle: a Spark release layout made from the pinned pyspark package.

Runs on the controller with the Python that runs ansible-playbook, so the bundle holds exactly
the Spark that this controller's pyspark client expects. Prints one JSON object:
{"version", "path", "name", "top", "sha256", "size", "built"}.

The tarball is uncompressed (the jars are already compressed) and written atomically; its
checksums are kept next to it and recomputed only when the tarball itself changes.
"""

import argparse
import hashlib
import importlib.util
import io
import json
import os
import re
import sys
import tarfile
from pathlib import Path

# What a standalone master/worker and the executors' Python workers need from $SPARK_HOME.
MEMBERS = ("bin", "sbin", "jars", "python/lib", "licenses")


def default_cache_dir() -> Path:
    if override := os.environ.get("DMLCTL_CACHE_DIR"):
        return Path(override) / "artifacts"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dmlctl" / "artifacts"


def pyspark_dir() -> Path:
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"pyspark is not installed for {sys.executable}; install the pinned package first")
    return Path(next(iter(spec.submodule_search_locations)))


def pyspark_version(root: Path) -> str:
    match = re.search(
        r"""__version__[^=]*=\s*['"]([^'"]+)['"]""", (root / "version.py").read_text()
    )
    if not match:
        sys.exit(f"cannot read the Spark version from {root / 'version.py'}")
    return match.group(1)


def source_stamp(root: Path) -> str:
    """Identity of the package content, the same in every environment that installed it.

    The wheel's RECORD lists every file with its sha256, so two virtualenvs holding the same
    pyspark share one bundle (the artifact cache is per user, not per checkout). Only the
    package's own files count: the scripts pip puts in the venv's bin/ carry that venv's path.
    Without a RECORD: each member file's path, size and mtime.
    """
    digest = hashlib.sha256()
    records = sorted(root.parent.glob(f"pyspark-{pyspark_version(root)}.dist-info/RECORD"))
    if records:
        # Only the package's own files: RECORD also lists per-install entries (INSTALLER,
        # direct_url.json, scripts) that differ between virtualenvs of the same pyspark.
        lines = sorted(
            line
            for line in records[0].read_text().splitlines()
            if line.startswith("pyspark/") and "__pycache__" not in line
        )
        digest.update("\n".join(lines).encode())
        return digest.hexdigest()
    for member in MEMBERS:
        for path in sorted((root / member).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                st = path.stat()
                digest.update(
                    f"{path.relative_to(root)}:{st.st_size}:{int(st.st_mtime)}\n".encode()
                )
    return digest.hexdigest()


def file_digests(path: Path) -> dict[str, str]:
    sha256 = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(4 << 20):
            sha256.update(chunk)
    return {"sha256": sha256.hexdigest()}


def build(root: Path, version: str, dest: Path, top: str, compress: bool) -> None:
    # Owner, mode and mtime fixed: the same package always gives the same bytes (and sha256), so
    # nodes never re-copy a bundle that was only rebuilt.
    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if "__pycache__" in info.name:
            return None
        info.mtime = 0
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mode = 0o755 if (info.isdir() or info.mode & 0o111) else 0o644
        return info

    # A temp name of this process's own: two deploys at once (two labs, two sysadmins) may build
    # the same bundle; each renames a complete file over the other.
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.part")
    mode = "w:gz" if compress else "w"
    kwargs = {"compresslevel": 1} if compress else {}
    with tarfile.open(tmp, mode, **kwargs) as tar:
        for member in MEMBERS:
            tar.add(root / member, arcname=f"{top}/{member}", filter=normalise)
        release = f"Spark {version} (standalone layout built from the pyspark {version} package)\n"
        info = tarfile.TarInfo(f"{top}/RELEASE")
        info.size = len(release)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(release.encode()))
        conf = tarfile.TarInfo(f"{top}/conf")
        conf.type = tarfile.DIRTYPE
        conf.mode = 0o755
        tar.addfile(conf)
    tmp.replace(dest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--version-only", action="store_true", help="print the version and exit")
    parser.add_argument(
        "--release-layout",
        action="store_true",
        help="write spark-VERSION-bin-hadoop3.tgz as an Apache mirror would serve it",
    )
    args = parser.parse_args()

    root = pyspark_dir()
    version = pyspark_version(root)
    if args.version_only:
        print(json.dumps({"version": version, "source": str(root)}))
        return

    cache = args.cache_dir or default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    if args.release_layout:
        top = f"spark-{version}-bin-hadoop3"
        dest = cache / f"{top}.tgz"
    else:
        top = f"spark-{version}-bin-dmlctl"
        dest = cache / f"{top}.tar"
    meta_path = dest.with_name(dest.name + ".json")
    stamp = source_stamp(root)

    meta = {}
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
        except ValueError:
            meta = {}
    built = False
    if not dest.is_file() or meta.get("stamp") != stamp:
        build(root, version, dest, top, compress=args.release_layout)
        built = True
    st = dest.stat()
    changed = built or meta.get("size") != st.st_size or meta.get("mtime") != st.st_mtime_ns
    if changed:
        meta = {"stamp": stamp, "size": st.st_size, "mtime": st.st_mtime_ns, **file_digests(dest)}
        meta_path.write_text(json.dumps(meta) + "\n")
    sha512 = dest.with_name(dest.name + ".sha512")
    if args.release_layout and (changed or not sha512.is_file()):
        # Apache's form (`shasum -a 512 NAME > NAME.sha512` in Spark's release-build.sh).
        sha512.write_text(f"{hashlib.sha512(dest.read_bytes()).hexdigest()}  {dest.name}\n")
    print(
        json.dumps(
            {
                "version": version,
                "path": str(dest),
                "name": dest.name,
                "top": top,
                "sha256": meta["sha256"],
                "size": st.st_size,
                "built": built,
            }
        )
    )


if __name__ == "__main__":
    main()
