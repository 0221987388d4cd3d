"""What several commands share: their common options, reaching a cluster, running a playbook
with live progress, and deploy's doctor check. Only commands import this."""

from pathlib import Path
from typing import Annotated

import typer

from dmlctl.errors import OperationError

Inventory = Annotated[
    Path | None,
    typer.Option(
        "--inventory",
        "-i",
        help="Ansible inventory (default: $DMLCTL_INVENTORY, the active lab, inventory/hosts.ini).",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")]
Profile = Annotated[
    Path | None,
    typer.Option(
        "--profile",
        help="Use the cluster through this access profile instead of an inventory "
        "(default: $DMLCTL_PROFILE).",
        show_default=False,
    ),
]
Yes = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (for scripts).")
]
Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show Ansible's own output instead.")
]
Limit = Annotated[
    str | None,
    typer.Option("--limit", "-l", help="Only these hosts or groups (an Ansible pattern)."),
]


def connect(inventory_path: Path | None, profile_path: Path | None = None):
    """The cluster a command talks to (see dmlctl.cluster.connection), warning when insecure."""
    from dmlctl.cluster.connection import connect as connect_cluster
    from dmlctl.ui.console import warn_if_insecure

    conn = connect_cluster(inventory_path, profile_path)
    warn_if_insecure(conn.creds.secure)
    return conn


def check_before_deploy(inv, limit: str | None, as_json: bool) -> None:
    """deploy's first step: stop before changing anything when a host is unfit. A host that
    does not answer is left to the deploy, so the others still converge and its recap names it."""
    from dmlctl.doctor import plan
    from dmlctl.doctor.examine import examine
    from dmlctl.ui.console import err, print_json
    from dmlctl.ui.tables import doctor_table

    if as_json:
        findings = examine(inv, limit=limit)
    else:
        with err.status(f"checking {len(inv.hosts)} host(s)"):
            findings = examine(inv, limit=limit)
    blocking = [f for f in plan.failures(findings) if f.check != "ssh"]
    if not blocking:
        return
    if as_json:
        print_json({"ok": False, "hosts": {}, "doctor": plan.to_json(blocking, 0)["checks"]})
    else:
        err.print(doctor_table(blocking))
    raise OperationError(
        f"deploy stopped before changing anything: {len(blocking)} check(s) failed (above).",
        hint="fix them, then run `dmlctl deploy` again (`dmlctl doctor` checks without deploying)",
    )


def exclusive(inv_path: Path, what: str, shared: bool = False):
    """Change the cluster of INV_PATH alone: a second such command waits for this one, and
    says so (a context manager; SHARED: no lock, for runs that change nothing)."""
    import contextlib

    from dmlctl.cluster import operations
    from dmlctl.ui.console import err

    if shared:
        return contextlib.nullcontext()

    def waiting(holder: str) -> None:
        err.print(f"waiting: {holder} is changing this cluster; `dmlctl {what}` goes on after it")

    return operations.changing(inv_path, what, waiting)


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
    """Run PLAYBOOK on the inventory's cluster with a live view, then print the recap.

    A playbook that DESTROYS something (a phrase: "remove Spark") runs only once confirmed,
    unless it is a check run. With PRECHECK, doctor's checks run first and stop it before
    anything changes (the controller's secrets included). Exits 1 when any host failed or was
    unreachable.
    """
    from dmlctl.cluster import operations
    from dmlctl.playbooks.inventory import load_cluster
    from dmlctl.ui import progress as view
    from dmlctl.ui.confirm import confirm
    from dmlctl.ui.console import err, warn_if_insecure

    inv = load_cluster(inventory_path)
    hosts = operations.check_run(playbook, inv, limit, extravars)
    if precheck:
        check_before_deploy(inv, limit, as_json)
    if destroys and not check:
        confirm(f"{destroys} on {len(hosts)} hosts ({', '.join(hosts)})", yes=yes)
    with exclusive(inv.path, playbook.removesuffix(".yml"), check or playbook not in
                   operations.CHANGING_PLAYBOOKS):  # fmt: skip
        run = operations.prepare(
            playbook, inv, limit=limit, check=check, extravars=extravars, insecure=insecure,
            hosts=hosts,
        )  # fmt: skip
        warn_if_insecure(run.secure)
        with view.PlaybookView(run.progress, err, live=not (verbose or as_json)) as live:
            outcome = operations.execute(run, live.refresh, verbose=verbose)
    _report(run, outcome, as_json=as_json, verbose=verbose)
    return run


def _report(run, outcome, *, as_json: bool, verbose: bool) -> None:
    """A finished run's recap and failures. A failed one that may have left one engine running
    and not the other (a deploy whose H2O play failed after Spark's started) also says what
    runs now, per engine; then it exits 1."""
    import contextlib

    from dmlctl.cluster import engine_states
    from dmlctl.playbooks.events import recap_json
    from dmlctl.ui import progress as view
    from dmlctl.ui.console import err, print_json

    states = None
    if engine_states.worth_telling(run, outcome):
        reading = contextlib.nullcontext() if as_json else err.status("reading what runs now")
        with reading:
            states = engine_states.after_failure(run.inv, run.progress.failures)
    if as_json:
        recap = recap_json(run.progress, outcome.ok)
        print_json({**recap, "engines": engine_states.to_json(states)} if states else recap)
    elif not verbose:
        err.print(view.render_recap(run.progress))
        if run.check:
            err.print(view.render_changes(run.progress, "would change:"))
    if run.progress.failures and not verbose:
        err.print(view.render_failures(run.progress))
    if not outcome.ok:
        if states:
            err.print(view.render_engine_states(states), highlight=False, soft_wrap=True)
        err.print(f"[bold red]{run.playbook} failed[/] (Ansible's log: {outcome.artifact_dir})")
        raise typer.Exit(1)
