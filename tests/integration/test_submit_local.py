"""`dmlctl submit --local`: both sample jobs and a user's own Spark job, end to end.

Each runs the real engine on this machine (Spark local[*], an embedded H2O) through the CLI in
a subprocess, from a scratch working directory, and checks the run directory against the run
contract in DESIGN.md.
"""

import json
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

# The CLI as `dmlctl` runs it; registers submit/jobs itself only if cli.py does not yet.
CLI = """
import sys
from dmlctl import cli
from dmlctl.commands import jobs, submit
known = {c.name or c.callback.__name__ for c in cli.app.registered_commands}
for name, command in (("submit", submit.submit), ("jobs", jobs.jobs)):
    if name not in known:
        cli.app.command(name)(command)
cli.main(sys.argv[1:])
"""


def dmlctl(cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", CLI, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def only_run_dir(cwd: Path) -> Path:
    runs = sorted((cwd / "runs").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    assert len(data) > 10_000, f"{path} is only {len(data)} bytes"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert width >= 400 and height >= 300, (path, width, height)


def test_h2o_rf_local(tmp_path):
    started = time.monotonic()
    done = dmlctl(tmp_path, "submit", "h2o-rf", "--local")
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_dir = only_run_dir(tmp_path)
    assert run_dir.name.startswith("h2o-rf-")
    result = json.loads((run_dir / "result.json").read_text())

    assert result["train_rows"] + result["test_rows"] == 150
    assert result["test_rows"] > 0
    cm = result["confusion_matrix"]
    assert cm["labels"] == ["setosa", "versicolor", "virginica"]
    assert len(cm["rows"]) == 3 and all(len(row) == 3 for row in cm["rows"])
    assert sum(map(sum, cm["rows"])) == result["test_rows"]
    for key in ("mse", "rmse", "logloss", "mean_per_class_error"):
        assert 0 <= result[key] < 1, (key, result[key])
    assert result["rmse"] == pytest.approx(result["mse"] ** 0.5)
    assert result["cluster"]["cloud_size"] == 1
    import h2o  # the client library: the embedded H2O is the same version

    assert result["cluster"]["version"] == h2o.__version__

    log = (run_dir / "job.log").read_text()
    assert "Confusion Matrix" in log and "H2O_cluster_total_nodes" in log
    assert log in done.stdout  # streamed live, and all of it kept
    assert "Confusion matrix" in done.stdout and str(run_dir.name) in done.stdout
    print(f"h2o-rf --local: {seconds:.1f} s")


def test_spark_kmeans_local(tmp_path):
    out = tmp_path / "kmeans-run"
    started = time.monotonic()
    done = dmlctl(tmp_path, "submit", "spark-kmeans", "--local", "--out", str(out))
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((out / "result.json").read_text())

    assert result["rows"] == 150
    assert sorted(result["silhouette"], key=int) == [str(k) for k in range(2, 10)]
    assert all(-1 < score < 1 for score in result["silhouette"].values())
    assert result["k"] == 3
    assert len(result["cluster_counts"]) == 3
    assert sum(result["cluster_counts"].values()) == 150
    assert result["master"].startswith("local")
    assert_png(out / "silhouette.png")
    assert_png(out / "clusters.png")
    assert "Silhouette score for k=9" in (out / "job.log").read_text()

    # The same --out again: refused, the first run untouched.
    again = dmlctl(tmp_path, "submit", "spark-kmeans", "--local", "--out", str(out))
    assert again.returncode == 2
    assert "not empty" in again.stderr
    assert json.loads((out / "result.json").read_text()) == result
    print(f"spark-kmeans --local: {seconds:.1f} s")


def test_user_spark_job_with_lambdas_on_executors(tmp_path):
    job = tmp_path / "squares.py"
    job.write_text(
        textwrap.dedent(
            """
            import json, os, pathlib, sys
            from pyspark.sql import SparkSession

            spark = SparkSession.builder.appName("squares").getOrCreate()
            n = int(sys.argv[1])
            rdd = spark.sparkContext.parallelize(range(n), 4)
            total = rdd.map(lambda x: x * x).filter(lambda x: x % 2 == 0).sum()
            pythons = rdd.map(lambda _: sys.executable).distinct().collect()
            result = {"n": n, "total": total, "master": spark.sparkContext.master,
                      "pythons": pythons}
            spark.stop()
            out = pathlib.Path(os.environ["DMLCTL_RUN_DIR"]) / "result.json"
            out.write_text(json.dumps(result))
            """
        )
    )
    done = dmlctl(tmp_path, "submit", str(job), "--local", "--", "100")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_dir = only_run_dir(tmp_path)
    assert run_dir.name.startswith("squares-")
    result = json.loads((run_dir / "result.json").read_text())
    assert result["total"] == sum(x * x for x in range(100) if x % 2 == 0)
    assert result["master"] == "local[*]"
    assert result["pythons"] == [sys.executable]


def test_unknown_job_is_one_line_and_exit_2(tmp_path):
    done = dmlctl(tmp_path, "submit", "h2o-fr", "--local")
    assert done.returncode == 2
    assert "did you mean `dmlctl submit h2o-rf`" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()
