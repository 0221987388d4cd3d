import pytest

from dmlctl import lab
from dmlctl.errors import UsageError
from dmlctl.playbooks import inventory


def _make_lab(name: str) -> lab.Lab:
    made = lab.Lab(name=name, network=f"dmlctl-{name}", nodes=(), created="now")
    made.dir.mkdir(parents=True)
    made.inventory.write_text("node1\n")
    lab.save(made)
    return made


def test_resolve_prefers_explicit_then_env_then_active_lab(tmp_path, monkeypatch):
    explicit = tmp_path / "explicit.ini"
    explicit.write_text("a\n")
    from_env = tmp_path / "env.ini"
    from_env.write_text("b\n")
    active = _make_lab("alpha")
    lab.set_active("alpha")

    assert inventory.resolve(explicit) == explicit
    monkeypatch.setenv("DMLCTL_INVENTORY", str(from_env))
    assert inventory.resolve() == from_env
    monkeypatch.delenv("DMLCTL_INVENTORY")
    assert inventory.resolve() == active.inventory


def test_resolve_falls_back_to_the_project_default(monkeypatch, tmp_path):
    default = tmp_path / "hosts.ini"
    default.write_text("x\n")
    monkeypatch.setattr(inventory, "DEFAULT_INVENTORY", default)
    assert inventory.resolve() == default


def test_resolve_missing_inventory_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist") as caught:
        inventory.resolve(tmp_path / "nope.ini")
    assert caught.value.exit_code == 2
    assert "dmlctl lab up" in caught.value.hint


INVENTORY = """\
node1 ansible_host=10.0.0.1
node2 ansible_host=10.0.0.2
node3 ansible_host=10.0.0.3
node4 ansible_host=10.0.0.4

[spark_master]
node1

[spark_workers]
node2
node3
node4

[h2o_nodes]
node1
node3
node4
"""


@pytest.mark.parametrize(
    ("pattern", "hosts"),
    [
        ("all", ["node1", "node2", "node3", "node4"]),
        ("spark_workers[0]", ["node2"]),
        ("spark_workers[1:]", ["node3", "node4"]),
        ("spark_workers[-1]", ["node4"]),
        ("h2o_nodes:&spark_workers", ["node3", "node4"]),
        ("h2o_nodes:!spark_master", ["node3", "node4"]),
        ("spark_master,node2", ["node1", "node2"]),
        ("spark_master:spark_workers[0]", ["node1", "node2"]),
        ("node[1:2]", []),  # a subscript of a host or group named "node"
        ("node*", ["node1", "node2", "node3", "node4"]),
        ("~node[34]", ["node3", "node4"]),
        ("node9", []),
        ("10.0.0.2", []),  # Ansible patterns name hosts, not their addresses
    ],
)
def test_limit_patterns_select_what_ansible_selects(tmp_path, pattern, hosts):
    # Expected hosts as `ansible all -i INVENTORY --limit PATTERN --list-hosts` lists them.
    path = tmp_path / "hosts.ini"
    path.write_text(INVENTORY)
    assert inventory.load(path).hosts_matching(pattern) == hosts


def test_limit_from_a_file_and_a_missing_file(tmp_path):
    path = tmp_path / "hosts.ini"
    path.write_text(INVENTORY)
    (tmp_path / "retry").write_text("node2\nnode4\n")
    inv = inventory.load(path)
    assert inv.hosts_matching(f"@{tmp_path / 'retry'}") == ["node2", "node4"]
    with pytest.raises(UsageError, match="Unable to find limit file") as caught:
        inv.hosts_matching(f"@{tmp_path / 'nope'}")
    assert caught.value.exit_code == 2


def test_limit_patterns_work_on_a_cached_inventory(tmp_path):
    path = tmp_path / "hosts.ini"
    path.write_text(INVENTORY)
    inventory.load_cached(path)
    assert inventory.load_cached(path).hosts_matching("spark_workers[0]") == ["node2"]
