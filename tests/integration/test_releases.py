"""Labs of other Debian releases, as labs really run them: a Debian 13 lab (Python 3.13, OpenJDK
21 and 25 only) and a mixed Debian 12/13 lab (a lab mid-upgrade), each deployed once for all of
its tests, from this machine's Python, with inventories that set no Java and no Python."""

import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DMLCTL = str(Path(sys.executable).parent / "dmlctl")

# A job that runs Python on the executors (an RDD lambda): it needs their Python to match.
UDF_JOB = """\
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("udf-across-pythons").getOrCreate()
print(spark.sparkContext.parallelize(range(8), 2).map(lambda x: x * x).sum())
spark.stop()
"""


class ReleaseLab:
    def __init__(self, name: str, os_choice: str, state, workdir):
        self.name, self.os, self.state, self.workdir = name, os_choice, state, workdir
        self.inventory = state / "labs" / name / "inventory.ini"

    def dmlctl(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DMLCTL_STATE_DIR": str(self.state)}
        return subprocess.run(
            [DMLCTL, *args], capture_output=True, text=True, env=env, cwd=self.workdir,
            timeout=timeout, check=False,
        )  # fmt: skip


@pytest.fixture(scope="module", params=["trixie", "mixed"])
def release_lab(request, tmp_path_factory):
    prefix = os.environ.get("DMLCTL_TEST_LAB_PREFIX", "it")
    lab = ReleaseLab(
        f"{prefix}-{request.param}-{os.getpid()}",
        request.param,
        tmp_path_factory.mktemp(f"{request.param}-state"),
        tmp_path_factory.mktemp(f"{request.param}-work"),
    )
    try:
        if request.param == "trixie":
            _rebuild_image(lab)
        up = lab.dmlctl("lab", "up", "--nodes", "2", "--name", lab.name, "--os", request.param)
        assert up.returncode == 0, up.stderr[-3000:]
        lab.deploy = lab.dmlctl("deploy", "-i", str(lab.inventory))
        yield lab
    finally:
        lab.dmlctl("lab", "down", "--yes", "--name", lab.name, timeout=300)


def _rebuild_image(lab: ReleaseLab) -> None:
    """`lab image --rebuild` for real, on the image only these tests use: a fresh debootstrap."""
    started = time.time()
    rebuilt = lab.dmlctl("lab", "image", "--os", "trixie", "--rebuild", timeout=900)
    assert rebuilt.returncode == 0, _output(rebuilt)
    assert "debootstrap trixie" in rebuilt.stderr
    assert rebuilt.stderr.strip().endswith("localhost/dmlctl-base:trixie")
    from dmlctl.lab import podman

    created = podman.inspect("image", "localhost/dmlctl-base:trixie")["Created"]
    assert datetime.fromisoformat(created[:26].rstrip("Z") + "+00:00").timestamp() >= started - 1


def _output(result: subprocess.CompletedProcess) -> str:
    return (result.stdout[-3000:] + result.stderr[-3000:]).strip()


def test_the_inventory_sets_no_java_and_no_python(release_lab):
    text = release_lab.inventory.read_text()
    assert "java" not in text and "spark_python" not in text
    listed = json.loads(release_lab.dmlctl("lab", "ls", "--json").stdout)
    (lab,) = [lab for lab in listed if lab["name"] == release_lab.name]
    wanted = {"trixie": ["trixie", "trixie"], "mixed": ["bookworm", "trixie"]}[release_lab.os]
    assert [node["os"] for node in lab["nodes"]] == wanted


def test_deploy_and_doctor_pass_and_each_engine_gets_a_java_it_runs_on(release_lab):
    assert release_lab.deploy.returncode == 0, _output(release_lab.deploy)
    doctor = release_lab.dmlctl("doctor", "--json", "-i", str(release_lab.inventory), timeout=300)
    assert doctor.returncode == 0, _output(doctor)
    java = {
        c["host"]: c["detail"] for c in json.loads(doctor.stdout)["checks"] if c["check"] == "java"
    }
    # Debian 13 (node2 in both labs) has no Java 17: Spark runs on its OpenJDK 21, H2O on the
    # controller's JDK 17, both installed by the deploy and found again by doctor.
    assert "Spark: Java 21 (installed)" in java["node2"], java
    assert "H2O: Java 17 (JDK 17 in /opt/dmlctl-java/17)" in java["node2"], java
    if release_lab.os == "mixed":
        assert java["node1"] == "Spark: Java 17 (installed); H2O: Java 17 (installed)", java


def test_status_is_healthy_and_both_lecture_jobs_run(release_lab):
    inventory = str(release_lab.inventory)
    status = release_lab.dmlctl("status", "--json", "-i", inventory, timeout=120)
    assert status.returncode == 0, _output(status)
    model = json.loads(status.stdout)
    assert model["healthy"] and model["h2o"]["cloud_size"] == 2, model

    rf_out = release_lab.workdir / "rf"
    rf = release_lab.dmlctl("submit", "h2o-rf", "-i", inventory, "--out", str(rf_out))
    assert rf.returncode == 0, _output(rf)
    result = json.loads((rf_out / "result.json").read_text())
    assert result["confusion_matrix"]["labels"] == ["setosa", "versicolor", "virginica"]
    assert sum(map(sum, result["confusion_matrix"]["rows"])) == result["test_rows"]

    # The lecture's KMeans runs no Python on the executors: Python 3.13 there does not matter.
    km_out = release_lab.workdir / "km"
    km = release_lab.dmlctl("submit", "spark-kmeans", "-i", inventory, "--out", str(km_out))
    assert km.returncode == 0, _output(km)
    kmeans = json.loads((km_out / "result.json").read_text())
    assert kmeans["rows"] == 150 and kmeans["k"] == 3
    assert sys.version_info[:2] == (3, 11)  # the driver's Python, unlike Debian 13's


def test_a_second_deploy_changes_nothing(release_lab):
    again = release_lab.dmlctl("deploy", "--json", "-i", str(release_lab.inventory))
    assert again.returncode == 0, _output(again)
    recap = json.loads(again.stdout)["hosts"]
    assert {host: counts["changed"] for host, counts in recap.items()} == {
        "node1": 0,
        "node2": 0,
    }, recap
    # The node's inspection already showed every file, directory, account and link as wanted:
    # none of their tasks reached a node (a task whose skip condition disagrees with what it
    # writes would run on every re-deploy).
    assert _tasks_run(release_lab.state, {"template", "copy", "file", "user", "group"}) == set()


def _tasks_run(state: Path, actions: set[str]) -> set[tuple[str, str]]:
    """(task, host) of every task of those modules that ran in the newest deploy."""
    newest = max((state / "runner").glob("deploy-*"))
    ran = set()
    for path in newest.glob("artifacts/*/job_events/*.json"):
        event = json.loads(path.read_text())
        data = event.get("event_data", {})
        if event["event"] in ("runner_on_ok", "runner_item_on_ok") and (
            data.get("task_action", "").rpartition(".")[2] in actions
        ):
            ran.add((data["task"], data["host"]))
    return ran


def test_python_on_executors_of_another_version_fails_fast_naming_both(release_lab):
    program = release_lab.workdir / "udf_job.py"
    program.write_text(UDF_JOB)
    started = time.monotonic()
    run = release_lab.dmlctl(
        "submit", str(program), "--engine", "spark", "-i", str(release_lab.inventory), timeout=300
    )
    seconds = time.monotonic() - started
    assert run.returncode != 0, _output(run)
    assert seconds < 60, f"took {seconds:.0f} s: {_output(run)}"
    driver = "{}.{}".format(*sys.version_info[:2])
    named = re.search(r"3\.13", run.stderr) and driver in run.stderr
    assert named and "Traceback" not in run.stderr, run.stderr[-3000:]
