"""The status model, fed with payloads recorded from real Spark and H2O daemons."""

import http.server
import json
import threading
from pathlib import Path

import pytest

from dmlctl.cluster import status
from dmlctl.playbooks.inventory import ClusterInventory

PAYLOADS = Path(__file__).parent / "payloads"
SPARK = json.loads((PAYLOADS / "spark_master_2workers.json").read_text())
CLOUD = json.loads((PAYLOADS / "h2o_cloud_2nodes.json").read_text())
ALONE = json.loads((PAYLOADS / "h2o_cloud_alone.json").read_text())


def _inventory(
    workers=("127.0.0.1", "127.0.0.2"), h2o_ports=(54421, 54423), cloud="rec", **master_vars
):
    hostvars = {"m": {"ansible_host": "127.0.0.1", "spark_master_webui_port": 18080, **master_vars}}
    for i, ip in enumerate(workers):
        hostvars[f"w{i}"] = {"ansible_host": ip}
    for port in h2o_ports:
        hostvars[f"h{port}"] = {
            "ansible_host": "127.0.0.1",
            "h2o_port": port,
            "h2o_cluster_name": cloud,
        }
    return ClusterInventory(
        path=Path("inv.ini"),
        groups={
            "spark_master": ["m"],
            "spark_workers": [f"w{i}" for i in range(len(workers))],
            "h2o_nodes": [f"h{p}" for p in h2o_ports],
        },
        hostvars=hostvars,
    )


def test_spark_with_every_expected_worker_alive_is_healthy():
    model = status.spark_status(status.endpoints(_inventory()), SPARK, None)
    assert model["status"] == "ALIVE"
    assert (model["workers_alive"], model["workers_expected"]) == (2, 2)
    assert model["healthy"]
    assert model["ui"] == "http://127.0.0.1:18080"
    assert model["master_url"] == "spark://127.0.0.1:7077"
    assert {w["host"] for w in model["workers"]} == {"127.0.0.1", "127.0.0.2"}
    assert model["cores"] == 2 and model["memory_mb"] == 1024


def test_a_missing_worker_is_named():
    inv = _inventory(workers=("127.0.0.1", "127.0.0.2", "127.0.0.3"))
    model = status.spark_status(status.endpoints(inv), SPARK, None)
    assert not model["healthy"]
    assert model["missing_workers"] == ["127.0.0.3"]
    assert model["workers_alive"] == 2


def test_unreachable_master_is_reported_not_raised():
    model = status.spark_status(status.endpoints(_inventory()), None, "Connection refused")
    assert model["status"] == "UNREACHABLE"
    assert model["error"] == "Connection refused"
    assert not model["healthy"]


def test_h2o_cloud_of_every_expected_node_is_healthy():
    clouds = {"127.0.0.1:54421": (CLOUD, None), "127.0.0.1:54423": (CLOUD, None)}
    model = status.h2o_status(status.endpoints(_inventory()), clouds)
    assert model["healthy"] and model["consensus"] and not model["locked"]
    assert (model["cloud_size"], model["nodes_expected"]) == (2, 2)
    assert model["version"] == "3.46.0.12"
    assert model["cloud_name"] == "rec"
    assert [n["ip_port"] for n in model["nodes"]] == ["127.0.0.1:54421", "127.0.0.1:54423"]
    assert model["free_mem"] == sum(n["free_mem"] for n in model["nodes"]) > 0


def test_h2o_node_in_a_cloud_of_its_own_is_detected():
    inv = _inventory(h2o_ports=(54421, 54423, 54425))
    clouds = {
        "127.0.0.1:54421": (CLOUD, None),
        "127.0.0.1:54423": (CLOUD, None),
        "127.0.0.1:54425": (ALONE, None),
    }
    model = status.h2o_status(status.endpoints(inv), clouds)
    assert not model["healthy"]
    assert model["cloud_size"] == 2
    assert any("h54425 is in a cloud of 1" in p for p in model["problems"])


def test_h2o_wrong_cloud_name_and_silent_node_are_problems():
    inv = _inventory(cloud="trial1")
    clouds = {"127.0.0.1:54421": (CLOUD, None), "127.0.0.1:54423": (None, "timed out")}
    model = status.h2o_status(status.endpoints(inv), clouds)
    assert not model["healthy"]
    assert any("runs cloud 'rec', not 'trial1'" in p for p in model["problems"])
    assert any(
        "h54423 (127.0.0.1:54423) does not answer: timed out" in p for p in model["problems"]
    )


@pytest.fixture
def fake_engines():
    """One loopback HTTP server answering like a Spark master and two H2O nodes."""
    routes = {"/json/": SPARK, "/3/Cloud": CLOUD}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(routes[self.path]).encode()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_collect_reads_both_engines_over_http(fake_engines):
    port = fake_engines
    inv = _inventory(h2o_ports=(port,), spark_master_webui_port=port)
    # The recorded cloud lists two members; the inventory here expects one.
    model = status.collect(inv, timeout=1)
    assert model["spark"]["healthy"]
    assert model["h2o"]["cloud_size"] == 2
    assert not model["h2o"]["healthy"]
    assert set(model) >= {"healthy", "spark", "h2o", "hosts"}
    assert {h["name"] for h in model["hosts"]} == set(inv.hosts)


