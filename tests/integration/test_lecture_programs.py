"""The lecture's programs as students write them, on the shared lab: the H2O program with only
its address changed, the KMeans program ending in plt.show(), both shipped notebooks as jobs, a
notebook whose cell fails, and `dmlctl notebook` (its kernels on the cluster, and JupyterLab in
a real browser, headless Chromium)."""

import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from dmlctl.paths import JOBS_DIR

DMLCTL = str(Path(sys.executable).parent / "dmlctl")
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
IRIS = str(JOBS_DIR / "data" / "iris.csv")  # absolute: appears as iris.csv in the work dir
ARTIFACTS = Path(os.environ.get("DMLCTL_TEST_ARTIFACTS", ROOT / "test-artifacts"))
PNG = "image/png"

LECTURE_H2O = """
import h2o
from h2o.estimators import H2ORandomForestEstimator

h2o.init(ip="{ip}", port={port})
df = h2o.import_file("iris.csv")
df["species"] = df["species"].asfactor()
train, test = df.split_frame(ratios=[0.8], seed=1234)
rf_model = H2ORandomForestEstimator(ntrees=50, max_depth=10, nfolds=5)
rf_model.train(x=["sepal_length", "sepal_width", "petal_length", "petal_width"], y="species",
               training_frame=train)
performance = rf_model.model_performance(test_data=test)
print(performance)
print("test rows:", test.nrows)
h2o.remove([rf_model, df, train, test], cascade=True)
"""

LECTURE_KMEANS = """
import matplotlib.pyplot as plt
from pyspark.ml.clustering import KMeans
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("LectureKMeans").getOrCreate()
df = spark.read.csv("iris.csv", header=True, inferSchema=True)
print(f"Number of rows: {df.count()}, Number of columns: {len(df.columns)}")
features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
df = VectorAssembler(inputCols=features, outputCol="features").transform(df)
scores = []
for k in range(2, 10):
    model = KMeans(k=k, seed=1).fit(df)
    scores.append(ClusteringEvaluator().evaluate(model.transform(df)))
plt.plot(range(2, 10), scores, marker="o")
plt.show()
predictions = KMeans(k=3, seed=1).fit(df).transform(df)
predictions.groupBy("prediction").count().show()
pdf = predictions.select("petal_length", "petal_width", "prediction").toPandas()
plt.scatter(pdf["petal_length"], pdf["petal_width"], c=pdf["prediction"])
plt.show()
spark.stop()
"""


def _submit(cluster, job: str, out: Path, *extra: str):
    return cluster.dmlctl(
        "submit", job, "-i", str(cluster.inventory), "--out", str(out), *extra, timeout=900
    )


def _ok(run) -> None:
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]


def _confusion_matrix(log: str) -> dict[str, list[int]]:
    """The rows of the confusion matrix H2O prints (actual class -> predicted counts)."""
    block = log.split("Confusion Matrix: Row labels: Actual class")[1].split("\n\n")[0]
    lines = block.strip().splitlines()[3:6]  # after the header, labels and dashes; no totals
    labels = ["setosa", "versicolor", "virginica"]
    rows = zip(labels, lines, strict=True)
    return {label: [int(v) for v in line.split()[:3]] for label, line in rows}


def test_the_lectures_h2o_program_with_only_its_address_changed(cluster, tmp_path):
    from dmlctl.cluster.endpoints import endpoints
    from dmlctl.playbooks.inventory import load_cluster

    node = list(endpoints(load_cluster(cluster.inventory)).h2o_nodes)[1]  # not the first node
    ip, port = node.rsplit(":", 1)
    program = tmp_path / "lecture_rf.py"
    program.write_text(LECTURE_H2O.format(ip=ip, port=port))
    run = _submit(cluster, str(program), tmp_path / "rf", "--data", IRIS)
    _ok(run)
    log = (tmp_path / "rf" / "job.log").read_text()
    assert f"running at https://{ip}:{port}" in log  # the node it named, with its login
    matrix = _confusion_matrix(log)
    test_rows = int(re.search(r"test rows: (\d+)", log).group(1))
    assert sum(map(sum, matrix.values())) == test_rows and 20 <= test_rows <= 40
    correct = sum(matrix[label][i] for i, label in enumerate(matrix))
    assert correct / test_rows >= 0.85, matrix
    assert matrix["setosa"][1:] == [0, 0]  # setosa is never mistaken


