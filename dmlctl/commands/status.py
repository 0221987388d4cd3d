"""`dmlctl status`: is the cluster there and healthy, straight from Spark's and H2O's REST APIs."""

from typing import Annotated

import typer

from dmlctl.cluster import status as cluster_status  # `status` is this command
from dmlctl.commands.common import Inventory, Json, Profile, connect
from dmlctl.ui.console import print_json


def status(
    inventory_path: Inventory = None,
    profile_path: Profile = None,
    as_json: Json = False,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Refresh every 2 seconds until Ctrl-C.")
    ] = False,
) -> None:
    """Show Spark and H2O health as their REST APIs report it; exit 1 unless all is healthy."""
    conn = connect(inventory_path, profile_path)
    if as_json:
        model = cluster_status.collect_for(conn)
        print_json(model)
    else:
        from dmlctl.ui import status as status_view  # rich's tables: only for people
        from dmlctl.ui.console import out

        if watch:  # until Ctrl-C; a last reading then decides the exit code
            status_view.watch(lambda: cluster_status.collect_for(conn), out)
        model = cluster_status.collect_for(conn)
        if not watch:
            out.print(status_view.render(model))
    if not model["healthy"]:
        if not as_json:
            from dmlctl.ui.console import err

            err.print("cluster is not healthy (see above)")
        raise typer.Exit(1)
