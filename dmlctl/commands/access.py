"""`dmlctl access grant|ls|revoke`: profiles that let one person use the cluster, no SSH needed."""

import importlib.metadata
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dmlctl import executor_python, inventory, profile, security
from dmlctl.commands.options import Inventory, Json
from dmlctl.console import err, out, print_json
from dmlctl.errors import UsageError
from dmlctl.secrets import ClusterSecrets, check_user_name

app = typer.Typer(
    help="Give people access to the cluster with a profile file (their own H2O login).",
    no_args_is_help=True,
)
Name = Annotated[str, typer.Argument(help="The person's login name (lowercase).")]
RESTART_NOTE = "the H2O cloud restarted to load it (H2O reads its logins only when it starts)"


def _secure_cluster(inventory_path: Path | None):
    path = inventory.resolve(inventory_path)
    inv = inventory.load(path)
    inv.require_cluster_groups()
    box = ClusterSecrets.for_inventory(path)
    if not security.secure(inv, path):
        raise UsageError(
            "this cluster runs without security, so there is no login to hand out",
            hint="deploy it secure first: `dmlctl deploy` (without --insecure / dmlctl_insecure)",
        )
    if not box.exists:
        raise UsageError(
            f"no secrets for {path} yet: the cluster was not deployed by dmlctl from here",
            hint="run `dmlctl deploy` first",
        )
    return path, inv, box


def _client_version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def make_profile(name: str, inv, box: ClusterSecrets, password: str) -> profile.Profile:
    """NAME's profile for the cluster of INV: addresses, CA, their login, the Spark secret."""
    from dmlctl import status

    ends = status.endpoints(inv)
    h2o_url = ends.h2o_url.replace("http://", "https://", 1)
    versions = {
        "spark": inv.var(ends.spark_master, "spark_version") or _client_version("pyspark"),
        "h2o": inv.var(next(iter(ends.h2o_nodes.values())), "h2o_version")
        or _client_version("h2o"),
        executor_python.PROFILE_KEY: box.executor_python,
    }
    return profile.Profile(
        name=name,
        cluster=box.path.name,
        spark_master_url=ends.spark_master_url,
        spark_ui=ends.spark_ui,
        spark_workers=list(ends.spark_workers),
        h2o_url=h2o_url,
        h2o_nodes=list(ends.h2o_nodes),
        h2o_cluster_name=ends.h2o_cluster_name,
        versions={k: str(v) for k, v in versions.items() if v},
        secure=True,
        spark_python=ends.spark_python,
        spark_secret=box.spark_secret(),
        h2o_user=name,
        h2o_password=password,
        ca_pem=box.ca_pem(),
    )


def _apply_logins(inventory_path: Path) -> None:
    """Roll the changed realm out: the H2O part of deploy (an H2O cloud restarts as a whole)."""
    from dmlctl.commands.cluster import run_playbook

    run_playbook("deploy.yml", inventory_path, extravars={"dmlctl_engines": ["h2o"]})


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
    path, inv, box = _secure_cluster(inventory_path)
    target = (out_file or Path(f"{name}.profile.json")).expanduser()
    if target.is_dir():
        raise UsageError(f"--out {target} is a directory; give a file name")
    password = box.add_user(name)
    _apply_logins(path)
    written = profile.write(make_profile(name, inv, box, password), target)
    box.note_profile(name, written.resolve())
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
    _, _, box = _secure_cluster(inventory_path)
    grants = box.grants()
    rows = [{"name": u, **grants.get(u, {})} for u in box.users()]
    if as_json:
        print_json(rows)
        return
    if not rows:
        err.print("nobody has access yet: `dmlctl access grant NAME`")
        return
    table = Table("name", "granted", "profile written to", box=None)
    for row in rows:
        table.add_row(row["name"], row.get("granted", "-"), row.get("profile", "-"))
    out.print(table)


@app.command()
def revoke(name: Name, inventory_path: Inventory = None) -> None:
    """Take NAME's H2O login away (the H2O cloud restarts to forget it)."""
    path, _, box = _secure_cluster(inventory_path)
    if name not in box.users():
        raise UsageError(
            f"{name!r} has no login on this cluster", hint="`dmlctl access ls` lists who has"
        )
    box.remove_user(name)
    _apply_logins(path)
    out.print(
        f"[green]✓[/] {name}'s H2O login no longer works; {RESTART_NOTE.replace('load', 'drop')}.",
        highlight=False,
    )
    err.print(
        "Their profile also holds the Spark secret, which everyone shares: to shut them out of "
        "Spark too, run `dmlctl secrets rotate` (then grant the others again).",
        highlight=False,
    )
