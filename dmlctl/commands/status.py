"""`dmlctl status`: is the cluster there and healthy, straight from Spark's and H2O's REST APIs."""

import time
from typing import Annotated

import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from dmlctl import inventory
from dmlctl import status as cluster_status
from dmlctl.commands.options import Inventory, Json
from dmlctl.console import err, out, print_json


def _gb(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.2f} Gb"


def _health(ok: bool) -> Text:
    return Text("healthy", style="green") if ok else Text("UNHEALTHY", style="bold red")


def render(model: dict) -> RenderableType:
    h2o, spark = model["h2o"], model["spark"]
    summary = Table.grid(padding=(0, 2))
    locked = "locked" if h2o["locked"] else "unlocked"
    state = "healthy" if h2o["healthy"] else "unhealthy"
    for label, value in (
        ("H2O_cluster_version:", h2o["version"] or "-"),
        ("H2O_cluster_name:", h2o["cloud_name"] or "-"),
        ("H2O_cluster_total_nodes:", f"{h2o['cloud_size']} of {h2o['nodes_expected']}"),
        ("H2O_cluster_free_memory:", _gb(h2o["free_mem"])),
        ("H2O_cluster_total_cores:", str(h2o["total_cores"])),
        ("H2O_cluster_status:", f"{locked}, {state}"),
        ("H2O_connection_url:", h2o["url"]),
    ):
        summary.add_row(label, value)

    h2o_nodes = Table("H2O node", "healthy", "free_mem", "num_cpus", "sys_load", box=None)
    for node in h2o["nodes"]:
        h2o_nodes.add_row(
            node["ip_port"],
            str(node["healthy"]),
            _gb(node["free_mem"]),
            str(node["num_cpus"]),
            f"{node['sys_load']:.2f}" if node.get("sys_load") is not None else "-",
        )

    spark_summary = Table.grid(padding=(0, 2))
    for label, value in (
        ("Spark master:", f"{spark['master_url']}  ({spark['status']})"),
        ("Spark workers:", f"{spark['workers_alive']} of {spark['workers_expected']} alive"),
        ("Spark resources:", f"{spark['cores']} cores, {spark['memory_mb']} MB"),
        ("Spark UI:", spark["ui"]),
    ):
        spark_summary.add_row(label, value)
    workers = Table("Spark worker", "state", "cores", "memory_mb", "UI", box=None)
    for worker in spark["workers"]:
        workers.add_row(
            worker["host"],
            worker["state"],
            str(worker["cores"]),
            str(worker["memory_mb"]),
            worker.get("ui") or "",
        )

    problems = [*h2o["problems"]]
    if spark.get("error"):
        problems.append(f"Spark master {spark['ui']} does not answer: {spark['error']}")
    missing = spark.get("missing_worker_names", spark["missing_workers"])
    problems += [f"Spark worker {worker} is not registered" for worker in missing]
    problems += [
        f"host {h['name']} is unreachable (ssh)" for h in model["hosts"] if not h["reachable"]
    ]
    verdict = Text.assemble("H2O ", _health(h2o["healthy"]), "   Spark ", _health(spark["healthy"]))
    parts: list[RenderableType] = [summary, Text(), h2o_nodes, Text(), spark_summary, Text()]
    if spark["workers"]:
        parts += [workers, Text()]
    parts += [Text(f"! {p}", style="red") for p in problems]
    parts.append(verdict)
    return Group(*parts)


def status(
    inventory_path: Inventory = None,
    as_json: Json = False,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Refresh every 2 seconds until Ctrl-C.")
    ] = False,
) -> None:
    """Show Spark and H2O health as their REST APIs report it; exit 1 unless all is healthy."""
    inv = inventory.load_cached(inventory.resolve(inventory_path))
    inv.require_cluster_groups()
    if watch and not as_json:
        with Live(console=out, auto_refresh=False) as live:
            try:
                while True:
                    live.update(render(cluster_status.collect(inv)), refresh=True)
                    time.sleep(2)
            except KeyboardInterrupt:
                pass
    model = cluster_status.collect(inv)
    if as_json:
        print_json(model)
    elif not watch:
        out.print(render(model))
    if not model["healthy"]:
        if not as_json:
            err.print("cluster is not healthy (see above)")
        raise typer.Exit(1)
