"""A class on one real 3-node lab: its own data on every node, H2O jobs side by side, a shared
H2O cloud that survives a student's `h2o.cluster().shutdown()`."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DMLCTL = str(Path(sys.executable).parent / "dmlctl")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LECTURE_LABELS = ["setosa", "versicolor", "virginica"]

# The lecture's program as a student writes it: relative paths, a plot in the current directory.
READS_RELATIVE_PATHS = """
import json, os, socket
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("relative-paths").getOrCreate()
df = spark.read.csv("iris_dataset.csv", header=True, inferSchema=True)
parts = spark.read.text("extra/")
hosts = df.rdd.map(lambda _: socket.gethostname()).distinct().collect()
fig, ax = plt.subplots()
ax.scatter([r.petal_length for r in df.collect()], [r.petal_width for r in df.collect()])
fig.savefig("scatter.png")
with open("counts.json", "w") as out:
    json.dump({"rows": df.count(), "lines": parts.count(), "hosts": sorted(hosts)}, out)
spark.stop()
"""


def _env(cluster) -> dict[str, str]:
    return {**os.environ, "DMLCTL_STATE_DIR": str(cluster.state_dir)}


def _cloud(cluster, url: str) -> dict | None:
    try:
        return cluster.h2o_json(url + "/3/Cloud", timeout=3)
    except (OSError, ValueError):
        return None


def _status(cluster) -> dict:
    return json.loads(cluster.dmlctl("status", "--json", "-i", str(cluster.inventory)).stdout)


def _submit_async(cluster, out: Path, job: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [DMLCTL, "submit", job, "-i", str(cluster.inventory), "--out", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(cluster),
    )  # fmt: skip


def test_user_program_reads_its_data_by_relative_paths_on_the_workers(cluster, tmp_path):
    project = tmp_path / "project"
    (project / "extra").mkdir(parents=True)
    (project / "iris_dataset.csv").write_text(
        (Path(__file__).parents[2] / "jobs" / "data" / "iris.csv").read_text()
    )
    for n in range(3):
        (project / "extra" / f"part{n}.txt").write_text("one\ntwo\n")
    (project / "kmeans.py").write_text(READS_RELATIVE_PATHS)
    out = tmp_path / "run"
    result = subprocess.run(
        [DMLCTL, "submit", "kmeans.py", "-i", str(cluster.inventory), "--out", str(out),
         "--data", "iris_dataset.csv", "--data", "extra"],
        capture_output=True, text=True, env=_env(cluster), cwd=project, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    counts = json.loads((out / "counts.json").read_text())
    assert counts["rows"] == 150 and counts["lines"] == 6
    assert set(counts["hosts"]) <= {"node2", "node3"} and counts["hosts"]
    plot = (out / "scatter.png").read_bytes()
    assert plot.startswith(PNG_MAGIC) and len(plot) > 5_000
    assert not (out / "iris_dataset.csv").exists()  # input stays out of the run directory


def test_three_h2o_rf_at_once_all_get_the_lecture_result(cluster, tmp_path):
    runs = [_submit_async(cluster, tmp_path / f"rf{n}", "h2o-rf") for n in range(3)]
    outputs = [run.communicate(timeout=900)[0] for run in runs]
    for n, (run, output) in enumerate(zip(runs, outputs, strict=True)):
        assert run.returncode == 0, output[-3000:]
        result = json.loads((tmp_path / f"rf{n}" / "result.json").read_text())
        assert result["confusion_matrix"]["labels"] == LECTURE_LABELS
        assert sum(map(sum, result["confusion_matrix"]["rows"])) == result["test_rows"]
        assert result["train_rows"] + result["test_rows"] == 150
    # Each run removed what it made: no frame of a sample run is left on the cloud.
    url = _status(cluster)["h2o"]["url"]
    frames = [f["frame_id"]["name"] for f in cluster.h2o_json(url + "/3/Frames")["frames"]]
    assert not [name for name in frames if name.startswith("h2o_rf_")], frames


SHUTS_THE_CLOUD_DOWN = """
import os
import h2o

