"""Run directories: a fresh one per run, and what a run leaves in it.

result.json is written by the job, job.log holds its full output, run.json records the run
(command, where, how long, exit code); sample jobs add their plots. Nothing of an earlier run
is ever written over.
"""

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dmlctl import store
from dmlctl.errors import OperationError, UsageError
from dmlctl.jobs.catalogue import Job, run_name

RESULT_FILE = "result.json"
LOG_FILE = "job.log"
RUN_FILE = "run.json"


def timestamp(now: datetime | None = None) -> str:
    """UTC, sortable, safe in a file name: 20260101T120000Z."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def make_run_dir(
    job_name: str, out: Path | None = None, base: Path | None = None, now: datetime | None = None
) -> Path:
    """Create the run directory: OUT (new or empty), else BASE/<job>-<UTC timestamp>[-N].

    BASE defaults to ./runs. An earlier run is never written into: a non-empty OUT is refused
    and default names get a -2, -3 ... suffix when a run of the same second exists.
    """
    if out is not None:
        return _out_dir(out)
    base = (base if base is not None else Path.cwd() / "runs").expanduser()
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create {base}: {error.strerror}", hint="use --out DIR") from None
    stem = f"{run_name(job_name)}-{timestamp(now)}"
    for n in range(1, 1000):
        candidate = base / (stem if n == 1 else f"{stem}-{n}")
        try:
            candidate.mkdir()  # atomic: two runs of the same second get different names
        except FileExistsError:
            continue
        return candidate.resolve()
    raise OperationError(f"too many runs named {stem} in {base}")


def _out_dir(out: Path) -> Path:
    out = out.expanduser()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        raise UsageError(
            f"--out {out} is not empty; a run never overwrites an earlier one",
            hint="give a new or empty directory, or leave --out away for runs/<job>-<time>/",
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create --out {out}: {error.strerror}") from None
    return out.resolve()


def read_result(run_dir: Path) -> dict[str, Any] | None:
    """The job's result.json, or None when it wrote none."""
    path = run_dir / RESULT_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise OperationError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise OperationError(f"{path} holds no JSON object")
    return data


def check_result(job: Job, result: dict[str, Any] | None, run_dir: Path) -> list[str]:
    """What a sample job's run is missing against the run contract (empty when complete)."""
    if job.sample is None:
        return []
    if result is None:
        return [f"no {RESULT_FILE}"]
    problems = [
        f"{RESULT_FILE} has no {key!r}" for key in job.sample.result_keys if key not in result
    ]
    problems += [f"no {plot}" for plot in job.sample.plots if not (run_dir / plot).is_file()]
    return problems


def write_run_record(run_dir: Path, record: dict[str, Any]) -> None:
    """run.json; a run that could not write it still reports its own outcome."""
    with contextlib.suppress(OSError):
        store.save(run_dir / RUN_FILE, record)
