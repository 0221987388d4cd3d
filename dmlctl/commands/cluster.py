"""`dmlctl deploy|start|stop|restart|uninstall`: the project's playbooks with live progress."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from dmlctl import engines, inventory, runner, staging, store
from dmlctl.commands.doctor import check_before_deploy
from dmlctl.commands.options import Inventory, Json
from dmlctl.console import err, print_json
from dmlctl.errors import UsageError
from dmlctl.paths import state_dir
from dmlctl.progress import (
    PlaybookProgress,
    PlaybookView,
    recap_json,
    render_failures,
    render_recap,
)

# spark, h2o (from the engine registry) and all.
Engine = StrEnum("Engine", [*((name, name) for name in engines.NAMES), ("all", "all")])


EngineArg = Annotated[Engine, typer.Argument(help="Which engine: spark, h2o or all.")]
Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show Ansible's own output instead.")
]
Limit = Annotated[
    str | None,
    typer.Option("--limit", "-l", help="Only these hosts or groups (an Ansible pattern)."),
]


def _task_counts_file() -> Path:
    return state_dir() / "task-counts.json"


def _load_task_counts(playbook: str) -> dict[str, int]:
    return store.load(_task_counts_file(), {}).get(playbook, {})


def _save_task_counts(playbook: str, counts: dict[str, int]) -> None:
    store.save(_task_counts_file(), {**store.load(_task_counts_file(), {}), playbook: counts})


def run_playbook(
    playbook: str,
    inventory_path: Path | None,
    *,
    limit: str | None = None,
    check: bool = False,
    extravars: dict | None = None,
    as_json: bool = False,
    verbose: bool = False,
    precheck: bool = False,
) -> None:
    """Validate the inventory, run the playbook with a live view, print the recap.

    With `precheck`, doctor's checks run first and stop it before anything changes.

    Exits 1 when any host failed or was unreachable.
    """
    path = inventory.resolve(inventory_path)
    inv = inventory.load(path)
    inv.require_cluster_groups()
    if limit is not None and not inv.hosts_matching(limit):
        raise UsageError(
            f"--limit {limit!r} matches no host in {path}.",
            hint=f"hosts: {', '.join(inv.hosts)}; groups: {', '.join(sorted(inv.groups))}",
        )
    if precheck:
        check_before_deploy(inv, limit, as_json)
    staging.forget(path)  # the machines may change under this run
    progress = PlaybookProgress(expected_tasks=_load_task_counts(playbook))
    with PlaybookView(progress, err, live=not (verbose or as_json)) as view:
        outcome = runner.run_playbook(
            playbook,
            path,
            on_event=view.feed,
            limit=limit,
            check=check,
            extravars=extravars,
            verbose=verbose,
        )
    if outcome.ok and not check:
        _save_task_counts(playbook, progress.tasks_per_play)
    if as_json:
        print_json(recap_json(progress, outcome.ok))
    elif not verbose:
        err.print(render_recap(progress))
    if progress.failures and not verbose:
        err.print(render_failures(progress))
    if not outcome.ok:
        err.print(f"[bold red]{playbook} failed[/] (Ansible's log: {outcome.artifact_dir})")
        raise typer.Exit(1)


def deploy(
    inventory_path: Inventory = None,
    limit: Limit = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only show what would change (with diffs).")
    ] = False,
    as_json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Install, configure and start Spark and H2O on every host; wait until they are ready.

    Safe to run again: an up-to-date cluster reports no changes.
    """
    run_playbook(
        "deploy.yml",
        inventory_path,
        limit=limit,
        check=check,
        as_json=as_json,
        verbose=verbose,
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
        bool, typer.Option("--purge-data", help="Also delete data and log directories.")
    ] = False,
    as_json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Stop and remove the services and install directories (data is kept unless asked)."""
    run_playbook(
        "uninstall.yml",
        inventory_path,
        extravars={"dmlctl_purge_data": purge_data},
        as_json=as_json,
        verbose=verbose,
    )


COMMANDS = (deploy, start, stop, restart, uninstall)