def test_endpoints_come_from_the_inventory_else_the_engine_registry():
    inv = _inventory()
    ends = status.endpoints(inv)
    assert ends.spark_master_url == "spark://127.0.0.1:7077"  # the registry's default port
    assert ends.spark_ui == "http://127.0.0.1:18080"  # the inventory's own port
    assert ends.spark_python == "/usr/bin/python3"
    assert ends.h2o_url == "http://127.0.0.1:54421"
    assert ends.h2o_nodes == {"127.0.0.1:54421": "h54421", "127.0.0.1:54423": "h54423"}
    templated = _inventory(spark_master_port="{{ some_fact }}", spark_python="/opt/py/bin/python")
    assert status.endpoints(templated).spark_master_url == "spark://127.0.0.1:7077"
    assert status.endpoints(templated).spark_python == "/opt/py/bin/python"


def test_endpoints_from_an_inventory_file_with_templated_and_group_variables(tmp_path):
    from dmlctl.playbooks import inventory

    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "h2o_nodes.yml").write_text("h2o_port: '{{ base_port + 1 }}'\n")
    path = tmp_path / "hosts.ini"
    path.write_text(
        "n1 ansible_host=10.0.0.1\nn2 ansible_host=10.0.0.2\n"
        "[spark_master]\nn1\n[spark_workers]\nn2\n[h2o_nodes]\nn1\nn2\n"
        "[all:vars]\nbase_port=60000\n"
        "spark_master_webui_port='{{ ansible_memtotal_mb }}'\n"  # needs facts: the default
        "h2o_cluster_name=c-{{ groups['h2o_nodes'] | length }}\n"
    )
    ends = status.endpoints(inventory.load(path))
    assert ends.h2o_nodes == {"10.0.0.1:60001": "n1", "10.0.0.2:60001": "n2"}
    assert ends.h2o_cluster_name == "c-2"
    assert ends.spark_ui == "http://10.0.0.1:8080"
    assert ends.spark_workers == ("10.0.0.2",)


def test_missing_workers_are_named_as_the_inventory_names_them():
    inv = _inventory()
    assert status.worker_names(inv, ["127.0.0.2", "10.9.9.9"]) == ["w1 (127.0.0.2)", "10.9.9.9"]


# ------------------------------------------------------- an inventory never deployed from here


@pytest.fixture
def nothing_answers(monkeypatch):
    """No engine and no host answers (as before a first deploy); nothing goes on the network."""
    monkeypatch.setattr(status, "fetch_json", lambda url, *a, **k: (None, "Connection refused"))
    monkeypatch.setattr(status, "reachable", lambda *a, **k: False)


def _security_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("Security:"))


def test_status_of_a_never_deployed_inventory_says_security_is_not_deployed_yet(
    cli, capsys, nothing_answers, inventory_file
):
    code, out, _ = cli("status", "-i", inventory_file)
    line = _security_line(out)
    assert code == 1 and "not deployed yet (run `dmlctl deploy`)" in line
    assert "HTTPS" not in line and "TLS" not in line and "auth" not in line
    code, out, _ = cli("status", "-i", inventory_file, "--json")
    security = json.loads(out)["security"]
    assert code == 1 and security["set_up"] is False
    # The same keys as ever; what only dmlctl's secrets could claim is null, not true.
    assert security["secure"] is None and security["h2o"]["https"] is None
    assert security["spark"]["authenticated_by"] is None
    assert set(security["h2o"]) == {"https", "internal_security", "anonymous_refused"}


def test_status_reports_the_security_a_deploy_set_up(cli, capsys, nothing_answers, inventory_file):
    from dmlctl.playbooks.inventory import load
    from dmlctl.security import policy

    inv = load(Path(inventory_file))
    policy.playbook_vars(inv, inv.path)  # what a deploy does first: the secrets and the CA
    code, out, _ = cli("status", "-i", inventory_file)
    assert code == 1 and "Spark shared-secret auth" in _security_line(out)
    code, out, _ = cli("status", "-i", inventory_file, "--json")
    security = json.loads(out)["security"]
    assert code == 1 and security["set_up"] is True and security["secure"] is True
    assert security["h2o"]["https"] is True


def test_an_insecure_inventory_never_deployed_is_not_called_deployed_insecure(
    cli, capsys, nothing_answers, inventory_file
):
    from dmlctl.playbooks.inventory import load
    from dmlctl.security import policy

    Path(inventory_file).write_text(Path(inventory_file).read_text() + "\n[all:vars]\n"
                                    "dmlctl_insecure=true\n")  # fmt: skip
    code, out, _ = cli("status", "-i", inventory_file)
    assert code == 1 and "not deployed yet" in _security_line(out)
    assert "OFF" not in _security_line(out)
    inv = load(Path(inventory_file))
    policy.playbook_vars(inv, inv.path)  # a deploy remembers the insecure mode
    code, out, _ = cli("status", "-i", inventory_file)
    assert code == 1 and "OFF (deployed insecure)" in _security_line(out)


def test_engines_that_answer_without_secrets_here_are_not_called_undeployed(monkeypatch):
    from rich.console import Console

    from dmlctl.ui import status as status_view

    monkeypatch.setattr(status, "fetch_json", lambda url, *a, **k: (
        (SPARK, None) if url.endswith("/json/") else (None, "Connection refused")))  # fmt: skip
    monkeypatch.setattr(status, "reachable", lambda *a, **k: True)
    model = status.collect(_inventory(), timeout=1, security_set_up=False)
    console = Console(width=200, record=True, color_system=None)
    console.print(status_view.render(model))
    line = _security_line(console.export_text())
    assert "not set up from here: no secrets for this inventory (run `dmlctl deploy`)" in line
