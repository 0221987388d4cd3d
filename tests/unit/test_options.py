"""Every option of every command is exercised: the cheap ones here, in-process with the
playbooks, probes and engines faked; the rest on the shared lab. The first test fails when a
command gains an option that no test names."""

import json
from pathlib import Path

import click
import pytest

from dmlctl.cli import COMMANDS, load_command
from dmlctl.cluster import status as cluster_status
from dmlctl.doctor import plan
from dmlctl.playbooks import runner

INVENTORY = (Path(__file__).parent / "payloads" / "two_nodes.ini").read_text()
TESTS = Path(__file__).parents[1]


def _commands(command: click.Command, path: list[str]):
    if isinstance(command, click.Group):
        for name in command.list_commands(None):
            yield from _commands(command.get_command(None, name), [*path, name])
    else:
        yield path, command


def _named_near(lines: list[str], command: str, option: str) -> bool:
    """Whether some test line quotes COMMAND with OPTION quoted within a few lines of it."""
    return any(
        f'"{command}"' in line and f'"{option}"' in "\n".join(lines[max(0, i - 2) : i + 4])
        for i, line in enumerate(lines)
    )


def test_every_option_of_every_command_is_named_by_a_test():
    lines = [line for p in TESTS.rglob("*.py") for line in p.read_text().splitlines()]
    missing = [
        f"{' '.join(path)} {option}"
        for name in COMMANDS
        for path, command in _commands(load_command(name), [name])
        for param in command.params
        for option in (*param.opts, *param.secondary_opts)
        if option.startswith("-") and option not in ("--help", "-h")
        if not _named_near(lines, path[-1], option)
    ]
    assert not missing, "options no test runs:\n" + "\n".join(missing)


@pytest.fixture
def inventory(inventory_file):
    return inventory_file


@pytest.fixture
def runs(playbook_runs, monkeypatch):
    """The playbook runs commands ask for; nothing runs. Doctor's probe finds no host (which
    stops no deploy: the run itself then names unreachable hosts)."""
    monkeypatch.setattr(plan, "probe", lambda *a, **k: {})
    return playbook_runs