def test_the_lectures_kmeans_program_keeps_its_plots(cluster, tmp_path):
    program = tmp_path / "lecture_kmeans.py"
    program.write_text(LECTURE_KMEANS)
    run = _submit(cluster, str(program), tmp_path / "km", "--data", IRIS)
    _ok(run)
    for name in ("figure-1.png", "figure-2.png"):
        assert (tmp_path / "km" / name).read_bytes().startswith(b"\x89PNG")
    assert "figures: figure-1.png, figure-2.png" in run.stdout
    assert "Number of rows: 150" in (tmp_path / "km" / "job.log").read_text()


def _figures(executed: dict) -> list[int]:
    return [
        i
        for i, cell in enumerate(executed["cells"])
        for output in cell.get("outputs", [])
        if PNG in output.get("data", {})
    ]


@pytest.mark.parametrize(
    ("name", "figures", "text"),
    [
        ("lecture_h2o_rf.ipynb", 1, "Confusion Matrix"),
        ("lecture_spark_kmeans.ipynb", 2, "Silhouette score for k=9"),
    ],
)
def test_the_shipped_notebooks_run_as_jobs(cluster, tmp_path, name, figures, text):
    run = _submit(cluster, str(JOBS_DIR / name), tmp_path / "nb", "--data", IRIS)
    _ok(run)
    executed = json.loads((tmp_path / "nb" / name).read_text())
    assert all(c.get("execution_count") for c in executed["cells"] if c["cell_type"] == "code")
    assert len(_figures(executed)) == figures
    assert text in json.dumps(executed)
    assert len(list((tmp_path / "nb").glob("figure-cell*.png"))) == figures


