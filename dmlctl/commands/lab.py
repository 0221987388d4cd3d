"""`dmlctl lab`: rehearsal labs of real machines (podman + systemd + sshd) on this box."""

import os
from typing import Annotated

import typer

from dmlctl import lab as labs
from dmlctl.commands.common import Yes
from dmlctl.ui.confirm import confirm
from dmlctl.ui.console import err, out, print_json
from dmlctl.ui.tables import plain_table

app = typer.Typer(
    help="Rehearsal labs: N real machines on this box to deploy to, try and test.",
    no_args_is_help=True,
)

NameOption = Annotated[
    str | None, typer.Option("--name", help="Lab name (default: the active lab).")
]


def report(message: str) -> None:
    err.print(f"[dim]•[/] {message}", highlight=False)


@app.command()
def up(
    nodes: Annotated[int, typer.Option("--nodes", "-n", help="Number of machines.")] = 3,
    name: Annotated[str, typer.Option("--name", help="Lab name.")] = "lab",
) -> None:
    """Create a lab of NODES machines and write an Ansible inventory for it.

    node1 is the Spark master, the other nodes Spark workers, every node an H2O node.
    The lab becomes the active one: commands given no inventory use it.
    """
    lab = labs.up(nodes, name, progress=report)
    show_nodes(lab)
    err.print(f"inventory: {lab.inventory}", highlight=False)
    err.print(f"log in:    dmlctl lab ssh {lab.nodes[0].name}", highlight=False)


@app.command()
def down(name: NameOption = None, yes: Yes = False) -> None:
    """Remove a lab: its containers, network, SSH key, inventory and state.

    Asks first on a terminal; --yes skips the question.
    """
    lab_name = labs.resolve_name(name)
    labs.require_removable(lab_name)
    confirm(f"remove lab {lab_name!r} with its machines and everything deployed on them", yes=yes)
    labs.down(lab_name, progress=report)


@app.command("ls")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """List the labs with their inventories and node addresses."""
    found = labs.list_labs()
    active = labs.active()
    if as_json:
        print_json(
            [
                {
                    "name": lab.name,
                    "inventory": str(lab.inventory),
                    "active": active is not None and active.name == lab.name,
                    "nodes": [{"name": n.name, "ip": n.ip} for n in lab.nodes],
                }
                for lab in found
            ]
        )
        return
    if not found:
        err.print("no labs; create one with `dmlctl lab up`")
        return
    rows = []
    for lab in found:
        running = labs.running_nodes(lab)
        mark = " (active)" if active is not None and active.name == lab.name else ""
        rows.append(
            [
                lab.name + mark,
                " ".join(f"{n.name}={n.ip}" for n in lab.nodes),
                f"{len(running)}/{len(lab.nodes)}",
                str(lab.inventory),
            ]
        )
    out.print(plain_table(["lab", "nodes", "running", "inventory"], rows, fold=(3,)))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def ssh(
    ctx: typer.Context,
    node: Annotated[str, typer.Argument(help="Node name (node1, ...) or its IP.")],
    name: NameOption = None,
) -> None:
    """Log in to a lab node as the lab user; `-- CMD` runs CMD there instead."""
    lab = labs.load(labs.resolve_name(name))
    argv = labs.ssh_command(lab, node, list(ctx.args))
    os.execvp(argv[0], argv)


@app.command()
def image(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Build even if cached.")] = False,
) -> None:
    """Build (once) the base image that lab nodes run: Debian 12 with systemd and sshd."""
    err.print(labs.ensure_base_image(rebuild=rebuild, progress=report), highlight=False)


def show_nodes(lab: labs.Lab) -> None:
    groups = labs.lab_groups([n.name for n in lab.nodes])
    rows = [
        [node.name, node.ip, ", ".join(g for g, members in groups.items() if node.name in members)]
        for node in lab.nodes
    ]
    out.print(plain_table(["node", "address", "groups"], rows))
