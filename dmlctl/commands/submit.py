"""`dmlctl submit`: run a sample job or the user's own program, keep its results, sum them up."""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from dmlctl import jobs as joblib
from dmlctl.commands.options import Inventory
from dmlctl.console import err, out


def submit(
    job: Annotated[
        str,
        typer.Argument(help="h2o-rf, spark-kmeans (see `dmlctl jobs`), or a path to your .py."),
    ],
    args: Annotated[
        list[str] | None,
        typer.Argument(help="Arguments for the job, after `--`.", show_default=False),
    ] = None,
    local: Annotated[
        bool,
        typer.Option("--local", help="Run on an embedded engine here (Spark local[*], own H2O)."),
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Run directory (new or empty). Default: runs/<job>-<UTC time>/."
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option("--engine", help="spark or h2o, for your own .py (default: its imports)."),
    ] = None,
    inventory: Inventory = None,
) -> None:
    """Run JOB and keep its output, result.json and plots in a run directory.

    Your own Spark program runs with spark-submit semantics: getOrCreate() reaches the engine.

    Your own H2O program connects to the URL in DMLCTL_H2O_URL (unset with --local).

    Either finds its run directory in DMLCTL_RUN_DIR.
    """
    spec = joblib.resolve_job(job, engine)
    if local:
        joblib.check_local_engine(spec.engine)
        target = joblib.Target.local()
    else:
        from dmlctl import cluster_target

        data = joblib.IRIS_CSV if spec.sample is not None else None
        target = cluster_target.target(inventory, spec.engine, data)
    run_dir = joblib.make_run_dir(spec.name, out=out_dir)
    err.print(
        f"[bold]{spec.name}[/] on {target.describe(spec.engine)} → {_shown(run_dir)}",
        highlight=False,
    )
    run = joblib.submit(spec, target, run_dir, args or ())
    show_summary(run)


def _shown(path: Path) -> str:
    """PATH relative to the current directory when inside it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def show_summary(run: joblib.Run) -> None:
    out.print()
    result = run.result
    name = run.job.sample.name if run.job.sample else None
    if name == "h2o-rf" and result:
        _h2o_rf_summary(result)
    elif name == "spark-kmeans" and result:
        _spark_kmeans_summary(result)
    elif result:
        _generic_summary(result)
    files = sorted(p.name for p in run.run_dir.iterdir() if p.is_file())
    out.print(
        f"[green]✓[/] {run.job.name} finished in {run.seconds:.0f} s on "
        f"{run.target.describe(run.job.engine)}",
        highlight=False,
    )
    out.print(
        f"run dir: [bold]{_shown(run.run_dir)}[/]  ({', '.join(files)})",
        highlight=False,
        soft_wrap=True,
    )


def _num(value: Any, digits: int = 4) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return "—" if value is None else str(value)


def _h2o_rf_summary(result: dict[str, Any]) -> None:
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
    out.print(metrics)

    cm = result.get("confusion_matrix") or {}
    labels, rows = cm.get("labels") or [], cm.get("rows") or []
    if labels and rows:
        table = Table(
            title="Confusion matrix (rows: actual, columns: predicted)", title_justify="left"
        )
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
            cells = [str(v) for v in row]
            table.add_row(label, *cells, f"{error:.4f}", f"{wrong} / {total}")
        column_totals = [str(sum(col)) for col in zip(*rows, strict=False)]
        count = sum(sum(row) for row in rows)
        table.add_row(
            "total",
            *column_totals,
            f"{(wrong_total / count if count else 0.0):.4f}",
            f"{wrong_total} / {count}",
            style="bold",
        )
        out.print(table)


def _spark_kmeans_summary(result: dict[str, Any]) -> None:
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
    out.print(table)
    out.print(sizes)
    out.print(
        f"rows: {result.get('rows')}   master: {result.get('master')}   "
        f"plots: silhouette.png, clusters.png",
        highlight=False,
    )


def _generic_summary(result: dict[str, Any]) -> None:
    table = Table(title="result.json", title_justify="left")
    table.add_column("key")
    table.add_column("value", overflow="fold")
    for key, value in result.items():
        if isinstance(value, dict | list):
            continue
        table.add_row(str(key), _num(value))
    if table.row_count:
        out.print(table)
