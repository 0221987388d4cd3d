"""`dmlctl access grant|ls|revoke`: profiles that let one person use the cluster, no SSH needed."""

from pathlib import Path
from typing import Annotated

import typer

from dmlctl.cluster import access
from dmlctl.commands.common import Inventory, Json, run_playbook
from dmlctl.errors import UsageError
from dmlctl.security.cluster_secrets import check_user_name
from dmlctl.ui.console import err, out, print_json
from dmlctl.ui.tables import access_table

app = typer.Typer(
    help="Give people access to the cluster with a profile file (their own H2O login).",
    no_args_is_help=True,
)
Name = Annotated[str, typer.Argument(help="The person's login name (lowercase).")]
RESTART_NOTE = "the H2O cloud restarted to load it (H2O reads its logins only when it starts)"


@app.command()
def grant(
    name: Name,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Where to write the profile (default: ./NAME.profile.json)."
        ),
    ] = None,
    inventory_path: Inventory = None,
) -> None:
    """Give NAME their own H2O login and write their profile (mode 0600).

    Granting again issues a new password: the earlier profile stops working.
    """
    check_user_name(name)
    inv, box = access.secure_cluster(inventory_path)
    target = (out_file or Path(f"{name}.profile.json")).expanduser()
    if target.is_dir():
        raise UsageError(f"--out {target} is a directory; give a file name")
    password = box.add_user(name)
    run_playbook("deploy.yml", inv.path, extravars=access.APPLY_LOGINS)
    written = access.write_profile(name, inv, box, password, target)
    out.print(f"[green]✓[/] {name} has an H2O login; {RESTART_NOTE}.", highlight=False)
    out.print(f"profile: [bold]{written}[/] (mode 0600)", highlight=False)
    err.print(
        "Hand it over privately: it holds their password and the cluster's Spark secret. "
        f"They run: dmlctl status --profile {written.name}",
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
def revoke(name: Name, inventory_path: Inventory = None) -> None:
    """Take NAME's H2O login away (the H2O cloud restarts to forget it)."""
    inv, box = access.secure_cluster(inventory_path)
    if name not in box.users():
        raise UsageError(
            f"{name!r} has no login on this cluster", hint="`dmlctl access ls` lists who has"
        )
    box.remove_user(name)
    run_playbook("deploy.yml", inv.path, extravars=access.APPLY_LOGINS)
    out.print(
        f"[green]✓[/] {name}'s H2O login no longer works; {RESTART_NOTE.replace('load', 'drop')}.",
        highlight=False,
    )
    err.print(
        "Their profile also holds the Spark secret, which everyone shares: to shut them out of "
        "Spark too, run `dmlctl secrets rotate` (then grant the others again).",
        highlight=False,
    )
