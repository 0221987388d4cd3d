#!/usr/bin/env python3
"""A stand-in release mirror for rehearsing the `mirror` artifact source.

Serves, over plain HTTP on ADDRESS:PORT, the Spark release tarball and the H2O release zip in
the layouts of archive.apache.org/dist/spark and h2o-release.s3.amazonaws.com/h2o, with their
checksum files in the sites' own formats, all built from the pinned pyspark and h2o packages
by the roles' bundle scripts (the roles' READMEs describe the real directories):

    /spark/spark-V/spark-V-bin-hadoop3.tgz
    /spark/spark-V/spark-V-bin-hadoop3.tgz.sha512   "HEX  spark-V-bin-hadoop3.tgz" (shasum -a 512)
    /h2o/rel-X.Y.Z/BUILD/h2o-V.zip
    /h2o/rel-X.Y.Z/BUILD/sha256.txt                  "HEX  h2o-V.zip" (sha256sum h2o-*.zip)

Writes its pid to --pid-file and exits by itself after --lifetime seconds.
"""

import argparse
import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

ROLES = Path(__file__).resolve().parents[2] / "roles"


def layout(spark: dict, h2o: dict) -> dict[str, str]:
    """Served path -> file, from the JSON the two bundle scripts print with --release-layout."""
    spark_dir = f"spark/spark-{spark['version']}"
    h2o_dir = f"h2o/{h2o['branch']}/{h2o['build']}"
    return {
        f"{spark_dir}/{spark['name']}": spark["path"],
        f"{spark_dir}/{spark['name']}.sha512": spark["path"] + ".sha512",
        f"{h2o_dir}/h2o-{h2o['version']}.zip": f"{h2o['release_dir']}/h2o-{h2o['version']}.zip",
        f"{h2o_dir}/sha256.txt": f"{h2o['release_dir']}/sha256.txt",
    }


def build(root: Path) -> None:
    spark = json.loads(
        subprocess.check_output(
            [sys.executable, str(ROLES / "spark/files/spark_bundle.py"), "--release-layout"]
        )
    )
    h2o = json.loads(
        subprocess.check_output(
            [sys.executable, str(ROLES / "h2o/files/h2o_bundle.py"), "--release-layout"]
        )
    )
    for rel, target in layout(spark, h2o).items():
        link = root / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write("mirror: " + (format % args) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--pid-file", type=Path, required=True)
    parser.add_argument("--lifetime", type=float, default=1800)
    args = parser.parse_args()

    args.root.mkdir(parents=True, exist_ok=True)
    build(args.root)
    handler = functools.partial(QuietHandler, directory=str(args.root))
    server = http.server.ThreadingHTTPServer((args.address, args.port), handler)
    args.pid_file.write_text(f"{os.getpid()}\n")
    threading.Timer(args.lifetime, server.shutdown).start()
    try:
        server.serve_forever()
    finally:
        args.pid_file.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
