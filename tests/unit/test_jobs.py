"""The job catalogue, resolving JOB, engine detection, run directories, running and results."""

import csv
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dmlctl import jobs as joblib
from dmlctl.errors import OperationError, UsageError

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


# --- catalogue ---------------------------------------------------------------------------------


def test_catalogue_names_engines_and_scripts():
    assert set(joblib.SAMPLE_JOBS) == {"h2o-rf", "spark-kmeans"}
    assert joblib.SAMPLE_JOBS["h2o-rf"].engine == "h2o"
    assert joblib.SAMPLE_JOBS["spark-kmeans"].engine == "spark"
    for job in joblib.sample_jobs():
        assert job.script.is_file(), job.script
        assert job.description and "\n" not in job.description
        # Each sample program imports the engine the catalogue says it uses.
        assert joblib.detect_engine(job.script) == job.engine


def test_iris_csv_is_fishers_iris():
    with joblib.IRIS_CSV.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "sepal_length", "sepal_width", "petal_length", "petal_width", "species",
    ]  # fmt: skip
    assert len(rows) == 150
    species = {}
    for row in rows:
        species[row["species"]] = species.get(row["species"], 0) + 1
        for key in ("sepal_length", "sepal_width", "petal_length", "petal_width"):
            assert 0 < float(row[key]) < 10
    assert species == {"setosa": 50, "versicolor": 50, "virginica": 50}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("h2o-fr", "h2o-rf"),
        ("h2o_rf", "h2o-rf"),
        ("H2O-RF", "h2o-rf"),
        ("spark-kmean", "spark-kmeans"),
        ("sparkkmeans", "spark-kmeans"),
        ("kmeans", "spark-kmeans"),
        ("xyz", None),
        ("", None),
    ],
)
def test_nearest_name(typed, expected):
    assert joblib.nearest_name(typed) == expected


# --- engine detection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "engines"),
    [
        ("import pyspark\n", {"spark"}),
        ("from pyspark.sql import SparkSession\n", {"spark"}),
        ("import pyspark.ml.clustering as c\n", {"spark"}),
        ("import h2o\n", {"h2o"}),
        ("from h2o.estimators import H2ORandomForestEstimator\n", {"h2o"}),
        ("def f():\n    import h2o\n", {"h2o"}),
        ("import h2o\nfrom pyspark.sql import SparkSession\n", {"spark", "h2o"}),
        ("import numpy\nimport h2o_helpers\nfrom .h2o import x\n", set()),
        ("# import h2o\ntext = 'import pyspark'\n", set()),
        # Not valid Python (yet): the import lines still tell.
        ("from pyspark.sql import SparkSession\nthis is not python(\n", {"spark"}),
    ],
)
def test_imported_engines(source, engines):
    assert joblib.imported_engines(source) == engines


def test_detect_engine_of_a_file(tmp_path):
    job = tmp_path / "mine.py"
    job.write_text("from pyspark.sql import SparkSession\n")
    assert joblib.detect_engine(job) == "spark"


@pytest.mark.parametrize("source", ["import os\n", "import h2o\nimport pyspark\n"])
def test_detect_engine_unclear_is_a_usage_error(tmp_path, source):
    job = tmp_path / "mine.py"
    job.write_text(source)
    with pytest.raises(UsageError) as caught:
        joblib.detect_engine(job)
    assert caught.value.exit_code == 2
    assert "--engine" in caught.value.hint


# --- resolving JOB -----------------------------------------------------------------------------


def test_resolve_sample_job():
    job = joblib.resolve_job("spark-kmeans")
    assert (job.name, job.engine, job.sample) == (
        "spark-kmeans", "spark", joblib.SAMPLE_JOBS["spark-kmeans"],
    )  # fmt: skip
    assert joblib.resolve_job("h2o-rf", "h2o").engine == "h2o"


