"""`dmlctl secrets rotate`: new Spark secret and H2O passwords, rolled out; the old ones die."""

import typer

from dmlctl.commands.common import Inventory, exclusive, run_playbook
from dmlctl.errors import UsageError
from dmlctl.ui.console import err, out

app = typer.Typer(help="The cluster's secrets (kept 0600 in dmlctl's state).", no_args_is_help=True)


@app.command()
def rotate(inventory_path: Inventory = None) -> None:
    """Make a new Spark secret and new H2O passwords, roll them out, restart both engines.

    Profiles handed out earlier stop working: grant those people access again.
    """
    from dmlctl.cluster import access

    try:
        inv, box = access.secure_cluster(inventory_path)
    except UsageError:
        raise UsageError(
            "this cluster has no secrets to rotate (it was never deployed secure from here)",
            hint="run `dmlctl deploy`",
        ) from None
    with exclusive(inv.path, "secrets rotate"):
        users = box.rotate()
        run_playbook("deploy.yml", inv.path)
        out.print(
            "[green]✓[/] new Spark secret and H2O passwords are in use; the old ones are refused."
        )
        rewritten = access.rewrite_profiles(inv, box, users)
    for user, where, why_not in rewritten:
        if where:
            out.print(f"rewrote {user}'s profile: {where} (hand it over again)", highlight=False)
        else:
            err.print(
                f"{user}: profile not rewritten ({why_not}); "
                f"`dmlctl access grant {user}` issues a new one",
                highlight=False,
                soft_wrap=True,
            )
