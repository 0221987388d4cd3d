"""`dmlctl access grant|ls|revoke`: profiles that let people use the cluster, no SSH needed."""

from pathlib import Path
from typing import Annotated

import typer

from dmlctl.cluster import access
from dmlctl.commands.common import Inventory, Json, exclusive, run_playbook
from dmlctl.errors import UsageError
from dmlctl.ui.console import err, out, print_json
from dmlctl.ui.tables import access_table

app = typer.Typer(
    help="Give people access to the cluster with a profile file (their own H2O login).",
    no_args_is_help=True,
)
Names = Annotated[
    list[str] | None,
    typer.Argument(help="Login names (lowercase).", show_default=False),
]
Roster = Annotated[
    Path | None,
    typer.Option(
        "--roster", help="A file of login names, one per line (# comments; CSV: first field)."
    ),
]


def _roll_out(inv, verb: str) -> None:
    """Put the changed logins on the cloud (one whole-cloud restart) and say how long it took."""
    run = run_playbook("deploy.yml", inv.path, extravars=access.APPLY_LOGINS)
    down = access.cloud_down_seconds(run.progress)
    took = f", down for {down:.0f} s" if down is not None else ""
    out.print(
        f"[green]✓[/] the H2O cloud restarted once to {verb} the logins{took} "
        "(H2O jobs running then ended).",
        highlight=False,
    )


@app.command()
def grant(
    names: Names = None,
    roster: Roster = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="With one name: where to write the profile."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out-dir", help="Where the profiles go, as NAME.profile.json (default: .)."),
    ] = None,
    inventory_path: Inventory = None,
) -> None:
    """Give each person their own H2O login and write their profile (mode 0600).

    All of them with one H2O restart. A name that already has a login keeps it: its profile
    is written again, with the same password.
    """
    wanted = access.read_names(names or [], roster)
    targets = access.profile_targets(wanted, out_file, out_dir)
    inv, box = access.secure_cluster(inventory_path)
    had = set(box.users())
    passwords = box.add_users(wanted)
    # Grants at once share a restart: one that waited finds its logins rolled out already.
    with exclusive(inv.path, "access grant"):
        if box.logins_pending:
            _roll_out(inv, "load")
        for name in wanted:
            targets[name].parent.mkdir(parents=True, exist_ok=True)
            written = access.write_profile(name, inv, box, passwords[name], targets[name])
            note = "already had a login (kept); profile written again" if name in had else "login"
            out.print(f"{name}: {note}: [bold]{written}[/] (mode 0600)", highlight=False)
    err.print(
        "Hand each profile over privately: it holds that person's password and the cluster's "
        "Spark secret. They run: dmlctl status --profile FILE",
        highlight=False,
    )


@app.command("ls")
def list_access(inventory_path: Inventory = None, as_json: Json = False) -> None:
    """List the people who have a login on the cluster."""
    _, box = access.secure_cluster(inventory_path)
    rows = access.listing(box)
    if as_json:
        print_json(rows)
    elif not rows:
        err.print("nobody has access yet: `dmlctl access grant NAME`")
    else:
        out.print(access_table(rows))


@app.command()
def revoke(names: Names = None, roster: Roster = None, inventory_path: Inventory = None) -> None:
    """Take these people's H2O logins away (the H2O cloud restarts once to forget them)."""
    wanted = access.read_names(names or [], roster)
    inv, box = access.secure_cluster(inventory_path)
    unknown = [name for name in wanted if name not in box.users()]
    if unknown:
        raise UsageError(
            f"no login on this cluster: {', '.join(unknown)}; nothing was changed",
            hint="`dmlctl access ls` lists who has one",
        )
    box.remove_users(wanted)
    with exclusive(inv.path, "access revoke"):
        if box.logins_pending:
            _roll_out(inv, "forget")
    out.print(f"revoked: {', '.join(wanted)}", highlight=False)
    err.print(
        "Their profiles also hold the Spark secret, which everyone shares: to shut them out of "
        "Spark too, run `dmlctl secrets rotate` (then grant the others again).",
        highlight=False,
    )
