"""`--limit` selects the hosts Ansible selects, on the shared 3-node lab (node1 master, node2-3
workers, all H2O): check-mode deploys, which change nothing on the nodes."""

import json

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("pattern", "hosts"),
    [
        ("all", ["node1", "node2", "node3"]),
        ("spark_workers[0]", ["node2"]),
        ("h2o_nodes:&spark_workers", ["node2", "node3"]),
    ],
)
def test_limit_runs_on_the_hosts_ansible_selects(cluster, pattern, hosts):
    assert cluster.deploy.returncode == 0, cluster.deploy.stderr[-3000:]
    # --verbose too: Ansible's own output goes to stderr, stdout stays JSON.
    result = cluster.dmlctl(
        "deploy", "--check", "--limit", pattern, "--json", "--verbose",
        "-i", str(cluster.inventory),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    recap = json.loads(result.stdout)
    assert recap["ok"] is True
    assert sorted(recap["hosts"]) == hosts
    assert "PLAY RECAP" in result.stderr


def test_limit_that_ansible_matches_to_nothing_is_refused(cluster):
    node2_address = next(
        line.split("ansible_host=")[1].split()[0]
        for line in cluster.inventory.read_text().splitlines()
        if line.startswith("node2 ")
    )
    result = cluster.dmlctl("deploy", "--limit", node2_address, "-i", str(cluster.inventory))
    assert result.returncode == 2
    assert "use node2" in result.stderr
