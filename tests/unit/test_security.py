"""Secrets on the controller, profiles and credentials (no cluster needed)."""

import hashlib
import json
import stat

import pytest

from dmlctl.errors import UsageError
from dmlctl.security import cluster_secrets, credentials, profile, tls


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("DMLCTL_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_ensure_makes_private_secrets_once(state, tmp_path):
    box = cluster_secrets.ClusterSecrets.for_inventory(tmp_path / "inv.ini")
    assert box.ensure({"node1": "10.0.0.2", "node2": "10.0.0.3"})
    assert _mode(box.path) == 0o700
    for path in box.path.rglob("*"):
        if path.is_file():
            assert _mode(path) == 0o600, path
    secret, logins = box.spark_secret(), box.logins()
    assert len(secret) == 64 and set(logins) == {"dmlctl", "dmlctl-watchdog"}
    # A second run keeps everything; a new node gets its own keystore.
    assert not box.ensure({"node1": "10.0.0.2", "node2": "10.0.0.3"})
    assert box.ensure({"node1": "10.0.0.2", "node2": "10.0.0.3", "node3": "10.0.0.4"})
    assert box.spark_secret() == secret and box.logins() == logins
    names = tls.keystore_names(box.keystore_path("node3").read_bytes())
    assert names == ["10.0.0.4", "node3"]


def test_realm_holds_hashes_not_passwords(state, tmp_path):
    box = cluster_secrets.ClusterSecrets.for_inventory(tmp_path / "inv.ini")
    box.ensure({"n": "10.0.0.2"})
    password = box.add_users(["alice"])["alice"]
    realm = (box.path / cluster_secrets.REALM).read_text()
    assert password not in realm
    assert f"alice: MD5:{hashlib.md5(password.encode()).hexdigest()}" in realm
    assert box.users() == ["alice"]
    # A name granted again keeps its login; a roster adds the others in one change.
    assert box.add_users(["alice", "bob", "carol"])["alice"] == password
    assert box.users() == ["alice", "bob", "carol"]
    box.remove_users(["alice", "bob"])
    assert box.users() == ["carol"]
    assert "alice" not in (box.path / cluster_secrets.REALM).read_text()


def test_rotate_changes_every_secret(state, tmp_path):
    box = cluster_secrets.ClusterSecrets.for_inventory(tmp_path / "inv.ini")
    box.ensure({"n": "10.0.0.2"})
    box.add_users(["bob"])
    before = set(box.values())
    assert box.rotate() == ["bob"]
    assert not before & set(box.values())


@pytest.mark.parametrize("name", ["Alice", "dmlctl", "a b", "", "x" * 40])
def test_bad_user_names_are_refused(name):
    with pytest.raises(UsageError):
        cluster_secrets.check_user_name(name)


def _profile(**extra):
    fields = dict(
        name="alice", cluster="lab", spark_master_url="spark://10.0.0.2:7077",
        spark_ui="http://10.0.0.2:8080", spark_workers=["10.0.0.3"],
        h2o_url="https://10.0.0.2:54321", h2o_nodes=["10.0.0.2:54321"], h2o_cluster_name="c",
        versions={"spark": "4.3.0", "h2o": "3.46.0.12"}, spark_secret="s" * 64,
        h2o_user="alice", h2o_password="pw", ca_pem="-----BEGIN CERTIFICATE-----\n",
    )  # fmt: skip
    fields.update(extra)
    return profile.Profile(**fields)


def test_profile_round_trip_is_private(state, tmp_path):
    path = profile.write(_profile(), tmp_path / "alice.json")
    assert _mode(path) == 0o600
    loaded = profile.load(path)
    assert loaded.h2o_user == "alice" and loaded.spark_workers == ["10.0.0.3"]
    creds = credentials.from_profile(loaded)
    assert creds.spark_conf()["spark.authenticate.secret"] == "s" * 64
    assert creds.h2o_env()["DMLCTL_H2O_CACERT"].endswith(".pem")


def test_profile_readable_by_others_is_refused(state, tmp_path):
    path = profile.write(_profile(), tmp_path / "alice.json")
    path.chmod(0o644)
    with pytest.raises(UsageError, match="others can read"):
        profile.load(path)


def test_yaml_profile_and_broken_ones(state, tmp_path):
    import yaml

    path = tmp_path / "p.yml"
    path.write_text(yaml.safe_dump(_profile().to_dict()))
    path.chmod(0o600)
    assert profile.load(path).h2o_url.startswith("https://")
    data = _profile().to_dict()
    del data["spark"]["secret"]
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="lacks"):
        profile.load(path)
    path.write_text("[1, 2")
    with pytest.raises(UsageError):
        profile.load(path)


def test_insecure_credentials_add_nothing():
    creds = credentials.Credentials.none()
    assert creds.spark_conf() == {} and creds.h2o_env() == {} and creds.h2o_headers() == {}
    assert creds.h2o_scheme == "http"