def test_a_notebook_with_a_failing_cell_exits_1_naming_it(cluster, tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    path = tmp_path / "broken.ipynb"
    cells = ["import h2o\nh2o.init()", "print(h2o.cluster().cloud_size)", "1 / 0", "print(2)"]
    nbformat.write(new_notebook(cells=[new_code_cell(c) for c in cells]), path)
    run = _submit(cluster, str(path), tmp_path / "broken")
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    assert "at cell 3 (1 / 0): ZeroDivisionError: division by zero" in run.stderr
    assert "Traceback" not in run.stderr
    executed = json.loads((tmp_path / "broken" / "broken.ipynb").read_text())
    assert "".join(executed["cells"][1]["outputs"][0]["text"]).strip() == "3"  # lines


# ---- dmlctl notebook ------------------------------------------------------------------------

KERNEL_CODE = """
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("notebook-kernel").getOrCreate()
rows = spark.sparkContext.parallelize(range(1000), 4).map(lambda x: x * 2).count()
print("ROWS", rows, spark.sparkContext.master)
spark.stop()
import h2o
h2o.init()
print("CLOUD", h2o.cluster().cloud_size)
"""


@pytest.fixture(scope="module")
def jupyterlab(cluster, tmp_path_factory):
    """`dmlctl notebook` on the shared lab, serving a copy of the shipped notebooks."""
    home = tmp_path_factory.mktemp("jupyterlab")
    served = home / "notebooks"
    served.mkdir()
    for path in JOBS_DIR.glob("*.ipynb"):
        shutil.copy(path, served)
    env = {
        **os.environ,
        "DMLCTL_STATE_DIR": str(cluster.state_dir),
        # Jupyter's own settings and runtime files in the test's directory, not ~.
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    log = home / "notebook.log"
    with log.open("w") as errors:
        process = subprocess.Popen(
            [DMLCTL, "notebook", "-i", str(cluster.inventory), "--dir", str(served)],
            stdout=subprocess.PIPE, stderr=errors, text=True, env=env,
        )  # fmt: skip
    try:
        url = _first_line(process, timeout=300)  # printed once the server answers
        assert url.startswith("http://127.0.0.1:"), log.read_text()[-3000:]
        yield url, served
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C: stops JupyterLab and its kernels
        assert process.wait(timeout=60) == 0


def _first_line(process: subprocess.Popen, timeout: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return process.stdout.readline().strip()


def _execute(url: str, code: str, timeout: float = 600) -> str:
    """Start a kernel through JupyterLab's REST API, run CODE on it, return its output."""
    import urllib.request

    import websocket

    base, token = url.split("/lab?token=")
    headers = {"Authorization": f"token {token}"}
    request = urllib.request.Request(f"{base}/api/kernels", data=b"{}", headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        kernel = json.loads(response.read())["id"]
    socket = websocket.create_connection(
        f"{base.replace('http', 'ws')}/api/kernels/{kernel}/channels",
        header=[f"Authorization: token {token}"],
        timeout=timeout,
    )
    msg_id, session = uuid.uuid4().hex, uuid.uuid4().hex
    header = {"msg_id": msg_id, "session": session, "username": "test", "version": "5.3",
              "msg_type": "execute_request", "date": ""}  # fmt: skip
    content = {"code": code, "silent": False, "store_history": False, "user_expressions": {},
               "allow_stdin": False, "stop_on_error": True}  # fmt: skip
    message = {"header": header, "parent_header": {}, "metadata": {}, "content": content}
    socket.send(json.dumps({**message, "channel": "shell", "buffers": []}))
    output, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            reply = json.loads(socket.recv())
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = reply["header"]["msg_type"]
            if kind == "stream":
                output.append(reply["content"]["text"])
            elif kind == "error":
                output.append("\n".join(reply["content"]["traceback"]))
            elif kind == "status" and reply["content"]["execution_state"] == "idle":
                # Not execute_reply: it comes on the shell channel and may overtake the last
                # output on iopub; idle comes after every output of the request.
                return "".join(output)
    finally:
        socket.close()
    raise AssertionError(f"no reply within {timeout} s: {''.join(output)[-2000:]}")


def test_a_notebook_kernel_counts_rows_on_spark_and_reads_the_clouds_size(jupyterlab):
    url, _ = jupyterlab
    output = _execute(url, KERNEL_CODE)
    assert re.search(r"ROWS 1000 spark://", output), output[-3000:]
    assert "CLOUD 3" in output, output[-3000:]


def _browser(profile: str):
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        if os.environ.get("CI"):
            raise AssertionError("CI needs chromium and chromium-driver (make setup)")
        pytest.skip("needs chromium and chromium-driver (make setup as root installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                 "--window-size=1400,900"):  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def test_jupyterlab_in_a_browser_shows_the_shipped_notebooks(jupyterlab, monkeypatch):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, _ = jupyterlab
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium never fetches a driver or browser
    shipped = {path.name for path in JOBS_DIR.glob("*.ipynb")}
    assert len(shipped) == 2
    with tempfile.TemporaryDirectory() as profile:
        driver = _browser(profile)
        try:
            driver.set_page_load_timeout(120)
            driver.get(url.replace("/lab?", "/lab/tree/lecture_spark_kmeans.ipynb?"))

            def shown(browser) -> bool:
                items = browser.find_elements(By.CSS_SELECTOR, ".jp-DirListing-itemText")
                heads = browser.find_elements(By.CSS_SELECTOR, ".jp-RenderedMarkdown h1")
                return shipped <= {item.text for item in items} and any(
                    "KMeans" in head.text for head in heads
                )

            WebDriverWait(driver, 180, poll_frequency=0.5).until(shown)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            assert driver.save_screenshot(str(ARTIFACTS / "jupyterlab.png"))
        finally:
            driver.quit()
    assert (ARTIFACTS / "jupyterlab.png").stat().st_size > 20_000
