"""The judgment of an H2O cloud from every node's own /3/Cloud (dmlctl.cluster.h2o_health), fed with
views built from a payload recorded from a real cloud, changed as each fault changes them."""

import copy
import json
from pathlib import Path

import pytest

from dmlctl.cluster import h2o_health

PAYLOADS = Path(__file__).parent / "payloads"
RECORDED = json.loads((PAYLOADS / "h2o_cloud_2nodes.json").read_text())
NOW = 1_795_238_100.0
HOSTS = {f"10.89.0.{10 + i}:54321": f"node{i}" for i in (1, 2, 3)}


def view(uptime_s: float, locked: bool, members=HOSTS, pids=None, heard=None, name="rec"):
    """A node's /3/Cloud: its own uptime and lock, the MEMBERS it sees with their pids and the
    times it last heard from them."""
    cloud = copy.deepcopy(RECORDED)
    template = cloud["nodes"][0]
    cloud.update(cloud_name=name, cloud_size=len(members), locked=locked, consensus=True)
    cloud["cloud_uptime_millis"] = int(uptime_s * 1000)
    cloud["nodes"] = []
    for i, address in enumerate(members):
        node = {**template, "ip_port": address, "h2o": "/" + address}
        node["pid"] = (pids or {}).get(address, 1000 + i)
        node["last_ping"] = int(((heard or {}).get(address, NOW - 1)) * 1000)
        node["healthy"] = NOW - node["last_ping"] / 1000 < 60
        cloud["nodes"].append(node)
    cloud["cloud_healthy"] = all(n["healthy"] for n in cloud["nodes"])
    return cloud


def judge(views, now=NOW, errors=None):
    return h2o_health.judge(views, HOSTS, "rec", now, errors)


def test_a_whole_cloud_that_started_together_is_healthy_locked_or_not():
    for locked in (False, True):
        verdict = judge({a: view(400 + i, locked) for i, a in enumerate(HOSTS)})
        assert verdict["state"] == "healthy" and verdict["serves_jobs"]
        assert verdict["findings"] == [] and verdict["next"] is None
        assert verdict["missing"] == []


def test_a_node_restarted_after_the_cloud_locked_is_broken_and_named():
    """The issue's case: consensus and cloud_healthy everywhere, node2 young and unlocked."""
    addresses = list(HOSTS)
    views = {
        addresses[0]: view(367.356, True, pids={addresses[1]: 4242}),
        addresses[1]: view(21.010, False, pids={addresses[1]: 4242}),
        addresses[2]: view(367.1, True, pids={addresses[1]: 4242}),
    }
    assert all(v["consensus"] and v["cloud_healthy"] for v in views.values())
    verdict = judge(views)
    assert verdict["state"] == "broken" and not verdict["serves_jobs"]
    (finding,) = verdict["findings"]
    assert finding["node"] == "node2" and finding["breaks_jobs"]
    assert "restarted at" in finding["what"] and "after the cloud locked" in finding["what"]
    assert "holds none of the cloud's data" in finding["what"]
    assert "re-forms by itself within about" in verdict["next"]
    assert "`dmlctl restart h2o`" in verdict["next"]


def test_a_restarted_node_that_a_hanging_job_locked_is_still_broken():
    """Every node locked, but node2 started minutes after the others did."""
    views = {a: view(400, True) for a in HOSTS}
    views["10.89.0.12:54321"] = view(30, True)
    verdict = judge(views)
    assert verdict["state"] == "broken"
    assert "370 s after the other members" in verdict["findings"][0]["what"]


def test_a_node_that_rejoined_an_unlocked_cloud_is_a_member():
    """Before any job H2O takes a restarted node back for real."""
    views = {a: view(400, False) for a in HOSTS}
    views["10.89.0.12:54321"] = view(30, False)
    assert judge(views)["state"] == "healthy"


def test_a_member_that_died_is_broken_until_the_others_re_form_without_it():
    dead = "10.89.0.13:54321"
    heard = {dead: NOW - 20}
    views = {a: view(400, True, heard=heard) for a in list(HOSTS)[:2]} | {dead: None}
    verdict = judge(views, errors={dead: "timed out"})
    assert verdict["state"] == "broken"
    assert "node3 (10.89.0.13:54321) does not answer: timed out" in verdict["findings"][0]["what"]
    assert "jobs that touch it hang" in verdict["findings"][0]["what"]
    # H2O gives it 60 s from its last heartbeat (40 s left), then the watchdog re-forms.
    assert verdict["heals_in_s"] == 40 + h2o_health.REFORM_S
    # After a minute without its heartbeat H2O itself calls it unhealthy.
    heard = {dead: NOW - 70}
    views = {a: view(400, True, heard=heard) for a in list(HOSTS)[:2]} | {dead: None}
    late = judge(views, errors={dead: "timed out"})
    assert any("H2O calls it unhealthy" in f["what"] for f in late["findings"])
    assert late["heals_in_s"] == h2o_health.REFORM_S


