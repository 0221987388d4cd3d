"""The `dmlctl` command: the command groups, loaded only when used, and errors as exit codes.

`dmlctl --help` lists every command from COMMANDS without importing any of them; a command's
module is imported when that command runs or shows its own help. Help is click's plain text, as
pip's and git's is: rendering it with rich cost 150 ms per `--help`. A usage error is told in two
lines, what is wrong and where the help is, as every other error is.
"""

import importlib
import sys

import typer
from typer.core import TyperCommand, TyperGroup

from dmlctl import __version__
from dmlctl.errors import DmlctlError

# name: (module, attribute: a command function or a Typer group, the one line `--help` shows)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "lab": ("dmlctl.commands.lab", "app",
            "Rehearsal labs: N real machines on this box to deploy to, try and test."),
    "data": ("dmlctl.commands.data", "app",
             "Datasets published to every node at one path, for every user's jobs."),
    "deploy": ("dmlctl.commands.cluster", "deploy",
               "Install, configure and start Spark and H2O on every host; wait until they are "
               "ready."),
    "start": ("dmlctl.commands.cluster", "start",
              "Start Spark and/or H2O and wait until they are ready."),
    "stop": ("dmlctl.commands.cluster", "stop", "Stop Spark and/or H2O on every host."),
    "restart": ("dmlctl.commands.cluster", "restart",
                "Restart Spark and/or H2O (an H2O cloud always restarts as a whole)."),
    "uninstall": ("dmlctl.commands.cluster", "uninstall",
                  "Stop and remove the services and install directories (data is kept unless "
                  "asked)."),
    "status": ("dmlctl.commands.status", "status",
               "Show Spark and H2O health as their REST APIs report it; exit 1 unless all is "
               "healthy."),
    "doctor": ("dmlctl.commands.doctor", "doctor_command",
               "Check every host before a deploy: SSH and sudo, OS, Java, Python, memory, disk, "
               "engine ports, addresses and node-to-node reachability. Exit 1 on any failure."),
    "logs": ("dmlctl.commands.logs", "logs",
             "Print the last lines of a service's journal from every host that runs it."),
    "submit": ("dmlctl.commands.submit", "submit",
               "Run JOB and keep its output, result.json and plots in a run directory."),
    "jobs": ("dmlctl.commands.jobs", "jobs", "List the sample jobs, a line each."),
    "demo": ("dmlctl.commands.demo", "demo",
             "Bring up a 3-node rehearsal lab, deploy Spark and H2O, show status, run both "
             "sample jobs."),
    "notebook": ("dmlctl.commands.notebook", "notebook",
                 "Start JupyterLab here, its kernels wired to the cluster like `submit`; print "
                 "its URL (Ctrl-C stops it)."),
    "env": ("dmlctl.commands.env", "env",
            'Print shell exports for running programs by hand: eval "$(dmlctl env)".'),
    "access": ("dmlctl.commands.access", "app",
               "Give people access to the cluster with a profile file (their own H2O login)."),
    "secrets": ("dmlctl.commands.secrets", "app",
                "The cluster's secrets (kept 0600 in dmlctl's state)."),
}  # fmt: skip


def load_command(name: str):
    """The click command NAME stands for, its module imported now."""
    module, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:
        single = typer.Typer(
            add_completion=False, context_settings={"help_option_names": ["-h", "--help"]}
        )
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    _plain_help(command)
    return command


def _plain_help(command) -> None:
    """COMMAND and its subcommands print their help as plain text (see the module's doc); a
    group lists each subcommand by its whole first paragraph, never cut short."""
    command.rich_markup_mode = None
    for sub in getattr(command, "commands", {}).values():
        if sub.short_help is None and sub.help:
            sub.short_help = " ".join(sub.help.split("\n\n")[0].split())
        _plain_help(sub)


class LazyGroup(TyperGroup):
    """The root group: lists COMMANDS as they are, loads one only when it is used."""

    _listing = False

    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx, cmd_name: str):
        if cmd_name not in COMMANDS:
            return None
        if self._listing:  # the root's help: a name and its line are enough
            line = COMMANDS[cmd_name][2]
            return TyperCommand(cmd_name, help=line, short_help=line)
        return load_command(cmd_name)

    def format_help(self, ctx, formatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="dmlctl",
    cls=LazyGroup,
    help="Deploy Apache Spark and H2O-3 clusters to lab machines, check them, submit ML jobs.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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


def _click_errors() -> tuple[type, type, type | tuple]:
    """Click's ClickException, UsageError and NoArgsIsHelpError as typer raises them: typer 0.26+
    carries its own copy of click, older ones use click itself; BadParameter names the right one.
    """
    usage_error = typer.BadParameter.__mro__[1]
    no_args = getattr(sys.modules[usage_error.__module__], "NoArgsIsHelpError", ())
    return usage_error.__mro__[1], usage_error, no_args


def main(argv: list[str] | None = None) -> None:
    """Console entry point: expected failures print one or two lines, never a traceback."""
    click_exception, usage_error, no_args_is_help = _click_errors()
    try:
        # Not standalone: usage errors come here, to be told in two lines as every other error.
        code = app(args=argv, prog_name="dmlctl", standalone_mode=False)
    except no_args_is_help as error:  # `dmlctl lab`: the group's help, as before
        error.show()
        sys.exit(error.exit_code)
    except usage_error as error:
        from dmlctl.ui.console import print_error

        path = error.ctx.command_path if error.ctx else "dmlctl"
        print_error(f"{path}: {error.format_message()}", f"see `{path} --help`")
        sys.exit(2)
    except click_exception as error:
        error.show()
        sys.exit(error.exit_code)
    except typer.Abort:
        print("Aborted!", file=sys.stderr)
        sys.exit(1)
    except DmlctlError as error:
        from dmlctl.ui.console import print_error

        print_error(error.message, error.hint)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        from dmlctl.ui.console import err

        err.print("interrupted")
        sys.exit(130)
    # An exit code when a command ended with typer.Exit; None when it returned.
    sys.exit(code if type(code) is int else 0)
