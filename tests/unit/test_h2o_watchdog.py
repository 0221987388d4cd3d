"""The nodes' watchdog (roles/h2o/files/h2o_watchdog.py) against a faked cloud: which node acts
on which fault, and that nothing it does can start a stopped H2O or loop."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "roles" / "h2o" / "files" / "h2o_watchdog.py"
spec = importlib.util.spec_from_file_location("h2o_watchdog", SCRIPT)
watchdog = importlib.util.module_from_spec(spec)
spec.loader.exec_module(watchdog)

NODES = ["10.0.0.1:54321", "10.0.0.2:54321", "10.0.0.3:54321"]
NOW = 1_800_000_000.0


def cloud_view(uptime, locked, members=NODES, pids=None, healthy=True, name="dmlctl"):
    nodes = [
        {"ip_port": m, "pid": (pids or {}).get(m, 100 + i), "healthy": healthy or m != NODES[2]}
        for i, m in enumerate(members)
    ]
    return {"cloud_name": name, "cloud_uptime_millis": int(uptime * 1000), "locked": locked,
            "nodes": nodes}  # fmt: skip


class FakeCloud:
    def __init__(self, views):
        self.views, self.posts = views, []

    def call(self, address, path, method="GET"):
        if method == "POST":
            self.posts.append((address, path))
            return {}
        if path == "/3/Jobs":
            return {"jobs": []}
        return self.views.get(address)


@pytest.fixture
def make(monkeypatch, tmp_path):
    killed = []
    monkeypatch.setattr(watchdog, "main_pid", lambda unit: 4242 if not killed else 0)
    monkeypatch.setattr(watchdog, "unit_state", lambda unit: "active")
    monkeypatch.setattr(watchdog.os, "kill", lambda pid, sig: killed.append((pid, sig)))

    def made(me, views, **overrides):
        config = {"name": "dmlctl", "self": me, "flatfile": NODES, "interval": 5, "confirm": 2,
                  "grace": 30, "together": 60, "rejoin_wait": 600, "cooldown": 120,
                  "stop_timeout": 0, "unit": "h2o.service"}  # fmt: skip
        config["state"] = str(tmp_path / me)
        config.update(overrides)
        dog = watchdog.Watchdog(config, FakeCloud(views))
        dog.killed = killed
        return dog

    return made


def _pids(me):
    return {me: 4242}


def test_a_healthy_locked_cloud_is_left_alone(make):
    views = {n: cloud_view(400, True, pids=_pids(NODES[0])) for n in NODES}
    dog = make(NODES[0], views)
    for i in range(5):
        assert dog.check(NOW + 5 * i) == []
    assert dog.killed == [] and dog.cloud.posts == []


def test_old_members_and_the_restarted_one_restart_after_two_checks(make):
    """kill -9 of node2 after a job: node1 (locked, old) restarts; so does node2 (rule E)."""
    views = {n: cloud_view(400, True, pids=_pids(NODES[0])) for n in NODES}
    old = make(NODES[0], views)
    old.check(NOW)  # sees the cloud locked, records pids
    views[NODES[1]] = cloud_view(8, False)
    views[NODES[0]] = cloud_view(405, True, pids={NODES[0]: 4242, NODES[1]: 999})
    assert old.check(NOW + 5) and old.killed == []  # once is not enough
    old.check(NOW + 10)
    assert old.killed and old.killed[0][0] == 4242

    views[NODES[1]] = cloud_view(8, False, pids={NODES[1]: 4242})
    young = make(NODES[1], dict(views))
    faults = young.check(NOW)
    assert faults and faults[0].startswith("E|")
    young.check(NOW + 5)
    assert young.killed


def test_a_client_that_locked_one_node_is_no_fault(make):
    views = {n: cloud_view(400, False) for n in NODES}
    views[NODES[0]] = cloud_view(401, True, pids=_pids(NODES[0]))
    dog = make(NODES[0], views)
    for i in range(4):
        assert dog.check(NOW + 5 * i) == []
    assert make(NODES[1], views).check(NOW) == []


def test_a_dead_member_makes_the_survivors_restart(make):
    views = {n: cloud_view(400, True, pids=_pids(NODES[0]), healthy=False) for n in NODES[:2]}
    dog = make(NODES[0], views)
    dog.check(NOW)
    dog.check(NOW + 5)
    assert dog.killed


def test_a_young_node_does_not_restart_itself_for_a_dead_member(make):
    views = {n: cloud_view(10, True, pids=_pids(NODES[0]), healthy=False) for n in NODES[:2]}
    dog = make(NODES[0], views)
    for i in range(3):
        dog.check(NOW + 5 * i)
    assert dog.killed == []


def test_a_node_back_after_the_others_locked_without_it_asks_them_to_re_form(make):
    survivors = NODES[:2]
    views = {n: cloud_view(300, True, members=survivors) for n in survivors}
    views[NODES[2]] = None  # killed by the locked cloud each time it starts
    dog = make(NODES[2], views)
    dog.check(NOW)
    assert dog.cloud.posts == []
    # Its own restart (with its H2O) does not reset the count: it is kept on disk.
    again = make(NODES[2], views)
    again.check(NOW + 5)
    assert again.cloud.posts == [(NODES[0], "/3/Shutdown")]
    again.check(NOW + 10)
    again.check(NOW + 15)
    assert len(again.cloud.posts) == 1  # at most once per cooldown


def test_nothing_is_done_for_a_stopped_h2o(make, monkeypatch):
    monkeypatch.setattr(watchdog, "unit_state", lambda unit: "inactive")
    survivors = NODES[:2]
    views = {n: cloud_view(300, True, members=survivors) for n in survivors}
    dog = make(NODES[2], views)
    for i in range(3):
        dog.check(NOW + 5 * i)
    assert dog.cloud.posts == [] and dog.killed == []


def test_the_config_file_and_flatfile_are_read(tmp_path):
    flatfile = tmp_path / "flatfile.txt"
    flatfile.write_text("# managed\n10.0.0.1:54321\n10.0.0.2:54321\n")
    conf = tmp_path / "watchdog.conf"
    conf.write_text(
        "# managed\n[watchdog]\nname = dmlctl\nself = 10.0.0.1:54321\n"
        f"flatfile_path = {flatfile}\nunit = h2o.service\nstate = /run/x\nca =\ncredentials =\n"
        "interval = 5\nconfirm = 2\ngrace = 30\ntogether = 60\nrejoin_wait = 600\n"
        "cooldown = 120\ntimeout = 3\nstop_timeout = 30\n"
    )
    config = watchdog.load_config(str(conf))
    assert config["flatfile"] == ["10.0.0.1:54321", "10.0.0.2:54321"]
    assert config["ca"] is None and config["confirm"] == 2
    assert watchdog.Cloud(config).scheme == "http"