def test_secret_spark_conf_goes_to_a_private_file_not_the_command_line(tmp_path):
    from dmlctl.jobs import catalogue
    from dmlctl.jobs.target import Target, job_command, secret_conf_file

    target = Target.cluster(
        "spark://10.0.0.2:7077", "10.0.0.1", "https://10.0.0.2:54321",
        secret_conf={"spark.authenticate.secret": "TOPSECRET"},
        h2o_env={"DMLCTL_H2O_USER": "u", "DMLCTL_H2O_PASSWORD": "pw"},
    )  # fmt: skip
    assert "TOPSECRET" not in repr(target)
    spark = catalogue.resolve_job("spark-kmeans")
    with secret_conf_file(target) as path:
        assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
        assert "TOPSECRET" in path.read_text()
        argv, env = job_command(spark, tmp_path, target, properties_file=path, base_env={})
        assert f"--properties-file {path}" in env["PYSPARK_SUBMIT_ARGS"]
        assert "TOPSECRET" not in " ".join(argv) + env["PYSPARK_SUBMIT_ARGS"]
        assert "--from-driver" in argv  # no staged copy on the nodes: read it on the driver
    assert not path.parent.exists()
    _, env = job_command(catalogue.resolve_job("h2o-rf"), tmp_path, target, base_env={})
    assert env["DMLCTL_H2O_USER"] == "u" and env["DMLCTL_H2O_URL"].startswith("https://")


def test_a_profile_gives_endpoints_without_an_inventory(state, tmp_path, monkeypatch):
    from dmlctl.cluster import connection

    path = profile.write(_profile(), tmp_path / "alice.json")
    monkeypatch.setenv("DMLCTL_PROFILE", str(path))
    conn = connection.connect(None)
    assert conn.inv is None and conn.creds.secure and conn.creds.h2o_user == "alice"
    assert conn.ends.spark_master_address == "10.0.0.2"
    assert conn.ends.h2o_nodes == {"10.0.0.2:54321": "10.0.0.2:54321"}
    with pytest.raises(UsageError, match="not both"):
        connection.connect(tmp_path / "inv.ini", path)


def test_security_facts_come_from_the_engines():
    from dmlctl.cluster.status import security_facts

    creds = credentials.Credentials(secure=True, h2o_user="u", h2o_password="p")
    clouds = {"a:1": ({"internal_security_enabled": True}, None), "b:1": (None, "down")}
    facts = security_facts(creds, clouds, anonymous=True, rest_open=False)
    assert facts["h2o"]["internal_security"] is True  # read from the node that answered
    clouds["b:1"] = ({"internal_security_enabled": False}, None)
    assert security_facts(creds, clouds, True, False)["h2o"]["internal_security"] is False


def test_anonymous_refusal_is_asked_of_the_engine(tmp_path):
    import http.server
    import threading

    from dmlctl.cluster.status import _refused

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            refuse = self.path == "/guarded" and "Authorization" not in self.headers
            self.send_response(401 if refuse else 200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    creds = credentials.Credentials(secure=False)
    try:
        assert _refused(f"{base}/guarded", creds, 2) is True
        assert _refused(f"{base}/open", creds, 2) is False
    finally:
        server.shutdown()
    assert _refused(f"{base}/guarded", creds, 1) is None  # nobody answers now


def test_a_refused_login_is_one_clear_error(state, tmp_path, monkeypatch):
    from dmlctl.cluster import connection, status
    from dmlctl.errors import OperationError

    path = profile.write(_profile(), tmp_path / "alice.json")
    conn = connection.connect(None, path)

    def refused(url, timeout=2.0, creds=None, *, authenticate=True):
        if "/3/Cloud" in url:
            return None, "HTTP 401: the login was refused"
        return {"status": "ALIVE", "workers": []}, None

    monkeypatch.setattr("dmlctl.cluster.status.fetch_json", refused)
    monkeypatch.setattr("dmlctl.cluster.status.reachable", lambda *a, **k: False)
    with pytest.raises(OperationError, match="refused the login") as caught:
        status.collect_for(conn)
    assert "ask the cluster's administrator" in caught.value.hint


def test_the_watchdog_login_is_made_kept_across_grants_and_rotated(state, tmp_path):
    box = cluster_secrets.ClusterSecrets.for_inventory(tmp_path / "inv.ini")
    box.ensure({"n": "10.0.0.2"})
    watchdog_user = cluster_secrets.WATCHDOG_USER
    watchdog = box.logins()[watchdog_user]
    box.add_users(["alice"])
    box.remove_users(["alice", watchdog_user])  # the watchdog's own login is never taken away
    assert box.logins()[watchdog_user] == watchdog
    assert watchdog_user + ": MD5:" in (box.path / cluster_secrets.REALM).read_text()
    assert box.users() == []
    assert box.rotate() == []  # nobody to hand a profile to
    assert box.logins()[watchdog_user] != watchdog
    with pytest.raises(UsageError, match="one of dmlctl's own logins"):
        box.add_users([watchdog_user])


def test_security_is_set_up_by_a_deploy_and_never_before(state, tmp_path):
    from dmlctl.playbooks.inventory import ClusterInventory
    from dmlctl.security import policy

    inv = ClusterInventory(tmp_path / "inv.ini", {"h2o_nodes": ["n"]},
                           {"n": {"ansible_host": "10.0.0.2"}})  # fmt: skip
    assert not policy.set_up(inv, inv.path)
    policy.playbook_vars(inv, inv.path, insecure=False)
    assert policy.set_up(inv, inv.path)
    # Deployed insecure: no secrets, but a mode remembered.
    other = ClusterInventory(tmp_path / "other.ini", inv.groups, inv.hostvars)
    assert not policy.set_up(other, other.path)
    policy.playbook_vars(other, other.path, insecure=True)
    assert policy.set_up(other, other.path) and not policy.secure(other, other.path)
