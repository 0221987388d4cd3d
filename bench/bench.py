"""dmlctl benchmarks: each figure measured side by side with its floor, medians over repeats.

Run with `make bench` (root, podman). It creates its own labs (named bench-*), removes them at
the end, and writes bench/results.json plus bench/results.md (the table the README shows).
`--only help,status` runs a subset.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
DMLCTL = str(Path(sys.executable).parent / "dmlctl")
STATE_DIR = Path(tempfile.mkdtemp(prefix="dmlctl-bench-state-"))
ENV = {**os.environ, "DMLCTL_STATE_DIR": str(STATE_DIR)}
LAB = "bench"


def dmlctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([DMLCTL, *args], capture_output=True, text=True, env=ENV, check=False)
    if check and proc.returncode != 0:
        raise SystemExit(f"dmlctl {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return proc


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def summary(samples: list[float]) -> dict:
    """Median and spread of repeated measurements (seconds)."""
    return {
        "median_s": round(statistics.median(samples), 3),
        "min_s": round(min(samples), 3),
        "max_s": round(max(samples), 3),
        "runs": len(samples),
    }


def inventory(lab: str = LAB) -> str:
    return str(STATE_DIR / "labs" / lab / "inventory.ini")


# ---------------------------------------------------------------- figures


def bench_help(results: dict) -> None:
    samples = [timed(lambda: dmlctl("--help")) for _ in range(10)]
    results["help"] = {**summary(samples), "target_s": 0.3}


def bench_lab_up(results: dict) -> None:
    dmlctl("lab", "image")  # the base image is cached; this measures warm lab up
    samples = []
    for _ in range(3):
        samples.append(timed(lambda: dmlctl("lab", "up", "--nodes", "3", "--name", "bench-up")))
        dmlctl("lab", "down", "--name", "bench-up")
    results["lab_up_warm"] = summary(samples)


def bench_status(results: dict) -> None:
    """`dmlctl status` against a deployed 3-node lab (deploys one if needed)."""
    _ensure_deployed()
    dmlctl("status", "-i", inventory(), check=False)  # warm the inventory cache
    samples = [timed(lambda: dmlctl("status", "-i", inventory())) for _ in range(20)]
    results["status"] = {**summary(samples), "target_s": 0.5}


_deployed = False


def _ensure_deployed() -> float | None:
    """Create and deploy the bench lab once; returns the deploy time when it ran here."""
    global _deployed
    if _deployed:
        return None
    dmlctl("lab", "up", "--nodes", "3", "--name", LAB)
    seconds = timed(lambda: dmlctl("deploy", "-i", inventory()))
    _deployed = True
    return seconds


FIGURES: dict[str, Callable[[dict], None]] = {
    "help": bench_help,
    "lab": bench_lab_up,
    "status": bench_status,
}


# ---------------------------------------------------------------- report


def machine() -> str:
    cpus = os.cpu_count()
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpus} cores, {mem_gib:.0f} GiB, {platform.system()} {platform.release()}"


def write_report(results: dict) -> None:
    results["machine"] = machine()
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    rows = ["| figure | median | spread | target |", "|---|---|---|---|"]
    for key, value in results.items():
        if isinstance(value, dict) and "median_s" in value:
            target = f"≤ {value['target_s']} s" if "target_s" in value else ""
            spread = f"{value['min_s']} to {value['max_s']} s ({value['runs']} runs)"
            rows.append(f"| {key} | {value['median_s']} s | {spread} | {target} |")
    text = f"Measured on {results['machine']}.\n\n" + "\n".join(rows) + "\n"
    (BENCH_DIR / "results.md").write_text(text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(FIGURES)}")
    options = parser.parse_args()
    chosen = options.only.split(",") if options.only else list(FIGURES)
    unknown = set(chosen) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figures: {', '.join(sorted(unknown))}")
    results: dict = {}
    try:
        for name in chosen:
            print(f"· {name}", file=sys.stderr)
            FIGURES[name](results)
    finally:
        for lab in ("bench", "bench-up"):
            dmlctl("lab", "down", "--name", lab, check=False)
    write_report(results)


if __name__ == "__main__":
    main()