def test_survivors_without_the_lost_node_are_degraded_and_serve_jobs():
    survivors = dict(list(HOSTS.items())[:2])
    views = {a: view(50, True, members=survivors) for a in survivors}
    verdict = judge(views | {"10.89.0.13:54321": None}, errors={"10.89.0.13:54321": "refused"})
    assert verdict["state"] == "degraded" and verdict["serves_jobs"]
    assert verdict["missing"] == ["node3"]
    assert verdict["serving"] == list(survivors)
    assert "re-forms with it by itself" in verdict["next"]


def test_a_node_back_and_killed_by_a_locked_cloud_leaves_it_degraded():
    survivors = dict(list(HOSTS.items())[:2])
    back = "10.89.0.13:54321"
    views = {a: view(300, True, members=survivors) for a in survivors}
    views[back] = view(3, False, members={back: "node3"})
    verdict = judge(views)
    assert verdict["state"] == "degraded"
    assert "node3 is in a cloud of 1" in verdict["findings"][0]["what"]


def test_a_cloud_without_consensus_is_forming_not_healthy():
    views = {a: view(5, False) for a in HOSTS}
    views["10.89.0.11:54321"]["consensus"] = False
    verdict = judge(views)
    assert verdict["state"] == "broken"
    assert "no consensus yet" in verdict["findings"][0]["what"]


@pytest.mark.parametrize("views", [{}, {a: None for a in HOSTS}])
def test_no_answer_at_all_is_broken_and_says_start(views):
    verdict = judge(views)
    assert verdict["state"] == "broken"
    assert "`dmlctl start h2o`" in verdict["next"]


def test_another_cloud_name_is_not_this_cloud():
    views = {a: view(400, False, name="other") for a in HOSTS}
    verdict = judge(views)
    assert verdict["state"] == "broken"
    assert "runs cloud 'other', not 'rec'" in verdict["findings"][0]["what"]


def test_a_client_that_locked_one_node_of_a_cloud_that_started_together_is_no_fault():
    """h2o.connect() locks the node it talks to; the others lock with the first job."""
    views = {a: view(400 + i, False) for i, a in enumerate(HOSTS)}
    views["10.89.0.11:54321"] = view(402, True)
    assert judge(views)["state"] == "healthy"


def test_an_unlocked_node_that_started_just_after_the_locked_ones_is_not_yet_a_restart():
    views = {a: view(100, True) for a in HOSTS}
    views["10.89.0.12:54321"] = view(100 - h2o_health.LATE_S + 5, False)
    assert judge(views)["state"] == "healthy"
    views["10.89.0.12:54321"] = view(100 - h2o_health.LATE_S - 5, False)
    assert judge(views)["state"] == "broken"


def _recorded(name: str) -> dict:
    """The verdict on every node's /3/Cloud as a rehearsal lab's nodes answered (cloud
    `dmlctl`, node1-3 at 10.89.0.11-13; see the file's name)."""
    data = json.loads((PAYLOADS / name).read_text())
    return h2o_health.judge(data["views"], HOSTS, "dmlctl", data["now"], data["errors"])


def test_recorded_kill_9_after_a_job_is_broken_naming_the_restarted_node():
    data = json.loads((PAYLOADS / "h2o_clouds_restarted_after_lock.json").read_text())
    assert all(v["consensus"] and v["cloud_healthy"] for v in data["views"].values())
    verdict = _recorded("h2o_clouds_restarted_after_lock.json")
    assert verdict["state"] == "broken"
    assert [f["node"] for f in verdict["findings"]] == ["node2"]
    assert "after the cloud locked" in verdict["findings"][0]["what"]


def test_recorded_survivors_of_a_stopped_node_are_degraded():
    verdict = _recorded("h2o_clouds_node_lost.json")
    assert verdict["state"] == "degraded" and verdict["missing"] == ["node3"]
    assert "does not answer" in verdict["findings"][0]["what"]


def test_recorded_cloud_re_formed_by_the_watchdog_is_healthy():
    assert _recorded("h2o_clouds_reformed.json")["state"] == "healthy"
