"""An unchanged program reaches the cluster: which h2o.init()/connect() calls are sent to the
cloud with the user's login and CA, where relative import_file paths are read, the import hook
that applies the patches, and plt.show() keeping figures in the run directory."""

import re
import subprocess
import sys
import types

import pytest

from dmlctl.jobs import h2o_hooks as hooks
from dmlctl.jobs import program_hooks

CLOUD = {
    "DMLCTL_H2O_URL": "https://10.89.0.2:54321",
    "DMLCTL_H2O_NODES": "10.89.0.2:54321,10.89.0.3:54321,10.89.0.4:54321",
    "DMLCTL_H2O_USER": "alice",
    "DMLCTL_H2O_PASSWORD": "pw",
    "DMLCTL_H2O_CACERT": "/state/ca.pem",
}


def init(url=None, ip=None, port=None, https=None, cacert=None, username=None, password=None,
         start_h2o=True, **kwargs):  # fmt: skip
    """h2o.init's shape, as far as the hooks look at it."""


def connect(server=None, url=None, ip=None, port=None, https=None, cacert=None, auth=None,
            verbose=True, config=None):  # fmt: skip
    """h2o.connect's shape."""


LOGIN = {"username": "alice", "password": "pw", "cacert": "/state/ca.pem"}


@pytest.mark.parametrize(
    ("args", "kwargs", "url"),
    [
        ((), {}, "https://10.89.0.2:54321"),  # no address: the cloud
        ((), {"port": 54321}, "https://10.89.0.2:54321"),
        ((), {"ip": "10.89.0.3", "port": 54321}, "https://10.89.0.3:54321"),  # the lecture's
        ((), {"ip": "10.89.0.4"}, "https://10.89.0.4:54321"),
        ((), {"url": "http://10.89.0.3:54321"}, "https://10.89.0.3:54321"),
        (("http://10.89.0.4:54321",), {}, "https://10.89.0.4:54321"),  # url, positionally
        ((), {"ip": "10.89.0.3", "port": "54321+"}, "https://10.89.0.3:54321"),
    ],
)
def test_init_without_an_address_or_with_a_nodes_reaches_the_cloud_with_the_login(
    args, kwargs, url
):
    arguments = hooks.redirected(init, args, kwargs, CLOUD)
    assert arguments["url"] == url
    assert (arguments["ip"], arguments["port"], arguments["https"]) == (None, None, None)
    assert {key: arguments[key] for key in LOGIN} == LOGIN


def test_connect_gets_the_login_as_auth():
    arguments = hooks.redirected(connect, (), {"ip": "10.89.0.2", "verbose": False}, CLOUD)
    assert arguments["url"] == "https://10.89.0.2:54321"
    assert arguments["auth"] == ("alice", "pw")
    assert arguments["cacert"] == "/state/ca.pem" and arguments["verbose"] is False


@pytest.mark.parametrize(
    ("function", "kwargs"),
    [
        (init, {"ip": "localhost"}),  # another address
        (init, {"ip": "10.0.0.9", "port": 54321}),
        (init, {"url": "https://h2o.example.org:443"}),
        (init, {"ip": "10.89.0.3", "port": 54999}),  # a node, but not its H2O
        (init, {"url": "https://10.89.0.2:54321", "username": "bob", "password": "x"}),
        (connect, {"url": "https://10.89.0.2:54321", "auth": ("bob", "x")}),  # its own login
        (connect, {"server": object()}),
        (connect, {"config": {"connect_params": {}}}),
    ],
)
def test_other_addresses_and_own_logins_are_left_alone(function, kwargs):
    assert hooks.redirected(function, (), kwargs, CLOUD) is None


def test_without_a_cloud_nothing_is_redirected():
    assert hooks.redirected(init, (), {}, {}) is None


