"""The inventory `lab up` writes, read back by Ansible's own parser."""

from pathlib import Path

import pytest
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.vars.manager import VariableManager

from dmlctl.lab.inventory import Host, render_lab_inventory


def _load(tmp_path: Path, text: str) -> InventoryManager:
    path = tmp_path / "inventory.ini"
    path.write_text(text)
    return InventoryManager(loader=DataLoader(), sources=[str(path)])


def _group(inv: InventoryManager, name: str) -> list[str]:
    return sorted(h.name for h in inv.groups[name].get_hosts())


def test_three_node_lab_inventory_has_the_design_groups(tmp_path):
    hosts = [Host("node1", "10.89.0.2"), Host("node2", "10.89.0.3"), Host("node3", "10.89.0.4")]
    text = render_lab_inventory(hosts, lab="lab", user="sysadm", private_key=Path("/k/id"))
    inv = _load(tmp_path, text)

    assert _group(inv, "spark_master") == ["node1"]
    assert _group(inv, "spark_workers") == ["node2", "node3"]
    assert _group(inv, "h2o_nodes") == ["node1", "node2", "node3"]
    variables = VariableManager(loader=DataLoader(), inventory=inv)
    node2 = variables.get_vars(host=inv.get_host("node2"))
    assert node2["ansible_host"] == "10.89.0.3"
    assert node2["ansible_user"] == "sysadm"
    assert node2["ansible_ssh_private_key_file"] == "/k/id"
    assert "StrictHostKeyChecking=no" in node2["ansible_ssh_common_args"]
    assert (node2["h2o_max_heap"], node2["spark_worker_memory"]) == ("1g", "2g")
    assert node2["dmlctl_artifact_source"] == "bundle"


def test_single_node_lab_is_in_every_group(tmp_path):
    text = render_lab_inventory(
        [Host("node1", "10.89.0.2")], lab="one", user="sysadm", private_key=Path("/k")
    )
    inv = _load(tmp_path, text)
    for group in ("spark_master", "spark_workers", "h2o_nodes"):
        assert _group(inv, group) == ["node1"]


def test_empty_lab_inventory_is_refused():
    with pytest.raises(ValueError):
        render_lab_inventory([], lab="x", user="u", private_key=Path("/k"))
