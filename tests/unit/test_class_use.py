"""Sharing one cluster: application list, cloud age, the launcher's guard, `dmlctl env`."""

import subprocess
import sys
import time

from dmlctl.cluster import h2o_health, status


def test_spark_apps_show_owner_cores_and_state_oldest_first():
    master = {
        "activeapps": [
            {"id": "app-2", "name": "b", "user": "bob", "cores": 0, "state": "WAITING",
             "starttime": 1_700_000_100_000, "duration": 5_000},
            {"id": "app-1", "name": "a", "user": "ann", "cores": 2, "state": "RUNNING",
             "starttime": 1_700_000_000_000, "duration": 105_000},
        ]
    }  # fmt: skip
    apps = status.spark_apps(master)
    assert [a["id"] for a in apps] == ["app-1", "app-2"]
    assert apps[0] == {
        "id": "app-1", "name": "a", "user": "ann", "state": "RUNNING", "cores": 2,
        "started": "2023-11-14T22:13:20+00:00", "seconds": 105,
    }  # fmt: skip


def test_the_cloud_formed_when_its_youngest_node_started():
    now = time.time()
    formed, seconds = h2o_health.cloud_formed(
        [{"cloud_uptime_millis": 90_000}, {"cloud_uptime_millis": 30_000}], now=now
    )
    assert seconds == 30
    assert formed is not None and formed.endswith("+00:00")
    assert h2o_health.cloud_formed([{}]) == (None, None)


PRIVATE_H2O = """
import h2o
try:
    h2o.init(url="http://127.0.0.1:9")
except Exception as error:
    print(type(error).__name__, error)
"""


def test_a_cluster_h2o_program_fails_instead_of_starting_a_private_h2o(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(PRIVATE_H2O)
    env = {"DMLCTL_MODE": "cluster", "DMLCTL_ENGINE": "h2o", "DMLCTL_H2O_URL": "http://x:1"}
    ran = subprocess.run(
        [sys.executable, "-m", "dmlctl.jobs.launch", str(script)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert "H2OConnectionError cannot reach the H2O cloud at http://x:1" in ran.stdout, ran
    assert "Starting server" not in ran.stdout + ran.stderr


def test_a_missing_file_in_the_log_names_data(tmp_path):
    from dmlctl.jobs import run as jobs

    log = tmp_path / "job.log"
    log.write_text(
        "pyspark.errors.exceptions.captured.AnalysisException: [PATH_NOT_FOUND] Path does not "
        "exist: file:/var/tmp/dmlctl/work/x/iris_dataset.csv.\n"
    )
    target = jobs.Target.local()
    assert "--data" in jobs.failure("j", 1, 3.0, log, target).hint
    log.write_text("all fine\n")
    assert jobs.failure("j", 1, 3.0, log, target).hint == f"full output: {log}"


def test_a_python_mismatch_on_the_executors_is_one_line_with_both_versions(tmp_path):
    from dmlctl.jobs import run as jobs

    log = tmp_path / "job.log"
    log.write_text(
        "pyspark.errors.exceptions.base.PySparkRuntimeError: [PYTHON_VERSION_MISMATCH] Python "
        "in worker has different version: 3.13 than that in driver: 3.11, PySpark cannot run "
        "with different minor versions.\n"
    )
    error = jobs.failure("udf-job", 1, 20.0, log, jobs.Target.local())
    assert error.message == (
        "udf-job failed: its Python code on the executors needs the driver's Python minor "
        "version (executors 3.13, driver 3.11)"
    )
    assert "Python 3.13 venv" in error.hint and "spark_python" in error.hint
    # Older PySpark wrote the versions as tuples.
    log.write_text("Python in worker has different version (3, 12) than that in driver 3.11, ")
    assert "(executors 3.12, driver 3.11)" in jobs.failure("j", 1, 1, log, None).message
