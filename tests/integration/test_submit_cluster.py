"""What a student types, on a real deployed 3-node lab: both sample jobs and a custom job."""

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _submit(cluster, tmp_path: Path, job: str, *extra: str) -> tuple[Path, object]:
    out = tmp_path / job.replace("/", "_")
    result = cluster.dmlctl(
        "submit", job, "-i", str(cluster.inventory), "--out", str(out), *extra, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out, result


def _status_spark(cluster) -> str:
    status = json.loads(cluster.dmlctl("status", "--json", "-i", str(cluster.inventory)).stdout)
    return status["spark"]["master_url"]


def test_the_demo_ran_both_sample_jobs_on_the_cluster(cluster):
    """`dmlctl demo`, the README's first command, made this session's cluster: a lab, a
    deploy, the status and both lecture programs."""
    output = cluster.deploy.stdout + cluster.deploy.stderr
    assert cluster.deploy.returncode == 0, output[-3000:]
    for step in ("1/4", "2/4", "3/4", "4/4  dmlctl submit spark-kmeans", "dmlctl submit h2o-rf"):
        assert step in output
    assert "H2O healthy   Spark healthy" in output
    _check_h2o_rf(cluster.demo_run("h2o-rf"), output)
    _check_spark_kmeans(cluster, cluster.demo_run("spark-kmeans"), output)


def _check_h2o_rf(out: Path, printed: str) -> None:
    data = json.loads((out / "result.json").read_text())
    assert data["train_rows"] + data["test_rows"] == 150
    matrix = data["confusion_matrix"]
    assert matrix["labels"] == ["setosa", "versicolor", "virginica"]
    assert sum(map(sum, matrix["rows"])) == data["test_rows"]
    assert 0 <= data["mean_per_class_error"] < 0.5 and data["rmse"] ** 2 == pytest.approx(
        data["mse"]
    )
    assert data["cluster"]["cloud_size"] == 3
    assert "Confusion matrix" in printed
    assert (out / "job.log").read_text().count("ModelMetricsMultinomial") >= 1


def _check_spark_kmeans(cluster, out: Path, printed: str) -> None:
    data = json.loads((out / "result.json").read_text())
    assert data["rows"] == 150
    assert sorted(data["silhouette"], key=int) == [str(k) for k in range(2, 10)]
    assert all(-1 < value < 1 for value in data["silhouette"].values())
    assert data["k"] == 3 and sum(data["cluster_counts"].values()) == 150
    assert data["master"].startswith("spark://")
    for plot in ("silhouette.png", "clusters.png"):
        content = (out / plot).read_bytes()
        assert content.startswith(PNG_MAGIC) and len(content) > 10_000
    # An application of the cluster's master (whose history a later restart may clear).
    assert data["app_id"].startswith("app-") and data["master"] == _status_spark(cluster)
    assert "Silhouette by k" in printed


CUSTOM_JOB = """
import json, os, socket
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("custom-lambdas").getOrCreate()
numbers = spark.sparkContext.parallelize(range(1000), 8)
hosts = numbers.map(lambda _: socket.gethostname()).distinct().collect()
total = numbers.map(lambda x: x * x).filter(lambda x: x % 2 == 0).sum()
with open(os.path.join(os.environ["DMLCTL_RUN_DIR"], "result.json"), "w") as handle:
    json.dump({"hosts": sorted(hosts), "total": total}, handle)
spark.stop()
"""


def test_custom_job_runs_python_lambdas_on_the_executors(cluster, tmp_path):
    script = tmp_path / "squares.py"
    script.write_text(CUSTOM_JOB)
    out, _ = _submit(cluster, tmp_path, str(script))
    data = json.loads((out / "result.json").read_text())
    assert data["total"] == sum(x * x for x in range(1000) if x * x % 2 == 0)
    assert set(data["hosts"]) <= {"node2", "node3"} and data["hosts"]


def test_stopped_engine_refuses_submit_with_exit_1(cluster, tmp_path):
    stopped = cluster.dmlctl("stop", "h2o", "-i", str(cluster.inventory))
    assert stopped.returncode == 0, stopped.stderr[-2000:]
    try:
        refused = cluster.dmlctl(
            "submit", "h2o-rf", "-i", str(cluster.inventory), "--out", str(tmp_path / "x")
        )
    finally:  # the other tests share this cluster
        started = cluster.dmlctl("start", "h2o", "-i", str(cluster.inventory))
    assert refused.returncode == 1
    assert "h2o cluster is not healthy" in refused.stderr
    assert not (tmp_path / "x").exists()
    assert started.returncode == 0, started.stderr[-2000:]
