"""`dmlctl jobs`: the sample jobs that `dmlctl submit` runs by name."""

from dmlctl import engines
from dmlctl import jobs as joblib
from dmlctl.ui.console import out


def jobs() -> None:
    """List the sample jobs, a line each."""
    width = max(len(job.name) for job in joblib.sample_jobs())
    for job in joblib.sample_jobs():
        engine = engines.label(job.engine)
        out.print(
            f"[bold]{job.name:<{width}}[/]  {engine:<5}  {job.description}",
            highlight=False,
            soft_wrap=True,
        )