def test_deploy_options_reach_ansible(cli, capsys, runs, inventory):
    code, _, err = cli("deploy", "--inventory", inventory, "-l", "node1", "--insecure", "-v")
    assert code == 0, err
    assert runs[-1]["limit"] == "node1" and runs[-1]["verbose"]
    assert runs[-1]["vars"]["dmlctl_insecure"] is True
    assert "security is OFF" in err
    # Every command that reaches the cluster says so while it stays open.
    code, out, err = cli("env", "-i", inventory, "--json")
    assert code == 0 and "security is OFF" in err and json.loads(out)["MASTER"]
    # The next plain deploy is secure again.
    code, out, _ = cli("deploy", "-i", inventory, "--limit", "node2", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    assert "dmlctl_insecure" not in runs[-1]["vars"] and runs[-1]["limit"] == "node2"


@pytest.mark.parametrize(
    ("command", "flags"),
    [
        ("start", ("--inventory", "--json", "--verbose", "-v")),
        ("stop", ("--inventory", "--json", "--verbose", "-v")),
        ("restart", ("--inventory", "--json", "--verbose", "-v")),
    ],
)
@pytest.mark.parametrize("engine", ["spark", "h2o", "all", None])
def test_engine_commands_take_each_engine_json_and_verbose(
    cli, capsys, runs, inventory, command, flags, engine
):
    inventory_flag, json_flag, *verbose_flags = flags
    chosen = [engine] if engine else []
    code, out, _ = cli(command, *chosen, inventory_flag, inventory, json_flag)
    assert code == 0 and json.loads(out)["hosts"] == {"node1": {
        "ok": 1, "changed": 0, "failures": 0, "unreachable": 0, "skipped": 0}}  # fmt: skip
    expected = ["spark", "h2o"] if engine in ("all", None) else [engine]
    assert runs[-1]["playbook"] == f"{command}.yml"
    assert runs[-1]["vars"]["dmlctl_engines"] == expected and not runs[-1]["verbose"]
    for verbose in verbose_flags:
        assert cli(command, *chosen, "-i", inventory, verbose)[0] == 0
        assert runs[-1]["verbose"]


def test_uninstall_yes_and_verbose(cli, capsys, runs, inventory):
    code, _, _ = cli("uninstall", "--inventory", inventory, "-y", "--verbose")
    assert code == 0 and runs[-1]["playbook"] == "uninstall.yml" and runs[-1]["verbose"]
    code, _, _ = cli("uninstall", "-i", inventory, "--yes", "-v", "--purge-data")
    assert code == 0 and runs[-1]["vars"]["h2o_uninstall_purge"] is True


def _model(workers_alive: int) -> dict:
    spark = {"master_url": "spark://127.0.0.1:7077", "ui": "http://127.0.0.1:8080",
             "status": "ALIVE", "workers_alive": workers_alive, "workers_expected": 1,
             "cores": 2, "memory_mb": 1024, "workers": [], "missing_workers": [],
             "healthy": True}  # fmt: skip
    h2o = {"url": "http://127.0.0.1:54321", "cloud_name": "lab", "version": "3.46.0.12",
           "cloud_size": 2, "nodes_expected": 2, "healthy": True, "consensus": True,
           "locked": False, "nodes": [], "problems": [], "free_mem": 0, "total_cores": 4,
           "uptime_s": 100 * workers_alive, "formed": "2026-11-25T12:00:00+00:00"}  # fmt: skip
    return {"healthy": True, "spark": spark, "h2o": h2o, "hosts": [], "security": None}


def test_status_watch_redraws_until_ctrl_c(cli, capsys, monkeypatch, inventory):
    models = iter([_model(1), _model(2), _model(3), _model(3)])
    monkeypatch.setattr(cluster_status, "collect_for", lambda conn, timeout=2.0: next(models))
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    from dmlctl.ui import status as status_view

    drawn, draw = [], status_view.render
    monkeypatch.setattr(
        status_view, "render", lambda m: drawn.append(m["h2o"]["uptime_s"]) or draw(m)
    )
    monkeypatch.setattr("dmlctl.ui.status.time.sleep", sleep)
    code, out, _ = cli("status", "--inventory", inventory, "-w")
    assert code == 0 and sleeps == [2.0, 2.0]
    # Two different pictures were drawn (the uptime changed); the last one stays on screen.
    assert drawn == [100, 200] and "3 min" in out
    code, out, _ = cli("status", "-i", inventory, "--watch", "--json")
    assert code == 0 and json.loads(out)["h2o"]["uptime_s"] == 300  # one JSON, no redraws


def test_doctor_and_logs_take_an_inventory(cli, capsys, runs, monkeypatch, inventory):
    code, out, _ = cli("doctor", "--inventory", inventory, "--json")
    assert code == 1 and {c["host"] for c in json.loads(out)["checks"]} == {"node1", "node2"}
    monkeypatch.setattr(runner, "run_command", lambda inv, hosts, command, **k: {
        h: (True, f"{h}: {command}") for h in hosts})  # fmt: skip
    code, out, _ = cli("logs", "spark-master", "--inventory", inventory, "-n", "5")
    assert code == 0 and "node1: journalctl --unit spark-master.service --lines 5" in out


@pytest.fixture
def healthy_cluster(monkeypatch):
    """A cluster whose status is healthy and whose versions are this machine's clients."""
    import importlib.metadata

    from dmlctl.jobs import cluster_target

    model = _model(1)
    model["h2o"]["version"] = importlib.metadata.version("h2o")
    monkeypatch.setattr(cluster_status, "collect_for", lambda conn, timeout=2.0: model)
    version = importlib.metadata.version("pyspark")
    monkeypatch.setattr(cluster_target, "spark_version", lambda ui: version)
    submitted = []

    def submit(job, target, run_dir, args=(), **_):
        submitted.append((job, target))
        raise SystemExit(0)

    monkeypatch.setattr("dmlctl.jobs.submit", submit)
    return submitted


def test_submit_cores_and_engine(cli, capsys, tmp_path, healthy_cluster, inventory):
    program = tmp_path / "mine.py"
    program.write_text("print('no engine imported here')\n")
    out_dir = str(tmp_path / "run")
    code, _, err = cli("submit", str(program), "--engine", "spark", "--cores", "2",
                           "--inventory", inventory, "--out", out_dir)  # fmt: skip
    assert code == 0, err
    job, target = healthy_cluster[-1]
    assert job.engine == "spark" and target.spark_conf["spark.cores.max"] == "2"
    code, _, err = cli("submit", "h2o-rf", "--cores", "2", "-i", inventory)
    assert code == 2 and "--cores applies to Spark jobs only" in err
    code, _, err = cli("submit", str(program), "--engine", "h2o", "-i", inventory,
                           "--out", str(tmp_path / "run2"))  # fmt: skip
    assert code == 0 and healthy_cluster[-1][0].engine == "h2o"


def test_env_json_names_the_cluster_without_secrets(cli, capsys, inventory):
    code, out, _ = cli("env", "--inventory", inventory, "--json")
    variables = json.loads(out)
    assert code == 0 and variables["MASTER"] == "spark://127.0.0.1:7077"
    assert variables["DMLCTL_H2O_URL"].endswith("127.0.0.1:54321")
