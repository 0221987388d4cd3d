"""`dmlctl deploy|start|stop|restart|uninstall`: the project's playbooks with live progress."""

from enum import StrEnum
from typing import Annotated

import typer

from dmlctl import engines
from dmlctl.commands.common import Inventory, Json, Limit, Verbose, Yes, run_playbook

# spark, h2o (from the engine registry) and all.
Engine = StrEnum("Engine", [*((name, name) for name in engines.NAMES), ("all", "all")])
EngineArg = Annotated[Engine, typer.Argument(help="Which engine: spark, h2o or all.")]


def deploy(
    inventory_path: Inventory = None,
    limit: Limit = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only show what would change (with diffs).")
    ] = False,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            help="Turn security off (no logins, secrets or TLS): only for an open classroom demo.",
        ),
    ] = False,
    as_json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Install, configure and start Spark and H2O on every host; wait until they are ready.

    Secure unless --insecure (or dmlctl_insecure in the inventory): Spark authentication and
    encryption, H2O logins, HTTPS and node-to-node TLS. Safe to run again: an up-to-date
    cluster reports no changes.
    """
    run_playbook(
        "deploy.yml",
        inventory_path,
        limit=limit,
        check=check,
        as_json=as_json,
        verbose=verbose,
        insecure=insecure,
        precheck=True,
    )


def _engine_command(playbook: str, summary: str):
    """A `start|stop|restart [spark|h2o|all]` command that runs PLAYBOOK for those engines."""

    def command(
        engine: EngineArg = Engine.all,
        inventory_path: Inventory = None,
        as_json: Json = False,
        verbose: Verbose = False,
    ) -> None:
        chosen = list(engines.NAMES) if engine is Engine.all else [engine.value]
        run_playbook(
            playbook,
            inventory_path,
            extravars={"dmlctl_engines": chosen},
            as_json=as_json,
            verbose=verbose,
        )

    command.__name__ = playbook.removesuffix(".yml")
    command.__doc__ = summary
    return command


start = _engine_command("start.yml", "Start Spark and/or H2O and wait until they are ready.")
stop = _engine_command("stop.yml", "Stop Spark and/or H2O on every host.")
restart = _engine_command(
    "restart.yml", "Restart Spark and/or H2O (an H2O cloud always restarts as a whole)."
)


def uninstall(
    inventory_path: Inventory = None,
    purge_data: Annotated[
        bool,
        typer.Option(
            "--purge-data",
            help="Also delete the engines' data and log directories and service users.",
        ),
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Only show what would be removed; remove nothing.")
    ] = False,
    yes: Yes = False,
    as_json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Stop and remove the services and install directories (data is kept unless asked).

    Asks first on a terminal; --yes skips the question, --check only shows what would go.
    """
    what = "data, logs and service users" if purge_data else "installations (data kept)"
    run_playbook(
        "uninstall.yml",
        inventory_path,
        check=check,
        extravars={"spark_uninstall_purge": purge_data, "h2o_uninstall_purge": purge_data},
        as_json=as_json,
        verbose=verbose,
        destroys=f"stop and remove Spark and H2O with their {what}",
        yes=yes,
    )


COMMANDS = (deploy, start, stop, restart, uninstall)