h2o.connect(
    url=os.environ["DMLCTL_H2O_URL"],
    auth=(os.environ["DMLCTL_H2O_USER"], os.environ["DMLCTL_H2O_PASSWORD"]),
    cacert=os.environ["DMLCTL_H2O_CACERT"],
)
h2o.cluster().shutdown()
print("shut the cloud down")
"""


def _pids(cluster, url: str) -> dict[str, int] | None:
    """Each member's H2O process id, as a node reports its cloud; None while it cannot."""
    cloud = _cloud(cluster, url)
    if cloud is None:
        return None
    return {node["ip_port"]: node.get("pid") for node in cloud.get("nodes", [])}


def test_the_cloud_heals_itself_after_a_students_shutdown(cluster, tmp_path):
    before = _status(cluster)["h2o"]
    assert before["healthy"]
    old_pids = _pids(cluster, before["url"])
    assert old_pids and len(old_pids) == 3 and all(old_pids.values()), old_pids
    script = tmp_path / "goodbye.py"
    script.write_text(SHUTS_THE_CLOUD_DOWN)
    shut = cluster.dmlctl("submit", str(script), "-i", str(cluster.inventory))
    assert "shut the cloud down" in shut.stdout, shut.stdout[-2000:] + shut.stderr[-2000:]
    # Back whole with nothing but read-only calls: every member is a new process (the cloud
    # did go down), and status says so.
    deadline, after = time.monotonic() + 240, None
    while time.monotonic() < deadline:
        pids = _pids(cluster, before["url"])
        if pids and len(pids) == 3 and not set(pids.values()) & set(old_pids.values()):
            after = _status(cluster)["h2o"]
            if after["healthy"] and after["cloud_size"] == 3:
                break
        time.sleep(1)
    assert after is not None and after["healthy"] and after["cloud_size"] == 3, after
    assert after["uptime_s"] < before["uptime_s"]
    human = cluster.dmlctl("status", "-i", str(cluster.inventory))
    assert "re-formed" in human.stdout


READS_PUBLISHED = """
import json, sys
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("published").getOrCreate()
rows = spark.read.csv(sys.argv[1], header=True).count()
print(json.dumps({"rows": rows, "master": spark.sparkContext.master}))
spark.stop()
"""


def test_a_published_dataset_serves_a_job_started_by_hand(cluster, tmp_path):
    source = tmp_path / "class-iris.csv"
    source.write_text((Path(__file__).parents[2] / "jobs" / "data" / "iris.csv").read_text())
    pushed = cluster.dmlctl("data", "push", str(source), "-i", str(cluster.inventory))
    assert pushed.returncode == 0, pushed.stderr[-2000:]
    listed = json.loads(cluster.dmlctl("data", "ls", "--json", "-i", str(cluster.inventory)).stdout)
    entry = next(row for row in listed if row["name"] == "class-iris.csv")
    assert entry["nodes"] == ["node1", "node2", "node3"]
    # `dmlctl env`, then spark-submit by hand, in a shell with no activated venv.
    script = tmp_path / "count.py"
    script.write_text(READS_PUBLISHED)
    venv_bin = Path(DMLCTL).parent
    shell = (
        f'eval "$({DMLCTL} env -i {cluster.inventory})" && '
        f"{venv_bin}/spark-submit {script} {entry['path']}"
    )
    env = {k: v for k, v in _env(cluster).items() if k not in ("VIRTUAL_ENV", "SPARK_HOME")}
    env["PATH"] = "/usr/bin:/bin"
    ran = subprocess.run(
        ["bash", "-c", shell], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-3000:]
    printed = json.loads(ran.stdout.strip().splitlines()[-1])
    assert printed["rows"] == 150 and printed["master"].startswith("spark://")
    removed = cluster.dmlctl("data", "rm", "class-iris.csv", "-i", str(cluster.inventory))
    assert removed.returncode == 0, removed.stderr[-2000:]
