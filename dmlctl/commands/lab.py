"""`dmlctl lab`: rehearsal labs of real machines (podman + systemd + sshd) on this box."""

import os
from typing import Annotated

import typer

from dmlctl import lab as labs
from dmlctl.commands.common import Yes
from dmlctl.ui import tables
from dmlctl.ui.confirm import confirm
from dmlctl.ui.console import err, out, print_json

app = typer.Typer(
    help="Rehearsal labs: N real machines on this box to deploy to, try and test.",
    no_args_is_help=True,
)

NameOption = Annotated[
    str | None, typer.Option("--name", help="Lab name (default: the active lab).")
]


NodeArgument = Annotated[str, typer.Argument(help="Node name (node1, ...) or its IP.")]


def report(message: str) -> None:
    err.print(f"[dim]•[/] {message}", highlight=False)


@app.command()
def up(
    nodes: Annotated[int, typer.Option("--nodes", "-n", help="Number of machines.")] = 3,
    name: Annotated[str, typer.Option("--name", help="Lab name.")] = "lab",
    os_choice: Annotated[
        str,
        typer.Option(
            "--os",
            help="Release of the machines: bookworm (Debian 12), trixie (Debian 13), or mixed "
            "(alternating, node1 on Debian 12).",
        ),
    ] = "bookworm",
) -> None:
    """Create a lab of NODES machines and write an Ansible inventory for it.

    node1 is the Spark master, the other nodes Spark workers, every node an H2O node.
    The lab becomes the active one: commands given no inventory use it.
    """
    lab = labs.up(nodes, name, os=os_choice, progress=report)
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
                    "nodes": [{"name": n.name, "ip": n.ip, "os": n.os} for n in lab.nodes],
                }
                for lab in found
            ]
        )
        return
    if not found:
        err.print("no labs; create one with `dmlctl lab up`")
        return
    rows = [
        (lab, len(labs.running_nodes(lab)), active is not None and active.name == lab.name)
        for lab in found
    ]
    out.print(tables.labs_table(rows))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def ssh(
    ctx: typer.Context,
    node: NodeArgument,
    name: NameOption = None,
) -> None:
    """Log in to a lab node as the lab user; `-- CMD` runs CMD there instead."""
    lab = labs.load(labs.resolve_name(name))
    argv = labs.ssh_command(lab, node, list(ctx.args))
    os.execvp(argv[0], argv)


@app.command()
def stop(node: NodeArgument, name: NameOption = None) -> None:
    """Lose a node: it stops at once, as in a power cut (its address stays reserved)."""
    lab = labs.load(labs.resolve_name(name))
    stopped = labs.stop_node(lab, node, progress=report)
    err.print(f"{stopped.name} is down; `dmlctl lab start {stopped.name}` boots it again")


@app.command()
def start(node: NodeArgument, name: NameOption = None) -> None:
    """Boot a stopped node again at its own address; systemd starts its enabled services."""
    lab = labs.load(labs.resolve_name(name))
    started = labs.start_node(lab, node, progress=report)
    err.print(f"{started.name} is up at {started.ip}", highlight=False)


@app.command()
def restart(node: NodeArgument, name: NameOption = None) -> None:
    """Reboot a node: a clean shutdown, then it boots again at its own address."""
    lab = labs.load(labs.resolve_name(name))
    rebooted = labs.restart_node(lab, node, progress=report)
    err.print(f"{rebooted.name} rebooted, up at {rebooted.ip}", highlight=False)


@app.command()
def image(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Build even if cached.")] = False,
    os_choice: Annotated[
        str, typer.Option("--os", help="Release: bookworm (Debian 12) or trixie (Debian 13).")
    ] = "bookworm",
) -> None:
    """Build (once) a base image that lab nodes run: Debian with systemd and sshd."""
    built = labs.ensure_base_image(os_choice, rebuild=rebuild, progress=report)
    err.print(built, highlight=False)


def show_nodes(lab: labs.Lab) -> None:
    out.print(tables.nodes_table(lab.nodes, labs.lab_groups([n.name for n in lab.nodes])))