def test_unknown_job_suggests_the_nearest_name():
    with pytest.raises(UsageError) as caught:
        joblib.resolve_job("h2o-fr")
    assert "unknown job 'h2o-fr'" in caught.value.message
    assert "dmlctl submit h2o-rf" in caught.value.hint


def test_unknown_job_without_a_near_name_points_at_the_list():
    with pytest.raises(UsageError) as caught:
        joblib.resolve_job("quux")
    assert "dmlctl jobs" in caught.value.hint


def test_engine_override_cannot_contradict_a_sample_job():
    with pytest.raises(UsageError, match="--engine spark does not apply"):
        joblib.resolve_job("h2o-rf", "spark")


def test_unknown_engine():
    with pytest.raises(UsageError, match="unknown engine"):
        joblib.resolve_job("h2o-rf", "tensorflow")


def test_user_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my job.py").write_text("import h2o\n")
    job = joblib.resolve_job("my job.py")
    assert job.engine == "h2o"
    assert job.sample is None
    assert job.script == tmp_path / "my job.py"
    assert job.name == "my-job"
    # --engine wins over the imports.
    assert joblib.resolve_job("./my job.py", "SPARK").engine == "spark"


@pytest.mark.parametrize(
    ("setup", "typed", "message"),
    [
        (None, "missing.py", "no such file"),
        ("dir", "adir.py", "is not a file"),
        ("txt", "notes.txt", "is neither a Python file"),
        (None, "sub/missing.py", "no such file"),
    ],
)
def test_bad_user_files(tmp_path, monkeypatch, setup, typed, message):
    monkeypatch.chdir(tmp_path)
    if setup == "dir":
        (tmp_path / typed).mkdir()
    elif setup == "txt":
        (tmp_path / typed).write_text("import h2o\n")
    with pytest.raises(UsageError, match=message):
        joblib.resolve_job(typed)


# --- run directories ---------------------------------------------------------------------------


