"""The status model (dmlctl.cluster.status) on a terminal."""

import time
from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text


def _gb(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.2f} Gb"


def _health(ok: bool) -> Text:
    return Text("healthy", style="green") if ok else Text("UNHEALTHY", style="bold red")


def _h2o_health(h2o: dict) -> Text:
    if h2o.get("verdict") == "degraded":  # a cloud of fewer nodes, serving jobs
        return Text("DEGRADED (serves jobs)", style="bold yellow")
    return _health(h2o["healthy"])


def _engines_answer(model: dict) -> bool:
    return model["spark"]["status"] != "UNREACHABLE" or bool(model["h2o"].get("cloud_size"))


def _security_line(model: dict) -> str:
    facts = model.get("security")
    if not facts:
        return "-"
    if facts.get("set_up") is False:  # dmlctl made no secrets or CA for it: nothing to claim
        if _engines_answer(model):
            return "not set up from here: no secrets for this inventory (run `dmlctl deploy`)"
        return "not deployed yet (run `dmlctl deploy`)"
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


def _h2o_summary(h2o: dict) -> Table:
    """The cloud as the lecture's h2o.cluster().show_status() prints it."""
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
    return summary


def _table(columns: tuple[str, ...], rows) -> Table:
    table = Table(*columns, box=None)
    for row in rows:
        table.add_row(*row)
    return table


def _load(node: dict) -> str:
    return f"{node['sys_load']:.2f}" if node.get("sys_load") is not None else "-"


def _h2o_nodes(h2o: dict) -> Table:
    return _table(
        ("H2O node", "healthy", "free_mem", "num_cpus", "sys_load"),
        ((n["ip_port"], str(n["healthy"]), _gb(n["free_mem"]), str(n["num_cpus"]), _load(n))
         for n in h2o["nodes"]),
    )  # fmt: skip


def _spark_summary(model: dict) -> Table:
    spark = model["spark"]
    spark_summary = Table.grid(padding=(0, 2))
    for label, value in (
        ("Spark master:", f"{spark['master_url']}  ({spark['status']})"),
        ("Spark workers:", f"{spark['workers_alive']} of {spark['workers_expected']} alive"),
        ("Spark resources:", f"{spark['cores']} cores, {spark['memory_mb']} MB"),
        ("Spark UI:", spark["ui"]),
        ("Security:", _security_line(model)),
    ):
        spark_summary.add_row(label, value)
    return spark_summary


def _spark_workers(spark: dict) -> Table:
    return _table(
        ("Spark worker", "state", "cores", "memory_mb", "UI"),
        ((w["host"], w["state"], str(w["cores"]), str(w["memory_mb"]), w.get("ui") or "")
         for w in spark["workers"]),
    )  # fmt: skip


def _spark_apps(spark: dict) -> Table:
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
    return apps


def _problems(model: dict) -> list[str]:
    h2o, spark = model["h2o"], model["spark"]
    problems = [*h2o["problems"]]
    if spark.get("error"):
        problems.append(f"Spark master {spark['ui']} does not answer: {spark['error']}")
    missing = spark.get("missing_worker_names", spark["missing_workers"])
    problems += [f"Spark worker {worker} is not registered" for worker in missing]
    problems += [
        f"host {h['name']} is unreachable (ssh)" for h in model["hosts"] if not h["reachable"]
    ]
    return problems


def render(model: dict) -> RenderableType:
    """The whole status model on a terminal: H2O as the lecture shows it, then Spark."""
    h2o, spark = model["h2o"], model["spark"]
    verdict = Text.assemble("H2O ", _h2o_health(h2o), "   Spark ", _health(spark["healthy"]))
    parts: list[RenderableType] = [
        *(_h2o_summary(h2o), Text(), _h2o_nodes(h2o), Text(), _spark_summary(model), Text())
    ]
    if spark["workers"]:
        parts += [_spark_workers(spark), Text()]
    if spark.get("apps"):
        parts += [_spark_apps(spark), Text()]
        if any(a["state"] == "WAITING" or not a["cores"] for a in spark["apps"]):
            parts += [
                Text(
                    "An application with 0 cores waits until a running one finishes or frees "
                    "cores (each takes the per-application share unless it asked for --cores).",
                    style="yellow",
                ),
                Text(),
            ]
    parts += [Text(f"! {p}", style="red") for p in _problems(model)]
    parts += [Text(f"H2O next: {h2o['next']}", style="yellow")] if h2o.get("next") else []
    parts.append(verdict)
    return Group(*parts)


def watch(fetch: Callable[[], dict], console, every: float = 2.0) -> None:
    """Redraw the model FETCH returns every EVERY seconds until Ctrl-C."""
    from rich.live import Live

    with Live(console=console, auto_refresh=False) as live:
        try:
            while True:
                model = fetch()
                stamp = Text(f"refreshed {time.strftime('%H:%M:%S')}, every {every:g} s; "
                             "Ctrl-C stops", style="dim")  # fmt: skip
                # First, as `watch` puts it: a terminal shorter than the picture keeps its top.
                live.update(Group(stamp, render(model)), refresh=True)
                time.sleep(every)
        except KeyboardInterrupt:
            pass
