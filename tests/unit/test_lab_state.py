import json

import pytest

from dmlctl import lab
from dmlctl.errors import OperationError, UsageError
from dmlctl.lab import nodes, podman


def _lab(name: str, nodes: int = 2) -> lab.Lab:
    return lab.Lab(
        name=name,
        network=f"dmlctl-{name}",
        nodes=tuple(
            lab.Node(f"node{i}", f"dmlctl-{name}-node{i}", f"10.89.0.{i + 1}")
            for i in range(1, nodes + 1)
        ),
        created="2026-01-01T00:00:00+00:00",
    )


def _saved(name: str, nodes: int = 2) -> lab.Lab:
    made = _lab(name, nodes)
    made.dir.mkdir(parents=True)
    lab.save(made)
    return made


def test_state_round_trips_and_lists_sorted():
    _saved("beta")
    alpha = _saved("alpha", 3)
    assert lab.load("alpha") == alpha
    assert [x.name for x in lab.list_labs()] == ["alpha", "beta"]
    on_disk = json.loads((alpha.dir / "lab.json").read_text())
    assert on_disk["inventory"].endswith("labs/alpha/inventory.ini")
    assert on_disk["nodes"][2] == {
        "name": "node3",
        "container": "dmlctl-alpha-node3",
        "ip": "10.89.0.4",
        "os": "bookworm",
    }


def test_active_lab_follows_the_marker_and_ignores_a_removed_lab():
    assert lab.active() is None
    made = _saved("alpha")
    lab.set_active("alpha")
    assert lab.active() == made
    (made.dir / "lab.json").unlink()
    assert lab.active() is None
    lab.set_active(None)
    assert lab.active() is None


def test_resolve_name_uses_flag_then_active_then_the_only_lab():
    assert lab.resolve_name("given") == "given"
    with pytest.raises(UsageError, match="no active lab"):
        lab.resolve_name(None)
    _saved("only")
    assert lab.resolve_name(None) == "only"
    _saved("other")
    with pytest.raises(UsageError):
        lab.resolve_name(None)
    lab.set_active("other")
    assert lab.resolve_name(None) == "other"


@pytest.mark.parametrize("name", ["", "Lab", "1lab", "a b", "x" * 25, "../etc"])
def test_bad_names_are_refused(name):
    with pytest.raises(UsageError, match="invalid lab name"):
        lab.validate_name(name)


def test_node_lookup_by_name_or_ip_and_clear_error():
    made = _lab("alpha", 2)
    assert made.node("node2").ip == "10.89.0.3"
    assert made.node("10.89.0.2").name == "node1"
    with pytest.raises(UsageError, match=r"has no node 'node7'.*node1, node2"):
        made.node("node7")


def test_ssh_command_uses_the_lab_key_and_user():
    made = _lab("alpha", 1)
    argv = lab.ssh_command(made, "node1", ["hostname"])
    assert argv[0] == "ssh"
    assert argv[argv.index("-i") + 1] == str(made.private_key)
    assert argv[-2:] == ["sysadm@10.89.0.2", "hostname"]


@pytest.mark.parametrize("nodes", [0, -1, lab.MAX_NODES + 1])
def test_up_refuses_bad_node_counts_before_touching_podman(nodes, monkeypatch):
    monkeypatch.setattr(podman, "run", lambda *a, **k: pytest.fail("podman was called"))
    with pytest.raises(UsageError, match="--nodes"):
        lab.up(nodes, "alpha")


def test_up_refuses_a_name_whose_nodes_are_running(monkeypatch):
    monkeypatch.setattr(podman, "require", lambda: None)
    monkeypatch.setattr(nodes, "lab_containers", lambda name: [{"Id": "c1", "State": "running"}])
    with pytest.raises(UsageError, match="in use"):
        lab.up(3, "alpha")


def test_failed_up_removes_everything_it_created(monkeypatch):
    removed = []
    monkeypatch.setattr(podman, "require", lambda: None)
    monkeypatch.setattr(nodes, "_clear_leftovers", lambda name, progress: None)
    monkeypatch.setattr(nodes, "ensure_base_image", lambda suite, progress: f"img-{suite}")
    monkeypatch.setattr(nodes, "_remove_podman_objects", removed.append)

    def half_created(name, images, suites, progress):
        assert images == ["img-bookworm", "img-trixie", "img-bookworm"]
        lab.lab_dir(name).mkdir(parents=True)
        raise OperationError("node2 booted degraded")

    monkeypatch.setattr(nodes, "_create", half_created)
    with pytest.raises(OperationError):
        lab.up(3, "alpha", os="mixed")
    assert removed == ["alpha"]
    assert not lab.lab_dir("alpha").exists()
    assert lab.active() is None


def test_recipe_digest_changes_with_the_mirror_and_the_release():
    assert lab.recipe_digest("http://a/debian") == lab.recipe_digest("http://a/debian")
    assert lab.recipe_digest("http://a/debian") != lab.recipe_digest("http://b/debian")
    assert lab.recipe_digest("http://a/debian", "trixie") != lab.recipe_digest("http://a/debian")


@pytest.mark.parametrize(
    ("choice", "suites"),
    [
        ("bookworm", ["bookworm"] * 3),
        ("trixie", ["trixie"] * 3),
        ("mixed", ["bookworm", "trixie", "bookworm"]),
    ],
)
def test_lab_up_os_gives_each_node_a_release(choice, suites):
    assert nodes.node_suites(choice, 3) == suites


def test_lab_up_refuses_an_unknown_release():
    with pytest.raises(UsageError, match="--os must be one of bookworm, trixie, mixed"):
        nodes.node_suites("sid", 2)


def test_a_lab_recorded_before_releases_reads_as_debian_12():
    old = {
        "name": "a",
        "network": "n",
        "created": "t",
        "nodes": [{"name": "node1", "container": "c", "ip": "10.0.0.1"}],
    }
    assert lab.Lab.from_json(old).nodes[0].os == "bookworm"


def test_missing_podman_says_make_setup(monkeypatch):
    monkeypatch.setattr(podman.shutil, "which", lambda tool: None)
    with pytest.raises(UsageError, match="podman and runc not found") as caught:
        podman.require()
    assert "make setup" in caught.value.hint