def test_default_run_dir_is_named_after_job_and_utc_time(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_dir = joblib.make_run_dir("h2o-rf", now=NOW)
    assert run_dir == tmp_path / "runs" / "h2o-rf-20260102T030405Z"
    assert run_dir.is_dir()


def test_runs_of_the_same_second_get_different_dirs(tmp_path):
    dirs = [joblib.make_run_dir("spark-kmeans", base=tmp_path, now=NOW) for _ in range(3)]
    assert [d.name for d in dirs] == [
        "spark-kmeans-20260102T030405Z",
        "spark-kmeans-20260102T030405Z-2",
        "spark-kmeans-20260102T030405Z-3",
    ]


def test_earlier_run_is_never_reused(tmp_path):
    first = joblib.make_run_dir("h2o-rf", base=tmp_path, now=NOW)
    (first / "result.json").write_text("{}")
    second = joblib.make_run_dir("h2o-rf", base=tmp_path, now=NOW)
    assert second != first
    assert (first / "result.json").read_text() == "{}"


def test_out_dir_new_or_empty(tmp_path):
    new = joblib.make_run_dir("h2o-rf", out=tmp_path / "a" / "b")
    assert new == tmp_path / "a" / "b" and new.is_dir()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert joblib.make_run_dir("h2o-rf", out=empty) == empty


def test_non_empty_out_dir_is_refused(tmp_path):
    (tmp_path / "result.json").write_text("{}")
    with pytest.raises(UsageError, match="not empty") as caught:
        joblib.make_run_dir("h2o-rf", out=tmp_path)
    assert caught.value.exit_code == 2
    assert (tmp_path / "result.json").read_text() == "{}"


def test_out_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(UsageError, match="not a directory"):
        joblib.make_run_dir("h2o-rf", out=target)


# --- where a job runs --------------------------------------------------------------------------


# The Spark engine's job settings, first on every job's spark-submit line.
C1_ONLY = (
    "--conf spark.driver.defaultJavaOptions=-XX:TieredStopAtLevel=1 "
    "--conf spark.executor.defaultJavaOptions=-XX:TieredStopAtLevel=1"
)


def test_local_spark_command(tmp_path):
    job = joblib.resolve_job("spark-kmeans")
    base = {"PATH": "/usr/bin", "PYSPARK_DRIVER_PYTHON": "ipython", "SPARK_HOME": "/opt/other"}
    argv, env = joblib.job_command(
        job, tmp_path, joblib.Target.local(), ["--k", "4"], base_env=base
    )
    assert argv == [sys.executable, "-u", "-m", "dmlctl.jobs.launch", str(job.script), "--k", "4"]
    assert env["PYSPARK_SUBMIT_ARGS"] == f"--master 'local[*]' {C1_ONLY} pyspark-shell"
    assert env["PYSPARK_PYTHON"] == sys.executable
    assert "PYSPARK_DRIVER_PYTHON" not in env
    assert Path(env["SPARK_HOME"], "bin", "spark-submit").is_file()
    assert env["SPARK_LOCAL_IP"] == "127.0.0.1"
    assert env["DMLCTL_RUN_DIR"] == str(tmp_path)
    assert env["PATH"] == "/usr/bin"


def test_local_h2o_command_starts_its_own_h2o(tmp_path):
    job = joblib.resolve_job("h2o-rf")
    base = {"DMLCTL_H2O_URL": "http://10.0.0.1:54321"}
    argv, env = joblib.job_command(job, tmp_path, joblib.Target.local(), base_env=base)
    assert argv == [sys.executable, "-u", "-m", "dmlctl.jobs.launch", str(job.script)]
    assert "DMLCTL_H2O_URL" not in env
    assert "PYSPARK_SUBMIT_ARGS" not in env


def test_cluster_target_adds_only_urls_driver_host_and_node_data(tmp_path):
    target = joblib.Target.cluster(
        "spark://10.89.0.2:7077",
        "10.89.0.1",
        "http://10.89.0.2:54321",
        node_data="/opt/dmlctl/data/iris.csv",
    )
    spark = joblib.resolve_job("spark-kmeans")
    argv, env = joblib.job_command(spark, tmp_path, target, base_env={})
    assert env["PYSPARK_SUBMIT_ARGS"] == (
        f"--master spark://10.89.0.2:7077 {C1_ONLY} --conf spark.driver.host=10.89.0.1 "
        "pyspark-shell"
    )
    assert env["PYSPARK_PYTHON"] == "python3"
    assert "SPARK_LOCAL_IP" not in env
    assert argv[5:] == ["--data", "/opt/dmlctl/data/iris.csv"]
    h2o = joblib.resolve_job("h2o-rf")
    argv, env = joblib.job_command(h2o, tmp_path, target, base_env={})
    assert env["DMLCTL_H2O_URL"] == "http://10.89.0.2:54321"
    assert argv[5:] == ["--node-path", "/opt/dmlctl/data/iris.csv"]
    assert "spark://" in target.describe("spark") and "54321" in target.describe("h2o")


def test_programs_run_by_hand_get_the_same_spark_submit_line(tmp_path, monkeypatch):
    """`dmlctl env` and `dmlctl notebook`'s kernels: master, the job settings, driver host."""
    from dmlctl.cluster.connection import connect
    from dmlctl.jobs.environment import cluster_environment

    monkeypatch.setenv("DMLCTL_STATE_DIR", str(tmp_path))
    inventory = Path(__file__).parent / "payloads" / "two_nodes.ini"
    env = cluster_environment(connect(inventory))
    assert env["PYSPARK_SUBMIT_ARGS"] == (
        f"--master spark://127.0.0.1:7077 {C1_ONLY} --conf spark.driver.host=127.0.0.1 "
        "pyspark-shell"
    )


def test_cluster_target_without_the_engine(tmp_path):
    target = joblib.Target.cluster("spark://10.89.0.2:7077", "10.89.0.1", None)
    with pytest.raises(UsageError, match="no H2O"):
        joblib.job_command(joblib.resolve_job("h2o-rf"), tmp_path, target, base_env={})
    target = joblib.Target.cluster(None, None, "http://10.89.0.2:54321")
    with pytest.raises(UsageError, match="no Spark"):
        joblib.job_command(joblib.resolve_job("spark-kmeans"), tmp_path, target, base_env={})


# --- running and results -----------------------------------------------------------------------


def _script(tmp_path: Path, body: str, name: str = "job.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def test_run_job_streams_and_logs_everything(tmp_path):
    script = _script(
        tmp_path,
        """
        import sys
        print("to stdout")
        print("to stderr", file=sys.stderr)
        sys.stdout.write("no newline")
        sys.exit(3)
        """,
    )
    seen = []
    log = tmp_path / "job.log"
    code = joblib.run_job([sys.executable, "-u", str(script)], {}, log, sink=seen.append)
    assert code == 3
    streamed = b"".join(seen)
    assert streamed == log.read_bytes()
    for text in (b"to stdout", b"to stderr", b"no newline"):
        assert text in streamed
    with pytest.raises(UsageError, match="used before"):
        joblib.run_job([sys.executable, "-c", "pass"], {}, log, sink=seen.append)


def test_read_result(tmp_path):
    assert joblib.read_result(tmp_path) is None
    (tmp_path / "result.json").write_text('{"rows": 150}')
    assert joblib.read_result(tmp_path) == {"rows": 150}
    (tmp_path / "result.json").write_text('{"rows": ')
    with pytest.raises(OperationError, match="not valid JSON"):
        joblib.read_result(tmp_path)
    (tmp_path / "result.json").write_text("[1, 2]")
    with pytest.raises(OperationError, match="no JSON object"):
        joblib.read_result(tmp_path)


def test_check_result_against_the_contract(tmp_path):
    kmeans = joblib.resolve_job("spark-kmeans")
    assert joblib.check_result(kmeans, None, tmp_path) == ["no result.json"]
    complete = {"rows": 150, "silhouette": {}, "k": 3, "cluster_counts": {}, "master": "x"}
    problems = joblib.check_result(kmeans, {"rows": 150}, tmp_path)
    assert "result.json has no 'silhouette'" in problems
    assert "no clusters.png" in problems
    for plot in ("silhouette.png", "clusters.png"):
        (tmp_path / plot).write_bytes(b"\x89PNG")
    assert joblib.check_result(kmeans, complete, tmp_path) == []
    user = joblib.Job("mine", tmp_path / "mine.py", "h2o")
    assert joblib.check_result(user, None, tmp_path) == []


WRITES_RESULT = """
import json, os, pathlib, sys
run_dir = pathlib.Path(os.environ["DMLCTL_RUN_DIR"])
print("engine", os.environ["DMLCTL_ENGINE"], "url", os.environ.get("DMLCTL_H2O_URL"), sys.argv[1:])
(run_dir / "result.json").write_text(json.dumps({"answer": 42, "args": sys.argv[1:]}))
"""


def test_submit_keeps_log_result_and_run_record(tmp_path):
    script = _script(tmp_path, WRITES_RESULT)
    job = joblib.Job("mine", script, "h2o")
    run_dir = joblib.make_run_dir(job.name, base=tmp_path / "runs")
    seen = []
    run = joblib.submit(job, joblib.Target.local(), run_dir, ["--x", "1"], sink=seen.append)
    assert run.returncode == 0
    assert run.result == {"answer": 42, "args": ["--x", "1"]}
    assert b"engine h2o url None ['--x', '1']" in run.log.read_bytes()
    record = json.loads((run_dir / "run.json").read_text())
    assert record["returncode"] == 0
    assert record["mode"] == "local"
    assert record["command"][-2:] == ["--x", "1"]


def test_submit_of_a_failing_job_says_where_the_log_is(tmp_path):
    script = _script(tmp_path, "import sys\nprint('boom')\nsys.exit(5)\n")
    job = joblib.Job("bad", script, "spark")
    run_dir = joblib.make_run_dir(job.name, base=tmp_path)
    with pytest.raises(OperationError, match=r"bad failed \(exit 5\)") as caught:
        joblib.submit(job, joblib.Target.local(), run_dir, sink=lambda chunk: None)
    assert caught.value.exit_code == 1
    assert str(run_dir / "job.log") in caught.value.hint
    assert b"boom" in (run_dir / "job.log").read_bytes()
    assert json.loads((run_dir / "run.json").read_text())["returncode"] == 5


def test_submit_of_a_sample_job_with_a_short_result_fails(tmp_path):
    script = _script(tmp_path, WRITES_RESULT)
    job = joblib.Job("h2o-rf", script, "h2o", joblib.SAMPLE_JOBS["h2o-rf"])
    run_dir = joblib.make_run_dir(job.name, base=tmp_path)
    with pytest.raises(OperationError, match=r"incomplete.*'train_rows'"):
        joblib.submit(job, joblib.Target.local(), run_dir, sink=lambda chunk: None)


# --- the commands ------------------------------------------------------------------------------


def test_command_modules_import_no_engine_libraries():
    code = (
        "import sys\n"
        "import dmlctl.jobs, dmlctl.commands.submit, dmlctl.commands.jobs\n"
        "heavy = [m for m in ('pyspark', 'h2o', 'pandas', 'matplotlib') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert output.returncode == 0, output.stderr
    assert output.stdout.strip() == "[]"


def test_jobs_command_lists_a_line_each(capsys):
    from dmlctl.commands.jobs import jobs

    jobs()
    lines = capsys.readouterr().out.splitlines()
    # The lecture's two programs, each a script that exists, named as `submit` takes them.
    assert [line.split()[0] for line in lines] == ["h2o-rf", "spark-kmeans"]
    for name in ("h2o-rf", "spark-kmeans"):
        assert joblib.resolve_job(name).script.is_file()


def test_submit_to_a_cluster_without_an_inventory_says_how_to_get_one(tmp_path):
    from dmlctl.commands.submit import submit

    with pytest.raises(UsageError, match="does not exist") as caught:
        submit("h2o-rf", None, local=False, out_dir=tmp_path / "run", engine=None, inventory=None)
    assert "dmlctl lab up" in caught.value.hint
    assert not (tmp_path / "run").exists()


def test_summaries_render(tmp_path, capsys):
    from dmlctl.ui.console import out
    from dmlctl.ui.summaries import show_run

    def show_summary(run):
        show_run(run, out, str(run.run_dir))

    rf = {
        "train_rows": 123,
        "test_rows": 27,
        "mse": 0.036,
        "rmse": 0.19,
        "logloss": 0.10,
        "mean_per_class_error": 0.144,
        "confusion_matrix": {
            "labels": ["setosa", "versicolor", "virginica"],
            "rows": [[14, 0, 0], [0, 9, 1], [0, 1, 2]],
        },
        "cluster": {"cloud_size": 3, "version": "3.46.0.12"},
    }
    run = joblib.Run(joblib.resolve_job("h2o-rf"), joblib.Target.local(), tmp_path, 0, 12.0, rf)
    show_summary(run)
    text = capsys.readouterr().out
    for expected in ("Confusion matrix", "1 / 10", "2 / 27", "3 node(s)", "0.0741"):
        assert expected in text
    kmeans = {
        "rows": 150,
        "silhouette": {str(k): 0.5 + k / 100 for k in range(2, 10)},
        "k": 3,
        "cluster_counts": {"0": 50, "1": 53, "2": 47},
        "master": "local[*]",
    }
    run = joblib.Run(
        joblib.resolve_job("spark-kmeans"), joblib.Target.local(), tmp_path, 0, 30.0, kmeans
    )
    show_summary(run)
    text = capsys.readouterr().out
    for expected in ("Silhouette", "0.5300", "← model", "150", "local[*]"):
        assert expected in text
