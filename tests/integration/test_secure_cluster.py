"""Secure by default, on the shared 3-node lab: who is refused, where the secrets are (and are
not), a student with nothing but a profile, and rotation. The last test rotates the secrets and
leaves the cluster healthy for the tests after it."""

import json
import os
import pwd
import shlex
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).resolve().parents[2]
DMLCTL = str(Path(sys.executable).parent / "dmlctl")
NODES = ("node1", "node2", "node3")
STUDENT = f"dmlstu{os.getpid() % 100000}"

AUTOML = """
import json, os, sys
import h2o
from h2o.automl import H2OAutoML

h2o.connect(url=os.environ["DMLCTL_H2O_URL"], verbose=False,
            auth=(os.environ["DMLCTL_H2O_USER"], os.environ["DMLCTL_H2O_PASSWORD"]),
            cacert=os.environ["DMLCTL_H2O_CACERT"])
frame = h2o.upload_file(sys.argv[1])
frame["species"] = frame["species"].asfactor()
# XGBoost is excluded: H2O refuses multi-node XGBoost under node-to-node TLS (its own traffic
# would go unencrypted); see the README's security section.
aml = H2OAutoML(max_models=2, seed=1, exclude_algos=["XGBoost"], max_runtime_secs=120)
aml.train(y="species", training_frame=frame)
board = aml.leaderboard.as_data_frame(use_pandas=False)
with open(os.path.join(os.environ["DMLCTL_RUN_DIR"], "result.json"), "w") as out:
    json.dump({"leader": aml.leader.model_id, "models": [row[0] for row in board[1:]]}, out)
"""

SPARK_PROBE = """
import sys, time
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName(sys.argv[1]).getOrCreate()
print("RAN", spark.sparkContext.parallelize(range(10), 2).sum(), flush=True)
time.sleep(float(sys.argv[2]))
spark.stop()
"""


def _box(cluster):
    return cluster.secrets()


def _status(cluster, *args: str, **kw) -> dict:
    result = cluster.dmlctl("status", "--json", "-i", str(cluster.inventory), *args, **kw)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return json.loads(result.stdout)


