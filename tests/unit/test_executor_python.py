"""`submit` compares the driver's Python minor version with the one the executors reported at
deploy time: match, mismatch (exit 2, says how to fix), unknown (an older deploy: no check)."""

import sys

import pytest

from dmlctl.cluster import connection, executor_python
from dmlctl.jobs import cluster_target
from dmlctl.security import cluster_secrets, profile

DRIVER = f"{sys.version_info.major}.{sys.version_info.minor}"
OTHER = "2.7"


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("DMLCTL_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def _profile_file(tmp_path, versions: dict) -> str:
    prof = profile.Profile(
        name="alice", cluster="lab", spark_master_url="spark://10.0.0.2:7077",
        spark_ui="http://10.0.0.2:8080", spark_workers=["10.0.0.3"],
        h2o_url="https://10.0.0.2:54321", h2o_nodes=["10.0.0.2:54321"], h2o_cluster_name="c",
        versions=versions, spark_secret="s" * 64, h2o_user="alice", h2o_password="pw",
        ca_pem="-----BEGIN CERTIFICATE-----\n",
    )  # fmt: skip
    return str(profile.write(prof, tmp_path / "alice.json"))


def test_same_minor_and_unknown_agree():
    import platform

    # The driver's version as the platform reports it: major.minor, no patch level.
    assert executor_python.driver_version() == ".".join(platform.python_version_tuple()[:2])
    assert executor_python.mismatch("3.12", driver="3.12") is None
    assert executor_python.mismatch(None, driver="3.12") is None


def test_a_mismatch_says_what_differs_and_how_to_fix():
    assert executor_python.mismatch("3.11,3.13", driver="3.12") == (
        "this driver runs Python 3.12, the executors Python 3.11 and 3.13"
    )
    fix = executor_python.fix("3.11", from_profile=False, driver="3.12")
    assert "Python 3.11 venv" in fix and "spark_python to a Python 3.12" in fix
    # A profile's holder cannot redeploy.
    assert "spark_python" not in executor_python.fix("3.11", from_profile=True)


def test_deploy_events_give_the_workers_versions():
    seen = executor_python.Seen()
    assert seen.versions is None
    for version in ("3.11", "3.11"):
        res = {"ansible_facts": {executor_python.FACT: version}}
        seen.feed({"event": "runner_on_ok", "event_data": {"host": "w", "res": res}})
    seen.feed({"event": "runner_on_failed", "event_data": {"res": {"ansible_facts": {}}}})
    assert seen.versions == "3.11"


def test_recorded_in_the_clusters_state(state, tmp_path):
    inv = tmp_path / "inv.ini"
    box = cluster_secrets.ClusterSecrets.for_inventory(inv)
    box.ensure({"n1": "10.0.0.2"}, insecure=True)
    assert box.executor_python is None
    box.note_executor_python("3.11")
    assert box.executor_python == "3.11" and box.insecure


def test_a_mismatched_profile_is_noted_not_refused(state, tmp_path):
    _profile_file(tmp_path, {"spark": "4.3.0", executor_python.PROFILE_KEY: OTHER})
    conn = connection.connect(None, tmp_path / "alice.json")
    assert cluster_target.recorded_executor_python(conn) == OTHER
    differs, fix = cluster_target.python_mismatch(conn)
    assert differs == f"this driver runs Python {DRIVER}, the executors Python {OTHER}"
    assert "spark_python" not in fix


def test_a_profile_without_the_version_is_not_checked(state, tmp_path):
    _profile_file(tmp_path, {"spark": "4.3.0"})
    conn = connection.connect(None, tmp_path / "alice.json")
    assert cluster_target.recorded_executor_python(conn) is None
