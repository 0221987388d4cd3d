"""Security off for an open classroom demo (`dmlctl deploy --insecure`), then on again, on the
session's 3-node lab: the roles' open path across a whole cluster (molecule's `engines` scenario
proves it on one node, and that a second run changes nothing), the lecture's job on it, and the
next plain deploy making it secure again."""

import json
import urllib.request

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.disturbs_cluster]


def _status(cluster) -> dict:
    result = cluster.dmlctl("status", "--json", "-i", str(cluster.inventory), timeout=60)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return json.loads(result.stdout)


def test_deploy_insecure_runs_open_then_a_plain_deploy_secures_it_again(cluster, tmp_path):
    inventory = str(cluster.inventory)
    try:
        off = cluster.dmlctl("deploy", "--insecure", "-i", inventory, timeout=1800)
        assert off.returncode == 0, off.stderr[-3000:]
        assert "security is OFF" in off.stderr
        model = _status(cluster)
        assert model["healthy"] and model["security"]["secure"] is False
        assert model["h2o"]["url"].startswith("http://")
        with urllib.request.urlopen(model["h2o"]["url"] + "/3/Cloud", timeout=10) as response:
            assert json.loads(response.read())["cloud_size"] == 3  # no login asked
        out = tmp_path / "open-rf"
        rf = cluster.dmlctl("submit", "h2o-rf", "-i", inventory, "--out", str(out))
        assert rf.returncode == 0, rf.stdout[-2000:] + rf.stderr[-2000:]
        result = json.loads((out / "result.json").read_text())
        assert sum(map(sum, result["confusion_matrix"]["rows"])) == result["test_rows"]
    finally:
        on = cluster.dmlctl("deploy", "-i", inventory, timeout=1800)
    assert on.returncode == 0, on.stderr[-3000:]
    model = _status(cluster)
    assert model["healthy"] and model["security"]["secure"] is True
    assert model["h2o"]["url"].startswith("https://")
