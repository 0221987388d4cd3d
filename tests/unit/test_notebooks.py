"""Notebooks: as jobs (`dmlctl submit NOTEBOOK.ipynb`: engine, parameters, the failing cell,
figures) and served by `dmlctl notebook` (its options, environment and URL), no cluster needed."""

import base64
import http.server
import importlib.util
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dmlctl import jobs as joblib
from dmlctl.cli import main
from dmlctl.errors import OperationError, UsageError
from dmlctl.jobs import notebook, notebook_server, target
from dmlctl.paths import JOBS_DIR

PAYLOADS = Path(__file__).parent / "payloads"
DMLCTL = str(Path(sys.executable).parent / "dmlctl")
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 16


def _cell(source: str, kind: str = "code", tags=(), outputs=()) -> dict:
    cell = {"cell_type": kind, "id": f"c{len(source)}-{hash(source) & 0xFFFF:x}",
            "metadata": {"tags": list(tags)}, "source": source}  # fmt: skip
    if kind == "code":
        cell.update(execution_count=None, outputs=list(outputs))
    return cell


def _notebook(path: Path, *cells: dict) -> Path:
    nb = {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))
    return path


def test_shipped_notebooks_are_the_lectures_programs():
    h2o = notebook.code(JOBS_DIR / "lecture_h2o_rf.ipynb")
    assert "h2o.init()" in h2o and 'h2o.import_file("iris.csv")' in h2o
    assert "H2ORandomForestEstimator(ntrees=50, max_depth=10, nfolds=5)" in h2o
    assert "split_frame(ratios=[0.8], seed=1234)" in h2o and "confusion_matrix()" in h2o
    spark = notebook.code(JOBS_DIR / "lecture_spark_kmeans.ipynb")
    assert 'spark.read.csv("iris.csv"' in spark and "VectorAssembler(" in spark
    assert "range(2, 10)" in spark and "KMeans(k=3" in spark and spark.count("plt.show()") == 2
    assert joblib.resolve_job(str(JOBS_DIR / "lecture_h2o_rf.ipynb")).engine == "h2o"
    job = joblib.resolve_job(str(JOBS_DIR / "lecture_spark_kmeans.ipynb"))
    assert (job.engine, job.name, job.is_notebook) == ("spark", "lecture_spark_kmeans", True)


def test_a_notebooks_engine_comes_from_its_code_cells_not_its_text(tmp_path):
    path = _notebook(
        tmp_path / "n.ipynb",
        _cell("About h2o and pyspark", kind="markdown"),
        _cell("%matplotlib inline\n!pip list\nimport pyspark.sql"),
    )
    assert joblib.resolve_job(str(path)).engine == "spark"
    (tmp_path / "bad.ipynb").write_text("{not json")
    with pytest.raises(UsageError, match="not a notebook"):
        joblib.resolve_job(str(tmp_path / "bad.ipynb"))


def test_parameters_are_literals_or_text_and_go_after_the_tagged_cell():
    values = notebook.parameters(["ntrees=100", "title=first try", "ratios=[0.7, 0.3]"])
    assert values == {"ntrees": 100, "title": "first try", "ratios": [0.7, 0.3]}
    for bad in ("ntrees", "2x=1", "=3"):
        with pytest.raises(UsageError, match="NAME=VALUE"):
            notebook.parameters([bad])
    nb = {"cells": [_cell("import h2o"), _cell("ntrees = 50", tags=["parameters"]), _cell("x")]}
    notebook.inject(nb, {"ntrees": 100})
    assert nb["cells"][2]["source"] == "# Parameters\nntrees = 100\n"
    assert notebook.cell_number(nb, 3) == 3  # the injected cell is not counted
    untagged = {"cells": [_cell("a")]}
    notebook.inject(untagged, {"k": "v"})
    assert untagged["cells"][0]["metadata"]["tags"] == [notebook.INJECTED_TAG]


def test_the_failure_names_the_cell_its_first_line_and_error(tmp_path):
    error = {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero",
             "traceback": []}  # fmt: skip
    path = _notebook(
        tmp_path / "done.ipynb",
        _cell("# title", kind="markdown"),
        _cell("x = 1"),
        _cell("\ny = x / 0\nprint(y)", outputs=[error]),
    )
    assert notebook.failure(path) == "cell 3 (y = x / 0): ZeroDivisionError: division by zero"
    assert notebook.failure(tmp_path / "missing.ipynb") is None


