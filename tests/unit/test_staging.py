import os
from pathlib import Path

import pytest

from dmlctl import runner, staging
from dmlctl.errors import OperationError
from dmlctl.inventory import ClusterInventory


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setattr(staging, "STAGE_DIR", tmp_path / "stage")
    path = tmp_path / "inventory.ini"
    path.write_text("x\n")
    inv = ClusterInventory(
        path=path,
        groups={"spark_master": ["n1"], "spark_workers": ["n2"], "h2o_nodes": ["n1", "n2"]},
        hostvars={"n1": {}, "n2": {}},
    )
    source = tmp_path / "iris.csv"
    source.write_text("a,b\n1,2\n")
    copies = []

    def fake_run_module(inventory, hosts, module, args):
        copies.append((module, tuple(hosts), args["dest"]))
        return {host: (True, {}) for host in hosts}

    monkeypatch.setattr(runner, "run_module", fake_run_module)
    return inv, source, copies


def test_stages_once_to_a_content_addressed_path_here_and_on_every_node(setup):
    inv, source, copies = setup
    first = staging.stage(inv, source)
    assert Path(first).read_text() == source.read_text()
    assert Path(first).name.startswith("iris-") and first.endswith(".csv")
    assert copies == [("ansible.builtin.copy", ("n1", "n2"), f"{staging.STAGE_DIR}/")]
    assert staging.stage(inv, source) == first
    assert len(copies) == 1


def test_a_playbook_run_or_a_rewritten_inventory_stages_again(setup):
    inv, source, copies = setup
    staging.stage(inv, source)
    staging.forget(inv.path)
    staging.stage(inv, source)
    assert len(copies) == 2
    stat = inv.path.stat()
    os.utime(inv.path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    staging.stage(inv, source)
    assert len(copies) == 3


def test_a_node_that_cannot_take_the_copy_is_named(setup, monkeypatch):
    inv, source, _ = setup
    monkeypatch.setattr(
        runner,
        "run_module",
        lambda inventory, hosts, module, args: {
            "n1": (True, {}),
            "n2": (False, {"msg": "disk full"}),
        },
    )
    with pytest.raises(OperationError, match="n2: disk full"):
        staging.stage(inv, source)
    assert staging._load(inv.path) == {}