def test_an_open_cloud_needs_no_login_and_the_password_may_come_from_a_file(tmp_path):
    open_cloud = {"DMLCTL_H2O_URL": "http://10.89.0.2:54321"}
    arguments = hooks.redirected(init, (), {}, open_cloud)
    assert arguments["url"] == "http://10.89.0.2:54321" and "username" not in arguments
    secret = tmp_path / "h2o-password"
    secret.write_text("from-file\n")
    env = {**CLOUD, "DMLCTL_H2O_PASSWORD_FILE": str(secret)}
    del env["DMLCTL_H2O_PASSWORD"]
    assert hooks.redirected(connect, (), {}, env)["auth"] == ("alice", "from-file")


def test_relative_import_paths_are_read_where_data_put_them(tmp_path, monkeypatch):
    job = {"DMLCTL_WORK_DIR": "/var/tmp/dmlctl/work/run-1"}
    assert hooks.node_path("iris.csv", job) == "/var/tmp/dmlctl/work/run-1/iris.csv"
    assert hooks.node_path("data/x.csv", job) == "/var/tmp/dmlctl/work/run-1/data/x.csv"
    assert hooks.node_path(["a.csv", "/abs/b.csv"], job) == [
        "/var/tmp/dmlctl/work/run-1/a.csv",
        "/abs/b.csv",
    ]
    for kept in ("/srv/x.csv", "hdfs://nn/x.csv", "https://h/x.csv", None):
        assert hooks.node_path(kept, job) == kept
    # Outside a job: a published dataset of that name, else from the current directory.
    monkeypatch.setattr(hooks, "DATASETS_DIR", tmp_path / "datasets")
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "iris.csv").write_text("x")
    monkeypatch.chdir(tmp_path)
    assert hooks.node_path("iris.csv", {}) == str(tmp_path / "datasets" / "iris.csv")
    assert hooks.node_path("other.csv", {}) == str(tmp_path / "other.csv")


def test_the_patched_module_redirects_reads_and_refuses_a_private_h2o(monkeypatch):
    calls = []
    h2o = types.ModuleType("h2o")

    def init(url=None, ip=None, port=None, https=None, cacert=None, username=None, password=None):
        calls.append(("init", url, username))

    h2o.init = init
    h2o.connect = connect
    h2o.import_file = lambda path=None, destination_frame=None: calls.append(
        ("import", path, destination_frame)
    )
    refusals = []
    monkeypatch.setattr(hooks, "refuse_private_h2o", lambda h2o, url: refusals.append(url) or (
        lambda: refusals.append("undone")))  # fmt: skip
    hooks.patch_h2o(h2o, {**CLOUD, "DMLCTL_WORK_DIR": "/w"})
    h2o.init(ip="10.89.0.3", port=54321)
    h2o.init(ip="127.0.0.1")
    h2o.import_file("iris.csv", destination_frame="f")
    h2o.import_file("data/iris.csv")
    assert calls[:3] == [
        ("init", "https://10.89.0.3:54321", "alice"),
        ("init", None, None),
        ("import", "/w/iris.csv", "f"),
    ]
    # No key given: one of its own, not H2O's iris.hex that every student's import would share.
    assert calls[3][:2] == ("import", "/w/data/iris.csv")
    assert re.fullmatch(r"iris_alice_[0-9a-f]{8}\.hex", calls[3][2])
    # Refused while the redirected call ran, then undone (outside a cluster job).
    assert refusals == ["https://10.89.0.3:54321", "undone"]