def test_figures_in_the_outputs_are_saved_beside_the_notebook(tmp_path):
    image = {"output_type": "display_data", "data": {"image/png": base64.b64encode(PNG).decode()}}
    nb = {"cells": [_cell("a"), _cell("b", outputs=[image, image])]}
    assert notebook.save_figures(nb, tmp_path) == ["figure-cell2.png", "figure-cell2-2.png"]
    assert (tmp_path / "figure-cell2.png").read_bytes() == PNG


def test_a_notebook_job_runs_with_the_startup_hook_on_its_kernels_path(tmp_path):
    job = joblib.resolve_job(str(JOBS_DIR / "lecture_h2o_rf.ipynb"))
    cloud = joblib.Target.cluster(
        "spark://10.89.0.2:7077", "10.89.0.1", "https://10.89.0.2:54321",
        h2o_nodes=("10.89.0.2:54321", "10.89.0.3:54321"), h2o_env={"DMLCTL_H2O_USER": "a"},
    )  # fmt: skip
    argv, env = joblib.job_command(job, tmp_path, cloud, ["n=1"], base_env={"PYTHONPATH": "/x"})
    assert argv[-2:] == [str(job.script), "n=1"]
    assert env["PYTHONPATH"] == f"{target.STARTUP_DIR}:/x"
    assert env["DMLCTL_H2O_NODES"] == "10.89.0.2:54321,10.89.0.3:54321"
    assert env["DMLCTL_H2O_USER"] == "a"


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--", "ntrees"], "is not NAME=VALUE"), (["--engine", "dask"], "unknown engine")],
)
def test_bad_notebook_input_is_one_or_two_lines_and_exit_2(tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as caught:
        main(["submit", str(JOBS_DIR / "lecture_h2o_rf.ipynb"), "--local", *extra])
    lines = capsys.readouterr().err.strip().splitlines()
    assert caught.value.code == 2 and message in lines[0] and len(lines) <= 2


def test_without_the_notebook_extra_submit_names_the_install(capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "nbclient" else real(name)
    )
    with pytest.raises(SystemExit) as caught:
        main(["submit", str(JOBS_DIR / "lecture_spark_kmeans.ipynb"), "--local"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert caught.value.code == 2 and "nbclient" in lines[0]
    assert lines[-1].endswith("pip install 'dmlctl[notebook]'") and len(lines) == 2


FAILING = [
    _cell("n = 1", tags=["parameters"]),
    _cell("import matplotlib.pyplot as plt\nplt.plot([1, n])\nplt.show()"),
    _cell("print('n is', n)\nraise ValueError(f'bad n {n}')"),
    _cell("print('never')"),
]


def test_a_failing_cell_fails_the_job_naming_it_and_keeps_the_executed_notebook(tmp_path):
    """The real executor: nbclient on an ipykernel of this Python, no engine needed."""
    path = _notebook(tmp_path / "fails.ipynb", *FAILING)
    ran = subprocess.run(
        [DMLCTL, "submit", str(path), "--local", "--engine", "spark",
         "--out", str(tmp_path / "run"), "--", "n=7"],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert ran.returncode == 1, ran.stdout + ran.stderr
    lines = ran.stderr.strip().splitlines()[-2:]  # after the line saying where it runs
    assert "failed (exit 1)" in lines[0]
    assert lines[0].endswith("at cell 3 (print('n is', n)): ValueError: bad n 7")
    assert lines[1].endswith("fails.ipynb")
    executed = json.loads((tmp_path / "run" / "fails.ipynb").read_text())
    assert "n is 7" in json.dumps(executed["cells"][3]["outputs"])
    assert executed["cells"][4]["outputs"] == []  # never ran
    assert (tmp_path / "run" / "figure-cell2.png").read_bytes().startswith(b"\x89PNG")
    assert "n is 7" in (tmp_path / "run" / "job.log").read_text()


# --- dmlctl notebook -------------------------------------------------------------------------


class FakeProcess:
    def __init__(self, outcome):
        self.outcome, self.returncode = outcome, None

    def wait(self, timeout=None):
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome

    def poll(self):
        return self.returncode


@pytest.fixture
def started(monkeypatch):
    """notebook_server.start faked: what it was given; the server 'runs' until Ctrl-C."""
    seen: dict = {}

    def start(cluster, root, port, timeout=0):
        seen.update(cluster=cluster, root=root, port=port)
        return notebook_server.Server(FakeProcess(KeyboardInterrupt()), root, port, "tok")

    monkeypatch.setattr(notebook_server, "start", start)
    monkeypatch.setattr(notebook_server, "stop", lambda server: seen.setdefault("stopped", True))
    return seen


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_notebook_serves_the_dir_on_the_port_and_prints_the_url(started, tmp_path, capsys):
    port = _free_port()
    with pytest.raises(SystemExit) as caught:
        main(["notebook", "--inventory", str(PAYLOADS / "two_nodes.ini"), "--port", str(port),
              "--dir", str(tmp_path)])  # fmt: skip
    assert caught.value.code == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"http://127.0.0.1:{port}/lab?token=tok"
    assert started["root"] == tmp_path and started["port"] == port and started["stopped"]
    cluster = started["cluster"]
    assert cluster["MASTER"].startswith("spark://127.0.0.1:")
    assert (
        cluster["DMLCTL_H2O_NODES"].startswith("127.0.0.1:")
        and "127.0.0.2:" in cluster["DMLCTL_H2O_NODES"]
    )
    assert cluster["PYTHONPATH"] == str(target.STARTUP_DIR)


def test_notebook_with_a_profile_wires_kernels_to_its_cluster(started, tmp_path, capsys):
    from dmlctl.security import profile

    prof = profile.Profile(
        name="alice", cluster="lab", spark_master_url="spark://10.0.0.2:7077",
        spark_ui="http://10.0.0.2:8080", spark_workers=["10.0.0.3"],
        h2o_url="https://10.0.0.2:54321", h2o_nodes=["10.0.0.2:54321"], h2o_cluster_name="c",
        versions={"spark": "4.3.0"}, spark_secret="s" * 64, h2o_user="alice", h2o_password="pw",
        ca_pem="-----BEGIN CERTIFICATE-----\n",
    )  # fmt: skip
    path = str(profile.write(prof, tmp_path / "alice.json"))
    with pytest.raises(SystemExit) as caught:
        main(["notebook", "--profile", path, "--dir", str(tmp_path)])
    assert caught.value.code == 0
    cluster = started["cluster"]
    assert cluster["DMLCTL_H2O_URL"] == "https://10.0.0.2:54321"
    assert cluster["DMLCTL_H2O_USER"] == "alice" and "DMLCTL_H2O_PASSWORD" not in cluster
    assert Path(cluster["DMLCTL_H2O_PASSWORD_FILE"]).read_text() == "pw"
    assert started["port"] >= notebook_server.FIRST_PORT


def test_notebook_bad_dir_or_busy_port_is_exit_2(tmp_path, capsys, started):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for argv, message in (
            (["--dir", str(tmp_path / "nope")], "no such directory"),
            (["--port", str(port)], f"127.0.0.1:{port}"),
            (["--port", "0"], "--port must be between 1 and 65535, not 0."),
        ):
            with pytest.raises(SystemExit) as caught:
                main(["notebook", "-i", str(PAYLOADS / "two_nodes.ini"), *argv])
            lines = capsys.readouterr().err.strip().splitlines()
            assert caught.value.code == 2 and message in lines[0] and len(lines) <= 2
    assert not started


def test_the_servers_environment_keeps_job_variables_out_and_the_token_off_argv():
    base = {"PATH": "/bin", "PYTHONPATH": "/mine", "DMLCTL_RUN_DIR": "/r", "MPLBACKEND": "Agg"}
    env = notebook_server.server_env(base, {"MASTER": "spark://m:7077"}, "secret-token")
    assert env["PYTHONPATH"] == f"{target.STARTUP_DIR}:/mine"
    assert env["JUPYTER_TOKEN"] == "secret-token" and env["MASTER"] == "spark://m:7077"
    assert "DMLCTL_RUN_DIR" not in env and "MPLBACKEND" not in env
    argv = notebook_server.command(Path("/d"), 8890)
    assert "--ServerApp.ip=127.0.0.1" in argv and not any("secret" in a for a in argv)


class _Status(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path == "/api/status" and self.headers["Authorization"] == "token t"
        self.send_response(200 if ok else 403)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_ready_when_the_api_answers_with_the_token_failed_when_the_server_ends():
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Status)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        server = notebook_server.Server(FakeProcess(0), Path("."), httpd.server_port, "t")
        notebook_server.wait_ready(server, timeout=10)
    finally:
        httpd.shutdown()
    ended = FakeProcess(3)
    ended.returncode = 3
    with pytest.raises(OperationError, match="ended before it was ready"):
        notebook_server.wait_ready(notebook_server.Server(ended, Path("."), 1, "t"), timeout=10)
