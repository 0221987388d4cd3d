"""`dmlctl status`: is the cluster there and healthy, straight from Spark's and H2O's REST APIs."""

import time
from typing import Annotated

import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from dmlctl import status as cluster_status
from dmlctl.commands.options import Inventory, Json, Profile
from dmlctl.connection import Connection, connect
from dmlctl.console import err, out, print_json
from dmlctl.errors import OperationError


def _gb(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.2f} Gb"


def _health(ok: bool) -> Text:
    return Text("healthy", style="green") if ok else Text("UNHEALTHY", style="bold red")


def _h2o_health(h2o: dict) -> Text:
    if h2o.get("verdict") == "degraded":  # a cloud of fewer nodes, serving jobs
        return Text("DEGRADED (serves jobs)", style="bold yellow")
    return _health(h2o["healthy"])


def _security_line(facts: dict | None) -> str:
    if not facts:
        return "-"
    if not facts["secure"]:
        return "OFF (deployed insecure)"
    h2o = facts["h2o"]
    parts = [
        "Spark shared-secret auth + AES-GCM",
        "H2O login" + (" (anonymous refused)" if h2o["anonymous_refused"] else ""),
        "HTTPS" if h2o["https"] else "http",
        "node TLS" if h2o["internal_security"] else "NO node TLS",
    ]
    if facts["spark"]["rest_submission_open"]:
        parts.append("Spark REST submission OPEN")
    return ", ".join(parts)


def _uptime(h2o: dict) -> str:
    """How long the cloud has been up since it last (re-)formed, and when that was."""
    seconds = h2o.get("uptime_s")
    if seconds is None:
        return "-"
    span = f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"
    return f"{span} (re-formed {h2o['formed']})"


def render(model: dict) -> RenderableType:
    h2o, spark = model["h2o"], model["spark"]
    summary = Table.grid(padding=(0, 2))
    locked = "locked" if h2o["locked"] else "unlocked"
    state = h2o.get("verdict") or ("healthy" if h2o["healthy"] else "unhealthy")
    for label, value in (
        ("H2O_cluster_version:", h2o["version"] or "-"),
        ("H2O_cluster_name:", h2o["cloud_name"] or "-"),
        ("H2O_cluster_total_nodes:", f"{h2o['cloud_size']} of {h2o['nodes_expected']}"),
        ("H2O_cluster_free_memory:", _gb(h2o["free_mem"])),
        ("H2O_cluster_total_cores:", str(h2o["total_cores"])),
        ("H2O_cluster_status:", f"{locked}, {state}"),
        ("H2O_cluster_uptime:", _uptime(h2o)),
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
        ("Security:", _security_line(model.get("security"))),
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

    apps = Table("Spark application", "name", "user", "state", "cores", "running", box=None)
    for app in spark.get("apps", []):
        waiting = app["state"] == "WAITING" or not app["cores"]
        apps.add_row(
            app["id"],
            app["name"],
            app["user"],
            Text(app["state"], style="yellow" if waiting else ""),
            str(app["cores"]),
            f"{app['seconds']} s",
        )
    problems = [*h2o["problems"]]
    if spark.get("error"):
        problems.append(f"Spark master {spark['ui']} does not answer: {spark['error']}")
    missing = spark.get("missing_worker_names", spark["missing_workers"])
    problems += [f"Spark worker {worker} is not registered" for worker in missing]
    problems += [
        f"host {h['name']} is unreachable (ssh)" for h in model["hosts"] if not h["reachable"]
    ]
    verdict = Text.assemble("H2O ", _h2o_health(h2o), "   Spark ", _health(spark["healthy"]))
    parts: list[RenderableType] = [summary, Text(), h2o_nodes, Text(), spark_summary, Text()]
    if spark["workers"]:
        parts += [workers, Text()]
    if spark.get("apps"):
        parts += [apps, Text()]
        if any(a["state"] == "WAITING" or not a["cores"] for a in spark["apps"]):
            parts += [
                Text(
                    "An application with 0 cores waits until a running one finishes or frees "
                    "cores (each takes the per-application share unless it asked for --cores).",
                    style="yellow",
                ),
                Text(),
            ]
    parts += [Text(f"! {p}", style="red") for p in problems]
    parts += [Text(f"H2O next: {h2o['next']}", style="yellow")] if h2o.get("next") else []
    parts.append(verdict)
    return Group(*parts)


def collect(conn: Connection, timeout: float = cluster_status.TIMEOUT) -> dict:
    """The status model of CONN's cluster; a refused login is an error of its own (exit 1)."""
    model = cluster_status.collect(
        conn.inv, timeout, ends=conn.ends, creds=conn.creds, source=conn.source
    )
    if model["h2o"]["problems"] and all("login was refused" in p for p in model["h2o"]["problems"]):
        raise OperationError(
            f"the H2O cloud refused the login from {conn.source} (HTTP 401)",
            hint=conn.refused_hint,
        )
    return model


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
    if watch and not as_json:
        with Live(console=out, auto_refresh=False) as live:
            try:
                while True:
                    live.update(render(collect(conn)), refresh=True)
                    time.sleep(2)
            except KeyboardInterrupt:
                pass
    model = collect(conn)
    if as_json:
        print_json(model)
    elif not watch:
        out.print(render(model))
    if not model["healthy"]:
        if not as_json:
            err.print("cluster is not healthy (see above)")
        raise typer.Exit(1)