def test_a_hook_runs_once_when_its_module_is_first_imported(tmp_path, monkeypatch):
    (tmp_path / "hooked_mod.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen = []
    program_hooks.when_imported("hooked_mod", lambda module: seen.append(module.VALUE))
    import hooked_mod  # noqa: F401

    assert seen == [1]
    program_hooks.when_imported(
        "hooked_mod", lambda module: seen.append("again")
    )  # already imported
    assert seen == [1, "again"]
    program_hooks.when_imported("json", lambda module: 1 / 0)  # a failing hook only says so
    sys.modules.pop("hooked_mod")


SHOWS = """
import matplotlib.pyplot as plt
plt.plot([1, 2, 3])
plt.show()
plt.figure(); plt.bar([1, 2], [3, 4])
plt.figure(); plt.scatter([1], [2])
plt.show()
print("open figures:", len(plt.get_fignums()))
"""


def test_plt_show_keeps_every_open_figure_in_the_run_directory(tmp_path):
    script = tmp_path / "plots.py"
    script.write_text(SHOWS)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = {"DMLCTL_RUN_DIR": str(run_dir), "MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"}
    ran = subprocess.run(
        [sys.executable, "-m", "dmlctl.jobs.launch", str(script)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "figure-1.png",
        "figure-2.png",
        "figure-3.png",
    ]
    assert (run_dir / "figure-1.png").read_bytes().startswith(b"\x89PNG")
    assert "plt.show(): saved figure-3.png" in ran.stdout and "open figures: 0" in ran.stdout


def test_the_startup_hook_installs_the_hooks_and_runs_the_one_it_hides(tmp_path):
    from dmlctl.jobs.target import STARTUP_DIR

    other = tmp_path / "other"
    other.mkdir()
    (other / "sitecustomize.py").write_text("import builtins; builtins.OTHER_SITE = 1\n")
    code = (
        "import builtins, sys; from dmlctl.jobs import program_hooks as h; "
        "print(h._FINDER in sys.meta_path, getattr(builtins, 'OTHER_SITE', 0))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": f"{STARTUP_DIR}:{other}", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ran.stdout.split() == ["True", "1"], ran.stderr


def test_env_exports_put_the_startup_hook_before_the_users_pythonpath(capsys):
    from pathlib import Path

    from dmlctl.cli import main
    from dmlctl.jobs.target import STARTUP_DIR

    inventory = Path(__file__).parent / "payloads" / "two_nodes.ini"
    with pytest.raises(SystemExit) as caught:
        main(["env", "-i", str(inventory)])
    exports = capsys.readouterr().out
    assert caught.value.code == 0
    assert "export DMLCTL_H2O_NODES=127.0.0.1:54321,127.0.0.2:54321" in exports
    shell = subprocess.run(
        ["bash", "-c", f'{exports}\necho "$PYTHONPATH"'],
        env={"PYTHONPATH": "/mine", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert shell.stdout.strip() == f"{STARTUP_DIR}:/mine"


def _fake_h2o(calls: list) -> types.ModuleType:
    h2o = types.ModuleType("h2o")
    h2o.init, h2o.connect = init, connect
    h2o.import_file = lambda path=None, destination_frame=None, pattern=None: calls.append(
        ("import", path)
    )
    h2o.upload_file = lambda path, destination_frame=None: calls.append(("upload", path))
    return h2o


def test_a_file_only_this_machine_has_is_uploaded_instead(tmp_path, monkeypatch):
    monkeypatch.setattr(hooks, "refuse_private_h2o", lambda *args: lambda: None)
    (tmp_path / "iris.csv").write_text("x")
    here = str(tmp_path / "iris.csv")
    calls: list = []
    profile_job = {**CLOUD, "DMLCTL_WORK_DIR": str(tmp_path)}  # a profile: nothing staged
    h2o = _fake_h2o(calls)
    hooks.patch_h2o(h2o, profile_job)
    h2o.import_file("iris.csv")
    h2o.import_file("iris.csv", pattern="*.csv")  # upload_file takes no pattern: imported
    h2o.import_file("missing.csv")  # not here: perhaps the nodes have it
    staged = _fake_h2o(calls)
    hooks.patch_h2o(staged, {**profile_job, "DMLCTL_DATA_ON_NODES": "1"})
    staged.import_file("iris.csv")
    assert calls == [
        ("upload", here),
        ("import", here),
        ("import", str(tmp_path / "missing.csv")),
        ("import", here),
    ]
