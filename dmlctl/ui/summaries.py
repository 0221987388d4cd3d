"""How a finished run reads on screen: its result.json (one renderer per sample job, one
generic), the time it took and what its run directory holds."""

from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

Summary = list[RenderableType]


def _num(value: Any, digits: int = 4) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return "—" if value is None else str(value)


def h2o_rf(result: dict[str, Any]) -> Summary:
    cluster = result.get("cluster") or {}
    metrics = Table(title="Random forest on the test data", title_justify="left")
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    for label, key in (
        ("train rows", "train_rows"),
        ("test rows", "test_rows"),
        ("MSE", "mse"),
        ("RMSE", "rmse"),
        ("log loss", "logloss"),
        ("mean per-class error", "mean_per_class_error"),
    ):
        metrics.add_row(label, _num(result.get(key)))
    metrics.add_row(
        "H2O cloud", f"{cluster.get('cloud_size', '?')} node(s), H2O {cluster.get('version', '?')}"
    )
    shown: Summary = [metrics]

    cm = result.get("confusion_matrix") or {}
    labels, rows = cm.get("labels") or [], cm.get("rows") or []
    if labels and rows:
        shown.append(_confusion_matrix(labels, rows))
    return shown


def _confusion_matrix(labels: list[str], rows: list[list[int]]) -> Table:
    table = Table(title="Confusion matrix (rows: actual, columns: predicted)", title_justify="left")
    table.add_column("actual \\ predicted")
    for label in labels:
        table.add_column(label, justify="right")
    table.add_column("error", justify="right")
    table.add_column("rate", justify="right")
    wrong_total = 0
    for i, (label, row) in enumerate(zip(labels, rows, strict=False)):
        total = sum(row)
        wrong = total - (row[i] if i < len(row) else 0)
        wrong_total += wrong
        error = wrong / total if total else 0.0
        table.add_row(label, *(str(v) for v in row), f"{error:.4f}", f"{wrong} / {total}")
    column_totals = [str(sum(col)) for col in zip(*rows, strict=False)]
    count = sum(sum(row) for row in rows)
    table.add_row(
        "total",
        *column_totals,
        f"{(wrong_total / count if count else 0.0):.4f}",
        f"{wrong_total} / {count}",
        style="bold",
    )
    return table


def spark_kmeans(result: dict[str, Any]) -> Summary:
    chosen = result.get("k")
    silhouette = result.get("silhouette") or {}
    table = Table(title="Silhouette by k", title_justify="left")
    table.add_column("k", justify="right")
    table.add_column("silhouette", justify="right")
    for k in sorted(silhouette, key=lambda key: int(key)):
        mark = "  ← model" if str(k) == str(chosen) else ""
        table.add_row(str(k), f"{silhouette[k]:.4f}{mark}")
    counts = result.get("cluster_counts") or {}
    sizes = Table(title=f"Sizes, k={chosen}", title_justify="left")
    sizes.add_column("cluster", justify="right")
    sizes.add_column("rows", justify="right")
    for cluster in sorted(counts, key=lambda key: int(key)):
        sizes.add_row(str(cluster), str(counts[cluster]))
    sizes.add_row("total", str(sum(counts.values())), style="bold")
    footer = Text(
        f"rows: {result.get('rows')}   master: {result.get('master')}   "
        f"plots: silhouette.png, clusters.png"
    )
    return [table, sizes, footer]


def generic(result: dict[str, Any]) -> Summary:
    """A user's own job: the top-level scalar values of its result.json."""
    table = Table(title="result.json", title_justify="left")
    table.add_column("key")
    table.add_column("value", overflow="fold")
    for key, value in result.items():
        if isinstance(value, dict | list):
            continue
        table.add_row(str(key), _num(value))
    return [table] if table.row_count else []


BY_JOB = {"h2o-rf": h2o_rf, "spark-kmeans": spark_kmeans}


def show_run(run, console, run_dir_shown: str) -> None:
    """A finished run (dmlctl.jobs.Run): its result's tables, then where its files are."""
    console.print()
    if run.result:
        render = BY_JOB.get(run.job.sample.name if run.job.sample else "", generic)
        for part in render(run.result):
            console.print(part, highlight=False)
    files = sorted(p.name for p in run.run_dir.iterdir() if p.is_file())
    figures = [name for name in files if name.startswith("figure-") and name.endswith(".png")]
    if figures:
        console.print(f"figures: {', '.join(figures)}", highlight=False, soft_wrap=True)
    console.print(
        f"[green]✓[/] {run.job.name} finished in {run.seconds:.0f} s on "
        f"{run.target.describe(run.job.engine)}",
        highlight=False,
    )
    console.print(
        f"run dir: [bold]{run_dir_shown}[/]  ({', '.join(files)})",
        highlight=False,
        soft_wrap=True,
    )
