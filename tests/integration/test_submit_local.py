"""`dmlctl submit --local`: both sample jobs and a user's own Spark job, end to end.

Each runs the real engine on this machine (Spark local[*], an embedded H2O) through the CLI in
a subprocess, from a scratch working directory, and checks the run directory against the run
contract: the result.json keys and plots each sample job promises (dmlctl/jobs/catalogue.py).
They need Java and the engines' client packages, no lab.
"""

import json
import os
import socket
import struct
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.local_engines]

DMLCTL = str(Path(sys.executable).parent / "dmlctl")


def dmlctl(cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """The installed `dmlctl` console script, as a user runs it."""
    return subprocess.run(
        [DMLCTL, *args],
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


# --- the cluster side of the runner, against real engines on loopback --------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, ready, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                last = json.load(response)
            if ready(last):
                return last
        except (OSError, ValueError) as error:
            last = error
        time.sleep(1)
    raise AssertionError(f"{url} not ready after {timeout:.0f} s: {last}")


@pytest.fixture
def loopback_engines(tmp_path):
    """A standalone Spark master + worker and a 2-node H2O cloud, all on 127.0.0.1."""
    import h2o
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    h2o_jar = Path(h2o.__file__).parent / "backend" / "bin" / "h2o.jar"
    env = {**os.environ, "SPARK_HOME": str(spark_home), "SPARK_LOCAL_IP": "127.0.0.1"}
    spark_class = str(spark_home / "bin" / "spark-class")
    master_port, master_ui, worker_ui = free_port(), free_port(), free_port()
    h2o_ports = [free_port(), free_port()]
    flatfile = tmp_path / "flatfile"
    flatfile.write_text("".join(f"127.0.0.1:{port}\n" for port in h2o_ports))
    commands = [
        [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
         "--port", str(master_port), "--webui-port", str(master_ui)],
        [spark_class, "org.apache.spark.deploy.worker.Worker",
         f"spark://127.0.0.1:{master_port}", "--host", "127.0.0.1", "--cores", "2",
         "--memory", "1g", "--webui-port", str(worker_ui), "--work-dir", str(tmp_path / "work")],
        *[["java", "-Xmx512m", "-jar", str(h2o_jar), "-name", f"it-{os.getpid()}",
           "-ip", "127.0.0.1", "-port", str(port), "-flatfile", str(flatfile),
           "-ice_root", str(tmp_path / f"ice{port}")] for port in h2o_ports],
    ]  # fmt: skip
    processes = []
    try:
        for i, command in enumerate(commands):
            log = (tmp_path / f"engine{i}.log").open("wb")
            processes.append(
                subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
        master_json = f"http://127.0.0.1:{master_ui}/json/"
        wait_for(master_json, lambda d: d.get("aliveworkers", 0) >= 1)
        h2o_url = f"http://127.0.0.1:{h2o_ports[0]}"
        wait_for(f"{h2o_url}/3/Cloud", lambda d: d["cloud_size"] == 2 and d["consensus"])
        yield {
            "master": f"spark://127.0.0.1:{master_port}",
            "master_json": master_json,
            "h2o_url": h2o_url,
        }
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_cluster_target_runs_both_jobs_on_real_engines(tmp_path, loopback_engines):
    """What cluster mode adds to a local run: the master URL, driver host, H2O URL, and the
    data at a path every node can read."""
    from dmlctl import jobs as joblib

    target = joblib.Target.cluster(
        loopback_engines["master"],
        "127.0.0.1",
        loopback_engines["h2o_url"],
        executor_python=sys.executable,  # the nodes' python; here the same machine
        node_data=str(joblib.IRIS_CSV),
    )
    runs = {}
    for name in ("spark-kmeans", "h2o-rf"):
        job = joblib.resolve_job(name)
        run_dir = joblib.make_run_dir(name, base=tmp_path / "runs")
        runs[name] = joblib.submit(job, target, run_dir, sink=lambda chunk: None)

    kmeans = runs["spark-kmeans"].result
    assert kmeans["master"] == loopback_engines["master"]
    assert kmeans["rows"] == 150 and sum(kmeans["cluster_counts"].values()) == 150
    apps = wait_for(loopback_engines["master_json"], lambda d: d.get("completedapps"))
    assert [app["name"] for app in apps["completedapps"]] == ["KMeansClustering"]

    rf = runs["h2o-rf"].result
    assert rf["cluster"]["cloud_size"] == 2
    assert rf["cluster"]["local"] is False
    assert sum(map(sum, rf["confusion_matrix"]["rows"])) == rf["test_rows"]
    # The shared cloud is still up, and the job took its frames and models away again.
    h2o_url = loopback_engines["h2o_url"]
    assert wait_for(f"{h2o_url}/3/Cloud", lambda d: True)["cloud_size"] == 2
    assert wait_for(f"{h2o_url}/3/Frames", lambda d: True)["frames"] == []
    assert wait_for(f"{h2o_url}/3/Models", lambda d: True)["models"] == []
