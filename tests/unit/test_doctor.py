"""doctor: the probe on this machine, and the judging of recorded answers."""

import importlib.util
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dmlctl.doctor import checks, plan
from dmlctl.paths import PLAYBOOK_DIR, ROLES_DIR
from dmlctl.playbooks.inventory import ClusterInventory

PROBE = PLAYBOOK_DIR / "files" / "doctor_probe.py"
ADDRESSES = {"n1": "10.0.0.1", "n2": "10.0.0.2", "n3": "10.0.0.3"}
JAVA_CHOICE = ROLES_DIR / "java" / "files" / "java_choice.py"
DEBIAN12 = {"system": {}, "packages": {17: "openjdk-17-jre-headless"}}
DEBIAN13 = {
    "system": {},
    "packages": {21: "openjdk-21-jre-headless", 25: "openjdk-25-jre-headless"},
}


def _java_choice_module():
    spec = importlib.util.spec_from_file_location("java_choice", JAVA_CHOICE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _java_answer(spec: dict, system: dict, packages: dict) -> dict:
    """What the java role's own java_choice.py answers on a host offering these Javas."""
    choice = _java_choice_module()
    plan_ = {}
    for engine, wants in spec["engines"].items():
        picked = choice.choose(
            wants["majors"], wants["beyond"], spec["pin"], system, packages, spec["artifact"]
        )
        plan_[engine] = {"home": "", "package": "", **picked, "majors": wants["majors"]}
    return {"plan": plan_, "system": sorted(system), "packages": sorted(packages)}


def _inventory(**node1_vars) -> ClusterInventory:
    hostvars = {name: {"ansible_host": ip} for name, ip in ADDRESSES.items()}
    hostvars["n1"].update(node1_vars)
    return ClusterInventory(
        path=Path("inv.ini"),
        groups={
            "spark_master": ["n1"],
            "spark_workers": ["n2", "n3"],
            "h2o_nodes": ["n1", "n2", "n3"],
        },
        hostvars=hostvars,
    )


def _healthy_answer(host: str, hp: plan.HostPlan) -> dict:
    return {
        "python": [*sys.version_info[:3]],
        "os": {"id": "debian", "id_like": "", "pretty": "Debian 12", "systemd": True},
        "java_choice": _java_answer(hp.java, **DEBIAN12),
        "memory": {"total_mb": 16000, "available_mb": 12000},
        "own_rss_mb": 0,
        "disk": [{"path": p, "checked": "/opt", "free_mb": 50000} for p in hp.paths.values()],
        "listeners": [],
        "addresses": ["127.0.0.1", ADDRESSES[host]],
        "peers": [{"address": a, "port": p, "result": "refused"} for _, _, a, p in hp.peers],
    }


def _judge(inv, change=lambda host, answer: None, down=()):
    plans = plan.plan(inv)
    answers = {}
    for host, hp in plans.items():
        answer = _healthy_answer(host, hp)
        change(host, answer)
        answers[host] = (
            ("unreachable", "ssh: connect to host: No route to host")
            if host in down
            else ("ok", answer)
        )
    return checks.evaluate(inv, plans, answers)


def test_plan_names_each_hosts_engine_ports_and_peers():
    plans = plan.plan(_inventory())
    assert plans["n1"].ports == {
        "spark_master_port": 7077,
        "spark_master_webui_port": 8080,
        "h2o_port": 54321,
        "h2o_port+1": 54322,
    }
    assert plans["n2"].ports["spark_worker_port"] == 7078
    assert ("n1", "spark_master_port", "10.0.0.1", 7077) in plans["n2"].peers
    assert ("n3", "h2o_port+1", "10.0.0.3", 54322) in plans["n2"].peers
    assert plans["n1"].own_users == ["spark", "h2o"]


def test_a_healthy_lab_has_no_failures():
    findings = _judge(_inventory())
    assert plan.failures(findings) == []
    assert {f.check for f in findings} >= {"ssh+sudo", "python", "java", "ports", "reach"}


def test_a_foreign_listener_names_the_host_port_and_process():
    def squat(host, answer):
        if host == "n2":
            answer["listeners"] = [
                {
                    "address": "0.0.0.0",
                    "port": 54321,
                    "process": {
                        "pid": 4242,
                        "name": "python3",
                        "user": "root",
                        "cmdline": "python3 -m http.server 54321",
                    },
                }
            ]

    [failure] = plan.failures(_judge(_inventory(), squat))
    assert (failure.host, failure.check) == ("n2", "ports")
    assert "54321 (h2o_port)" in failure.detail and "python3 (pid 4242" in failure.detail
    assert failure.fix


def test_dmlctls_own_services_may_hold_their_ports():
    def running(host, answer):
        answer["listeners"] = [
            {
                "address": ADDRESSES[host],
                "port": 54321,
                "process": {
                    "pid": 7,
                    "name": "java",
                    "user": "h2o",
                    "cmdline": "java -jar h2o.jar",
                },
            }
        ]

    assert plan.failures(_judge(_inventory(), running)) == []


def test_an_unreachable_host_is_named_once_and_not_blamed_on_its_peers():
    def cut(host, answer):
        for peer in answer["peers"]:
            if peer["address"] == ADDRESSES["n3"]:
                peer["result"] = "No route to host"

    failures = plan.failures(_judge(_inventory(), cut, down={"n3"}))
    assert [(f.host, f.check) for f in failures] == [("n3", "ssh")]
    assert "No route to host" in failures[0].detail


def test_a_firewalled_peer_port_fails_reach():
    def cut(host, answer):
        if host == "n2":
            answer["peers"][0]["result"] = "timed out"

    [failure] = plan.failures(_judge(_inventory(), cut))
    assert (failure.host, failure.check) == ("n2", "reach")
    assert "n1 10.0.0.1:7077 (spark_master_port): timed out" in failure.detail


@pytest.mark.parametrize(
    ("change", "check", "words"),
    [
        (lambda a: a.update(python=None), "python", "no /usr/bin/python3"),
        (
            lambda a: a.update(java_choice=_java_answer(_h2o_only(), **DEBIAN13)),
            "java",
            "no Java 8-17 for H2O",
        ),
        (lambda a: a["os"].update(id="alpine", pretty="Alpine"), "os", "not a supported OS"),
        (lambda a: a["memory"].update(total_mb=3000), "memory", "has 3000 MiB"),
        (lambda a: a["disk"][0].update(free_mb=100), "disk", "100 MiB free"),
        (lambda a: a.update(addresses=["10.9.9.9"]), "address", "not an address of this host"),
    ],
)
def test_each_failure_says_what_and_how_to_fix(change, check, words):
    [failure] = plan.failures(_judge(_inventory(), lambda h, a: change(a) if h == "n2" else None))
    assert (failure.host, failure.check) == ("n2", check)
    assert words in failure.detail and failure.fix


def test_settings_catch_colliding_ports_and_bad_sizes_without_a_machine():
    inv = _inventory(h2o_port=8080, h2o_max_heap="lots")
    failures = plan.settings_findings(inv, plan.plan(inv))
    assert {f.detail for f in failures} == {
        "h2o_max_heap=lots is not a size",
        "port 8080 is both spark_master_webui_port and h2o_port",
    }


@pytest.mark.parametrize("name", plan.OPTION_LISTS)
def test_settings_catch_options_given_as_text(name):
    inv = _inventory(**{name: '["-Xss4m"]'})
    [failure] = plan.settings_findings(inv, plan.plan(inv))
    assert (failure.host, failure.check) == ("n1", "settings")
    assert failure.detail == f'{name}=["-Xss4m"] is text, not a list of options'
    assert failure.fix == f"write it as a list: {name}={plan.OPTION_LISTS[name]}"
    inv = _inventory(**{name: ["-Xss4m"]})
    assert plan.settings_findings(inv, plan.plan(inv)) == []


@pytest.mark.parametrize(
    ("value", "mib"), [("512m", 512), ("2g", 2048), ("1.5G", 1536), ("768", 768), ("lots", None)]
)
def test_sizes_are_read_as_the_roles_read_them(value, mib):
    assert plan.size_mb(value) == mib


def test_the_probe_on_this_machine_names_a_listeners_process():
    with socket.socket() as listener, socket.socket() as guarded:
        listener.bind(("0.0.0.0", 0))
        listener.listen()
        port = listener.getsockname()[1]
        guarded.bind(("0.0.0.0", 0))
        guarded.listen()
        spec = {
            "ports": [port],
            # Guarded peers: by a free port (tried), by a listening one (never connected to).
            "peers": [
                ["127.0.0.1", port, None],
                ["127.0.0.1", 1, None],
                ["127.0.0.1", 1, 1],
                ["127.0.0.1", guarded.getsockname()[1], port],
            ],
            "paths": ["/nonexistent/dmlctl"],
            "own_users": [],
        }
        result = subprocess.run(
            [sys.executable, str(PROBE), json.dumps(spec)],
            capture_output=True,
            text=True,
            check=True,
        )
        guarded.settimeout(0.5)
        with pytest.raises(TimeoutError):
            guarded.accept()  # nothing connected to the guarded peer
    answer = json.loads(result.stdout)
    [held] = answer["listeners"]
    assert held["port"] == port and held["process"]["pid"] > 0
    assert [p["result"] for p in answer["peers"]] == ["open", "refused", "refused", "in use"]
    assert answer["disk"][0]["checked"] == "/"
    assert answer["python"][:2] == list(sys.version_info[:2])
    assert answer["memory"]["total_mb"] > 0


def _h2o_only() -> dict:
    return plan.java_spec(_inventory(), "n2", ["h2o"])


def _debian13(host, answer, plans):
    answer.update(java_choice=_java_answer(plans[host].java, **DEBIAN13))


def _judge_debian13(inv, python=None):
    plans = plan.plan(inv)

    def change(host, answer):
        _debian13(host, answer, plans)
        if python:
            answer["python"] = python

    return _judge(inv, change)


def _with_vars(**extra) -> ClusterInventory:
    base = _inventory()
    hostvars = {h: {**v, **extra} for h, v in base.hostvars.items()}
    return ClusterInventory(path=Path("inv.ini"), groups=base.groups, hostvars=hostvars)


def test_debian13_without_a_jdk_source_fails_java_with_fixes_that_exist_there():
    failures = plan.failures(_judge_debian13(_inventory()))
    assert {(f.host, f.check) for f in failures} == {(h, "java") for h in ADDRESSES}
    failure = failures[0]
    assert "no Java 8-17 for H2O" in failure.detail and "21, 25" in failure.detail
    assert "java_artifact_source: bundle" in failure.fix
    assert "h2o_allow_unsupported_java: true (H2O on Java 21" in failure.fix


def test_java_ranges_and_sources_are_read_from_the_inventory():
    """Debian 13 ships Java 21 and 25 only: Spark takes 21; H2O takes the JDK bundle, or Java 21
    with its own flag, or any range the inventory widens it to."""
    java = {
        f.host: f
        for f in _judge_debian13(_with_vars(dmlctl_artifact_source="bundle"))
        if f.check == "java"
    }
    assert java["n2"].status == "ok"
    assert "Spark: Java 21 (deploy installs openjdk-21-jre-headless)" in java["n2"].detail
    assert "H2O: Java 17 (deploy installs the controller's JDK 17 (bundle)" in java["n2"].detail
    flagged = {
        f.host: f
        for f in _judge_debian13(_with_vars(h2o_allow_unsupported_java=True))
        if f.check == "java"
    }
    assert "H2O: Java 21 with -allow_unsupported_java" in flagged["n1"].detail
    widened = {
        f.host: f for f in _judge_debian13(_with_vars(h2o_java_majors=[8, 25])) if f.check == "java"
    }
    assert "H2O: Java 25 (deploy installs openjdk-25-jre-headless)" in widened["n1"].detail


def test_a_pinned_java_the_system_lacks_fails_naming_the_pin():
    [*failures] = plan.failures(_judge_debian13(_with_vars(java_major_version=17)))
    assert failures and all(f.check == "java" for f in failures)
    assert "pinned release not offered" in failures[0].detail
    assert "remove java_major_version" in failures[0].fix


def test_python_path_is_read_from_the_inventory_and_checked_where_executors_run():
    """A worker's Python unlike the driver's is a warning; the master's is not checked."""
    other = [3, 13, 5] if sys.version_info[:2] != (3, 13) else [3, 12, 3]
    inv = _with_vars(spark_python="/opt/py/bin/python3", dmlctl_artifact_source="bundle")
    findings = _judge_debian13(inv, python=other)
    assert plan.failures(findings) == []
    python = {f.host: f for f in findings if f.check == "python"}
    assert python["n1"].status == "ok"  # the master runs no executors
    assert python["n2"].status == "warn" and "/opt/py/bin/python3 is" in python["n2"].detail
    assert "UDFs" in python["n2"].detail and "venv" in python["n2"].fix
