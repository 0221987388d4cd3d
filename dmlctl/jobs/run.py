"""Running a job: its output streamed live and kept, its run recorded, its result checked."""

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dmlctl.cluster import executor_python
from dmlctl.errors import OperationError, UsageError
from dmlctl.jobs import notebook
from dmlctl.jobs.catalogue import Job
from dmlctl.jobs.rundir import LOG_FILE, check_result, read_result, write_run_record
from dmlctl.jobs.target import Target, job_command, secret_conf_file
from dmlctl.staging import local_input

# The environment run.json keeps: what says where the job ran, nothing of the user's own.
RECORDED_ENV = (
    "DMLCTL_H2O_URL",
    "DMLCTL_WORK_DIR",
    "PYSPARK_SUBMIT_ARGS",
    "PYSPARK_PYTHON",
    "SPARK_HOME",
)
# How Spark, H2O and Python say that a file the program named is not there.
_MISSING_FILE = re.compile(
    r"FILE_NOT_EXIST|PATH_NOT_FOUND|Path does not exist|H2ONotFoundArgumentException|"
    r"FileNotFoundError|File not found|No such file or directory"
)


def run_job(
    argv: list[str],
    env: dict[str, str],
    log_path: Path,
    sink: Callable[[bytes], None] | None = None,
    cwd: Path | None = None,
) -> int:
    """Run ARGV, streaming its output (stdout and stderr) live to SINK and to LOG_PATH.

    Returns the exit code. On Ctrl-C the job (which got the signal too) is given a moment to
    stop, then terminated; the KeyboardInterrupt is raised again.
    """
    if sink is None:

        def sink(chunk: bytes) -> None:
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()

    try:
        log = log_path.open("xb")  # a run directory's log is never written twice
    except FileExistsError:
        raise UsageError(f"{log_path} exists: that run directory was used before") from None
    with log:
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
            )
        except OSError as error:
            raise OperationError(f"cannot start {argv[0]}: {error.strerror}") from None
        assert process.stdout is not None
        try:
            fd = process.stdout.fileno()
            while chunk := os.read(fd, 65536):
                log.write(chunk)
                log.flush()
                sink(chunk)
            return process.wait()
        except KeyboardInterrupt:
            _stop(process)
            raise
        finally:
            process.stdout.close()


def _stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(log: Path) -> str:
    try:
        with log.open("rb") as handle:
            handle.seek(max(0, log.stat().st_size - 200_000))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def failure(name: str, returncode: int, seconds: float, log: Path, target: Target):
    """The error for a failed job: what its output says went wrong, when dmlctl knows it."""
    tail = _tail(log)
    if versions := executor_python.failed_on(tail):
        executors, driver = versions
        return OperationError(
            f"{name} failed: its Python code on the executors needs the driver's Python minor "
            f"version (executors {executors}, driver {driver})",
            hint=executor_python.fix(executors, from_profile=False) + f"; log: {log}",
        )
    hint = f"full output: {log}"
    if _MISSING_FILE.search(tail):
        hint = (
            "a file the job reads was not found: the nodes read input from their own disks, so "
            f"pass it with --data PATH (or publish it with `dmlctl data push`); log: {log}"
        )
    return OperationError(f"{name} failed (exit {returncode}) after {seconds:.0f} s", hint=hint)


def in_notebook(error: OperationError, job: Job, run_dir: Path) -> OperationError:
    """ERROR naming the notebook's failed cell, and the executed notebook that shows it."""
    executed = run_dir / job.script.name
    cell = notebook.failure(executed)
    if cell is None:
        return error
    hint = error.hint or ""
    if hint.startswith("full output:"):
        hint = f"the executed notebook: {executed}"
    return OperationError(f"{error.message} at {cell}", hint=hint)


@dataclass
class Run:
    job: Job
    target: Target
    run_dir: Path
    returncode: int
    seconds: float
    result: dict[str, Any] | None

    @property
    def log(self) -> Path:
        return self.run_dir / LOG_FILE


def submit(
    job: Job,
    target: Target,
    run_dir: Path,
    args: Iterable[str] = (),
    sink: Callable[[bytes], None] | None = None,
    workdir: Path | None = None,
    inputs: Iterable[local_input.Item] = (),
) -> Run:
    """Run JOB on TARGET into RUN_DIR; OperationError when it fails or its result is short.

    The job runs in WORKDIR (its input INPUTS linked in) when given, else in RUN_DIR; what it
    writes into WORKDIR moves to RUN_DIR at the end.
    """
    started = datetime.now(UTC)
    clock = time.monotonic()
    returncode: int | None = None
    with secret_conf_file(target) as properties:
        argv, env = job_command(job, run_dir, target, list(args), properties_file=properties)
        if workdir is not None:
            env["DMLCTL_WORK_DIR"] = str(workdir)
        try:
            returncode = run_job(argv, env, run_dir / LOG_FILE, sink=sink, cwd=workdir or run_dir)
        finally:
            seconds = time.monotonic() - clock
            if workdir is not None:
                local_input.collect_outputs(workdir, run_dir, list(inputs))
            write_run_record(
                run_dir,
                {
                    "job": job.name,
                    "script": str(job.script),
                    "engine": job.engine,
                    "mode": target.mode,
                    "where": target.describe(job.engine),
                    "command": argv,
                    "env": {key: env[key] for key in RECORDED_ENV if key in env},
                    "started": started.isoformat(timespec="seconds"),
                    "seconds": round(seconds, 1),
                    "returncode": returncode,  # null: interrupted
                },
            )
    if returncode != 0:
        error = failure(job.name, returncode, seconds, run_dir / LOG_FILE, target)
        raise in_notebook(error, job, run_dir) if job.is_notebook else error
    result = read_result(run_dir)
    problems = check_result(job, result, run_dir)
    if problems:
        raise OperationError(
            f"{job.name} finished but its run is incomplete: {'; '.join(problems)}",
            hint=f"full output: {run_dir / LOG_FILE}",
        )
    return Run(job, target, run_dir, returncode, seconds, result)