def _on_node(cluster, node: str, script: str) -> str:
    proc = subprocess.run(
        ["podman", "exec", f"dmlctl-{cluster.name}-{node}", "sh", "-c", script],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return proc.stdout


def _http_code(url: str, *, context=None, auth: tuple[str, str] | None = None) -> int:
    import base64

    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=10, context=context
        ) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _spark_app(cluster, tmp_path: Path, name: str, conf: dict, hold: float = 0, timeout=45):
    """Start a tiny Spark application against the cluster with CONF; (process, its output)."""
    status = _status(cluster)
    props = tmp_path / f"{name}.conf"
    fd = os.open(props, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.writelines(f"{k} {v}\n" for k, v in conf.items())
    from dmlctl.jobs.cluster_target import driver_address

    driver = driver_address(status["spark"]["master_url"].split("//")[1].split(":")[0])
    script = tmp_path / "probe.py"
    script.write_text(SPARK_PROBE)
    env = {
        **os.environ,
        "PYSPARK_SUBMIT_ARGS": shlex.join(
            [
                "--master",
                status["spark"]["master_url"],
                "--properties-file",
                str(props),
                "--conf",
                f"spark.driver.host={driver}",
                "pyspark-shell",
            ]
        ),
        "PYSPARK_PYTHON": "/usr/bin/python3",
    }
    return subprocess.Popen(
        [sys.executable, str(script), name, str(hold)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip


def _secure_conf(secret: str) -> dict:
    return {
        "spark.authenticate": "true",
        "spark.authenticate.secret": secret,
        "spark.network.crypto.enabled": "true",
        "spark.network.crypto.authEngineVersion": "2",
        "spark.network.crypto.cipher": "AES/GCM/NoPadding",
        "spark.io.encryption.enabled": "true",
    }


def _refused_though_the_secret_runs(cluster, tmp_path, name: str, conf: dict) -> str:
    """The probe runs with the cluster's secret, and the same probe with CONF does not: its
    output (a refusal is not an import error, a wrong driver host or a master that is down)."""
    ran, output = _runs_with(cluster, tmp_path, f"control-{name}", _secure_conf(
        _box(cluster).spark_secret()))  # fmt: skip
    assert ran, "the probe fails even with the cluster's secret:\n" + output[-2000:]
    ran, output = _runs_with(cluster, tmp_path, name, conf)
    assert not ran, output[-2000:]
    return output


def _runs_with(cluster, tmp_path, name: str, conf: dict) -> tuple[bool, str]:
    process = _spark_app(cluster, tmp_path, name, conf)
    try:
        output, _ = process.communicate(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    master = json.loads(
        urllib.request.urlopen(_status(cluster)["spark"]["ui"] + "/json/", timeout=10).read()
    )
    seen = [a["name"] for a in master["activeapps"] + master["completedapps"]]
    return ("RAN" in output or name in seen), output


def test_h2o_refuses_anonymous_requests_and_status_reports_security(cluster):
    assert cluster.deploy.returncode == 0, cluster.deploy.stderr[-2000:]
    model = _status(cluster)
    assert model["healthy"]
    assert model["security"]["secure"] is True
    assert model["security"]["h2o"]["internal_security"] is True
    assert model["security"]["h2o"]["anonymous_refused"] is True
    box = _box(cluster)
    verified = ssl.create_default_context(cafile=str(box.ca_pem_path))
    unverified = ssl._create_unverified_context()
    for node in model["h2o"]["nodes"]:
        url = f"https://{node['ip_port']}/3/Cloud"
        assert _http_code(url, context=verified) == 401
        assert _http_code(url, context=unverified) == 401
        assert _http_code(url, context=verified, auth=box.admin_login()) == 200
    assert model["h2o"]["url"].startswith("https://")


def test_spark_refuses_an_application_without_the_secret(cluster, tmp_path):
    _refused_though_the_secret_runs(cluster, tmp_path, "no-secret-probe", {})


def test_no_kill_links_no_rest_port_engines_not_root(cluster, tmp_path):
    box = _box(cluster)
    process = _spark_app(cluster, tmp_path, "kill-probe", _secure_conf(box.spark_secret()), hold=60)
    ui = _status(cluster)["spark"]["ui"]
    try:
        deadline = time.monotonic() + 90
        active = []
        while time.monotonic() < deadline and not active:
            master = json.loads(urllib.request.urlopen(ui + "/json/", timeout=10).read())
            active = [a for a in master["activeapps"] if a["name"] == "kill-probe"]
            time.sleep(1)
        page = urllib.request.urlopen(ui + "/", timeout=10).read().decode()
        # The secret is in no process's command line on this machine while a driver runs.
        listing = subprocess.run(
            ["ps", "-eww", "-o", "args"], capture_output=True, text=True, timeout=30
        )
        killed = _http_code(f"{ui}/app/kill/?id={active[0]['id']}&terminate=true") if active else 0
        # A kill takes effect within seconds: the application must stay active throughout.
        for _ in range(10):
            master = json.loads(urllib.request.urlopen(ui + "/json/", timeout=10).read())
            still = [a for a in master["activeapps"] if a["name"] == "kill-probe"]
            if not still:
                break
            time.sleep(1)
    finally:
        process.kill()
        process.communicate()
    assert active, "the authenticated application never became active"
    assert "kill-probe" in page and "(kill)" not in page
    assert killed != 200 or still, "the UI killed the application"
    assert box.spark_secret() not in listing.stdout
    ports: dict[str, set[int]] = {}
    for node in NODES:
        table = _on_node(cluster, node, "cat /proc/net/tcp /proc/net/tcp6")
        ports[node] = {
            int(line.split()[1].rsplit(":", 1)[1], 16)
            for line in table.splitlines()[1:]
            if len(line.split()) > 3 and line.split()[3] == "0A"
        }
        users = _on_node(
            cluster, node,
            "for p in /proc/[0-9]*; do grep -q java $p/comm 2>/dev/null && "
            "stat -c %U $p; done",
        ).split()  # fmt: skip
        assert users and "root" not in users, (node, users)
    assert 6066 not in set().union(*ports.values())
    known = {22, 7077, 7078, 8080, 8081, 54321, 54322}
    assert all(p <= known for p in ports.values()), ports


def test_automl_runs_without_xgboost(cluster, tmp_path):
    program = tmp_path / "automl_iris.py"
    program.write_text(AUTOML)
    out = tmp_path / "automl"
    result = cluster.dmlctl(
        "submit", str(program), "-i", str(cluster.inventory), "--out", str(out),
        "--", str(PROJECT / "jobs" / "data" / "iris.csv"),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads((out / "result.json").read_text())
    assert data["leader"] and data["models"]
    assert not [m for m in data["models"] if "XGBoost" in m]


@pytest.fixture
def student(tmp_path):
    """An unprivileged user with its own HOME and nothing else: no SSH key, no inventory."""
    home = Path("/home") / STUDENT
    subprocess.run(
        ["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/sh", STUDENT],
        check=True,
    )
    try:
        _student_python(home)
        yield pwd.getpwnam(STUDENT), home
    finally:
        subprocess.run(["userdel", "--remove", STUDENT], capture_output=True, check=False)


def _student_python(home: Path) -> None:
    """The student's own Python environment with this project's packages (this venv's base
    interpreter may live where others cannot run it, such as under /root)."""
    import sysconfig

    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    for base in (getattr(sys, "_base_executable", sys.executable), f"/usr/bin/{version}"):
        probe = ["runuser", "-u", STUDENT, "--", base, "-c", "pass"]
        usable = subprocess.run(probe, capture_output=True, check=False)
        if usable.returncode == 0:
            break
    else:
        pytest.fail(f"no {version} that {STUDENT} may run")
    venv = home / "venv"
    subprocess.run(
        ["runuser", "-u", STUDENT, "--", base, "-m", "venv", "--without-pip", str(venv)],
        check=True,
    )
    site = venv / "lib" / version / "site-packages"
    project_site = sysconfig.get_paths()["purelib"]
    (site / "dmlctl-project.pth").write_text(f"import site; site.addsitedir({project_site!r})\n")


def _as(student, *args: str) -> subprocess.CompletedProcess[str]:
    user, home = student
    env = ["HOME=" + str(home), "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"]
    python = str(home / "venv" / "bin" / "python")
    command = [python, "-c", "import sys; from dmlctl.cli import main; sys.exit(main())"]
    return subprocess.run(
        ["runuser", "-u", user.pw_name, "--", "env", "-i", *env, *command, *args],
        capture_output=True, text=True, cwd=home, timeout=900, check=False,
    )  # fmt: skip


def test_a_student_with_only_a_profile(cluster, student):
    user, home = student
    profile = home / "cluster.profile.json"
    grant = cluster.dmlctl(
        "access", "grant", STUDENT, "--out", str(profile), "-i", str(cluster.inventory)
    )
    assert grant.returncode == 0, grant.stdout[-2000:] + grant.stderr[-2000:]
    assert "restarted" in grant.stdout
    assert oct(profile.stat().st_mode & 0o777) == "0o600"
    os.chown(profile, user.pw_uid, user.pw_gid)
    assert not (home / ".ssh").exists()
    status = _as(student, "status", "--profile", str(profile))
    assert status.returncode == 0, status.stdout[-2000:] + status.stderr[-2000:]
    # Exports for programs started by hand name private files; no secret is printed.
    exports = _as(student, "env", "--profile", str(profile))
    assert exports.returncode == 0, exports.stderr[-2000:]
    given = json.loads(profile.read_text())
    assert "export SPARK_CONF_DIR=" in exports.stdout
    assert 'export DMLCTL_H2O_PASSWORD="$(cat ' in exports.stdout
    assert given["spark"]["secret"] not in exports.stdout
    assert given["h2o"]["password"] not in exports.stdout
    for job in ("h2o-rf", "spark-kmeans"):
        run = _as(student, "submit", job, "--profile", str(profile), "--out", f"{home}/{job}")
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert json.loads((home / job / "result.json").read_text())
    listed = cluster.dmlctl("access", "ls", "--json", "-i", str(cluster.inventory))
    assert STUDENT in [row["name"] for row in json.loads(listed.stdout)]
    revoke = cluster.dmlctl("access", "revoke", STUDENT, "-i", str(cluster.inventory))
    assert revoke.returncode == 0, revoke.stdout[-2000:] + revoke.stderr[-2000:]
    refused = _as(student, "status", "--profile", str(profile))
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) <= 2 and "refused" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_secrets_are_only_in_their_private_files(cluster, tmp_path):
    box = _box(cluster)
    values = box.values()
    assert len(values) >= 2
    # dmlctl's state, ansible-runner's directories: only the 0600 files of the secrets dir and
    # those `dmlctl env` hands to programs started by hand.
    private_dirs = (box.path, cluster.state_dir / "credentials")
    for path in cluster.state_dir.rglob("*"):
        if path.is_file() and not path.is_symlink():
            text = path.read_bytes()
            if any(v.encode() in text for v in values):
                assert (path.stat().st_mode & 0o077) == 0, path
                assert path.parent in private_dirs or path.parent.parent in private_dirs, path
    # Command output of a deploy, a status and the shell exports.
    status = cluster.dmlctl("status", "--json", "-i", str(cluster.inventory))
    exports = cluster.dmlctl("env", "-i", str(cluster.inventory))
    assert status.returncode == 0 and exports.returncode == 0, status.stderr + exports.stderr
    for output in (cluster.deploy.stdout + cluster.deploy.stderr, status.stdout + status.stderr,
                   exports.stdout + exports.stderr):  # fmt: skip
        assert not any(v in output for v in values)
    # Run directories of the tests' jobs (pytest's tmp dirs; the probes' own 0600 conf and the
    # state dir checked above aside).
    for v in values:
        found = subprocess.run(
            ["grep", "-rlF", v, str(tmp_path.parent)], capture_output=True, text=True
        ).stdout.split()
        leaks = [
            f
            for f in found
            if not f.endswith("probe.conf") and not Path(f).is_relative_to(cluster.state_dir)
        ]
        assert not leaks, leaks
    # The nodes' journals and files: only the engines' own 0640/0600 configuration.
    patterns = " ".join(f"-e {shlex.quote(v)}" for v in values)
    for node in NODES:
        report = _on_node(
            cluster, node,
            f"journalctl --no-pager -o cat | grep -cF {patterns}; "
            f"grep -rlF {patterns} /etc /opt /var /tmp /home 2>/dev/null "
            "| xargs -r stat -c 'FILE %a %U:%G %n'",
        )  # fmt: skip
        lines = report.splitlines()
        assert lines and lines[0] == "0", (node, report)
        for line in lines[1:]:
            _, mode, owner, _name = line.split(" ", 3)
            assert mode in ("600", "640") and owner.startswith("root:"), (node, line)


def test_rotate_keeps_the_cluster_healthy_and_refuses_the_old_secrets(cluster, tmp_path):
    box = _box(cluster)
    old_secret, old_login = box.spark_secret(), box.admin_login()
    rotate = cluster.dmlctl("secrets", "rotate", "-i", str(cluster.inventory))
    assert rotate.returncode == 0, rotate.stdout[-3000:] + rotate.stderr[-3000:]
    assert _status(cluster)["healthy"]
    assert box.spark_secret() != old_secret
    context = ssl.create_default_context(cafile=str(box.ca_pem_path))
    h2o = _status(cluster)["h2o"]["nodes"][0]["ip_port"]
    assert _http_code(f"https://{h2o}/3/Cloud", context=context, auth=old_login) == 401
    _refused_though_the_secret_runs(cluster, tmp_path, "old-secret-probe", _secure_conf(old_secret))
