"""Jobs: what `dmlctl submit` runs, where, and what a run leaves behind.

A job is a Python program run by this environment's interpreter (`sys.executable`):

- `catalogue`: the sample jobs (each with its input, data option and run contract)
  and resolving the JOB a user typed;
- `target`: where it runs (local or a cluster), which only sets its command and environment;
- `rundir`: a fresh run directory per run and the files in it;
- `run`: running it with its output streamed and kept, then checking its result;

Heavy libraries (pyspark, h2o, pandas, matplotlib) are imported only by the job programs.
"""

from dmlctl.jobs.catalogue import (
    IRIS_CSV,
    SAMPLE_JOBS,
    Job,
    detect_engine,
    imported_engines,
    nearest_name,
    resolve_job,
    sample_jobs,
)
from dmlctl.jobs.run import Run, run_job, submit
from dmlctl.jobs.rundir import (
    check_result,
    make_run_dir,
    read_result,
)
from dmlctl.jobs.target import (
    Target,
    check_local_engine,
    job_command,
    require_client,
    spark_home,
)

__all__ = [
    "IRIS_CSV",
    "SAMPLE_JOBS",
    "Job",
    "Run",
    "Target",
    "check_local_engine",
    "check_result",
    "detect_engine",
    "imported_engines",
    "job_command",
    "make_run_dir",
    "nearest_name",
    "read_result",
    "require_client",
    "resolve_job",
    "run_job",
    "sample_jobs",
    "spark_home",
    "submit",
]
