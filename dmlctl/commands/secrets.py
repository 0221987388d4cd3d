"""`dmlctl secrets rotate`: new Spark secret and H2O passwords, rolled out; the old ones die."""

from pathlib import Path

import typer

from dmlctl import inventory
from dmlctl.commands.options import Inventory
from dmlctl.console import err, out
from dmlctl.errors import UsageError
from dmlctl.secrets import ClusterSecrets

app = typer.Typer(help="The cluster's secrets (kept 0600 in dmlctl's state).", no_args_is_help=True)


@app.command()
def rotate(inventory_path: Inventory = None) -> None:
    """Make a new Spark secret and new H2O passwords, roll them out, restart both engines.

    Profiles handed out earlier stop working: grant those people access again.
    """
    from dmlctl import security
    from dmlctl.commands.cluster import run_playbook

    path = inventory.resolve(inventory_path)
    inv = inventory.load(path)
    inv.require_cluster_groups()
    box = ClusterSecrets.for_inventory(path)
    if not security.secure(inv, path) or not box.exists:
        raise UsageError(
            "this cluster has no secrets to rotate (it was never deployed secure from here)",
            hint="run `dmlctl deploy`",
        )
    users = box.rotate()
    run_playbook("deploy.yml", path)
    out.print(
        "[green]✓[/] new Spark secret and H2O passwords are in use; the old ones are refused."
    )
    _rewrite_profiles(inv, box, users)


def _rewrite_profiles(inv, box: ClusterSecrets, users: list[str]) -> None:
    """Write every handed-out profile again, with the new secrets, where it was written."""
    from dmlctl import profile
    from dmlctl.commands.access import make_profile

    logins, grants = box.logins(), box.grants()
    for user in users:
        where = grants.get(user, {}).get("profile")
        try:
            if not where:
                raise OSError("its location was not recorded")
            profile.write(make_profile(user, inv, box, logins[user]), Path(where))
        except OSError as error:
            err.print(
                f"{user}: profile not rewritten ({getattr(error, 'strerror', None) or error}); "
                f"`dmlctl access grant {user}` issues a new one",
                highlight=False,
                soft_wrap=True,
            )
        else:
            out.print(f"rewrote {user}'s profile: {where} (hand it over again)", highlight=False)
