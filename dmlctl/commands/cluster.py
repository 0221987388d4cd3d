"""`dmlctl deploy|start|stop|restart|uninstall`: the project's playbooks with live progress."""

import importlib.util
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from dmlctl import engines, executor_python, inventory, runner, security, staging, store
from dmlctl.commands.doctor import check_before_deploy
from dmlctl.commands.options import Inventory, Json
from dmlctl.confirm import Yes, confirm
from dmlctl.console import err, print_json
from dmlctl.errors import UsageError
from dmlctl.paths import state_dir
from dmlctl.progress import (
    PlaybookProgress,
    PlaybookView,
    recap_json,
    render_changes,
    render_failures,
    render_recap,
)
from dmlctl.secrets import ClusterSecrets

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


def _selected_hosts(inv: inventory.ClusterInventory, limit: str | None) -> list[str]:
    """The hosts a run reaches; a --limit that Ansible matches to no host is refused (the run
    would silently do nothing)."""
    if limit is None:
        return inv.hosts
    if selected := inv.hosts_matching(limit):
        return selected
    parts = {part.lstrip("&!") for part in re.split("[,:]", limit)}
    by_address = [host for host in inv.hosts if inv.address(host) in parts]
    hint = f"hosts: {', '.join(inv.hosts)}; groups: {', '.join(sorted(inv.groups))}"
    if by_address:
        hint = f"Ansible matches host names, not addresses: use {', '.join(by_address)}"
    raise UsageError(f"--limit {limit!r} matches no host in {inv.path}.", hint=hint)


def _builds_here(inv: inventory.ClusterInventory, host: str, engine: str) -> bool:
    """Whether the role runs ENGINE's bundle script on this machine for HOST, as the roles'
    defaults decide: the bundle source (the default on labs), or no version given."""
    source = (
        inv.var(host, f"{engine}_artifact_source")
        or inv.var(host, "dmlctl_artifact_source")
        or ("bundle" if inv.var(host, "dmlctl_lab") is not None else "mirror")
    )
    return source == "bundle" or not inv.var(host, f"{engine}_version")


def require_bundle_clients(
    inv: inventory.ClusterInventory, hosts: list[str], chosen: list[str]
) -> None:
    """A deploy reads the engines' client packages here for their bundle and version: without
    them (no [jobs] extra) it would fail deep in a role, so say so before anything runs."""
    for engine in map(engines.get, chosen):
        if importlib.util.find_spec(engine.client_package) is not None:
            continue
        members = {h for service in engine.services for h in inv.group(service.group)}
        if any(_builds_here(inv, h, engine.name) for h in hosts if h in members):
            raise UsageError(
                f"deploying {engine.label} needs the {engine.client_package} package on this "
                "machine (its bundle and version come from it), which this dmlctl was "
                "installed without",
                hint=f"install the engine clients: {engines.CLIENTS_EXTRA}",
            )


# Playbooks that configure or check the engines and so need the cluster's secrets.
SECURED_PLAYBOOKS = frozenset({"deploy.yml", "start.yml", "restart.yml"})


def run_playbook(
    playbook: str,
    inventory_path: Path | None,
    *,
    limit: str | None = None,
    check: bool = False,
    extravars: dict | None = None,
    as_json: bool = False,
    verbose: bool = False,
    destroys: str | None = None,
    yes: bool = False,
    insecure: bool | None = None,
    precheck: bool = False,
) -> None:
    """Validate the inventory, run the playbook with a live view, print the recap.

    A playbook that DESTROYS something (a phrase: "remove Spark") runs only once confirmed
    (`dmlctl.confirm`), unless it is a check run. INSECURE: see security.playbook_vars (None
    keeps the mode of the last deploy). With PRECHECK, doctor's checks run first and
    stop it before anything changes. Exits 1 when any host failed or was unreachable.
    """
    path = inventory.resolve(inventory_path)
    inv = inventory.load(path)
    inv.require_cluster_groups()
    hosts = _selected_hosts(inv, limit)
    if playbook == "deploy.yml":
        require_bundle_clients(inv, hosts, (extravars or {}).get("dmlctl_engines", engines.NAMES))
    if precheck:  # before anything changes, the controller's secrets included
        check_before_deploy(inv, limit, as_json)
    if destroys and not check:
        confirm(f"{destroys} on {len(hosts)} hosts ({', '.join(hosts)})", yes=yes)
    if playbook in SECURED_PLAYBOOKS:
        security_vars = security.playbook_vars(inv, path, insecure=insecure, record=not check)
        security.warn_if_insecure(security.INSECURE_VAR not in security_vars)
        extravars = {**(extravars or {}), **security_vars}
    else:
        security.warn_if_insecure(security.secure(inv, path))
    staging.forget(path)  # the machines may change under this run
    progress = PlaybookProgress(expected_tasks=_load_task_counts(playbook))
    python_seen = executor_python.Seen()
    with PlaybookView(progress, err, live=not (verbose or as_json)) as view:

        def on_event(event: dict) -> None:
            view.feed(event)
            python_seen.feed(event)

        outcome = runner.run_playbook(
            playbook,
            path,
            on_event=on_event,
            limit=limit,
            check=check,
            extravars=extravars,
            verbose=verbose,
        )
    if outcome.ok and not check:
        _save_task_counts(playbook, progress.tasks_per_play)
    if python_seen.versions and not check:
        ClusterSecrets.for_inventory(path).note_executor_python(python_seen.versions)
    if as_json:
        print_json(recap_json(progress, outcome.ok))
    elif not verbose:
        err.print(render_recap(progress))
        if check:
            err.print(render_changes(progress, "would change:"))
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
