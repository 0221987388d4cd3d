"""The `dmlctl` command: wires the command groups together and turns errors into exit codes."""

import sys

import typer

from dmlctl import __version__
from dmlctl.commands import (
    access,
    cluster,
    data,
    demo,
    doctor,
    env,
    jobs,
    lab,
    logs,
    secrets,
    status,
    submit,
)
from dmlctl.errors import DmlctlError
from dmlctl.ui.console import err, print_error

app = typer.Typer(
    name="dmlctl",
    help="Deploy Apache Spark and H2O-3 clusters to lab machines, check them, submit ML jobs.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(lab.app, name="lab")
app.add_typer(data.app, name="data")
for command in cluster.COMMANDS:
    app.command()(command)
app.command()(status.status)
app.command("doctor")(doctor.doctor_command)
app.command()(logs.logs)
app.command()(submit.submit)
app.command()(jobs.jobs)
app.command()(demo.demo)
app.command()(env.env)
app.add_typer(access.app, name="access")
app.add_typer(secrets.app, name="secrets")


def _version(value: bool) -> None:
    if value:
        print(f"dmlctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Deploy Apache Spark and H2O-3 clusters to lab machines, check them, submit ML jobs."""


def main(argv: list[str] | None = None) -> None:
    """Console entry point: expected failures print one or two lines, never a traceback."""
    try:
        app(args=argv, prog_name="dmlctl")
    except DmlctlError as error:
        print_error(error.message, error.hint)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
