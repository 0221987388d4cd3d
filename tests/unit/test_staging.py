import os
import tarfile
from pathlib import Path

import pytest

from dmlctl.errors import OperationError, UsageError
from dmlctl.playbooks import runner
from dmlctl.playbooks.inventory import ClusterInventory
from dmlctl.playbooks.runner import RunOutcome
from dmlctl.staging import datasets, local_input, nodes


def _failed(host: str, message: str) -> dict:
    return {"event": "runner_on_failed", "event_data": {"host": host, "res": {"msg": message}}}


@pytest.fixture
def layout(tmp_path, monkeypatch):
    root = tmp_path / "var-tmp-dmlctl"
    monkeypatch.setattr(local_input, "ROOT", root)
    monkeypatch.setattr(local_input, "CONTENT_DIR", root / "data")
    monkeypatch.setattr(local_input, "WORK_ROOT", root / "work")
    monkeypatch.setattr(datasets, "DATASETS_DIR", tmp_path / "datasets")
    return root


@pytest.fixture
def setup(tmp_path, layout, monkeypatch):
    path = tmp_path / "inventory.ini"
    path.write_text("x\n")
    inv = ClusterInventory(
        path=path,
        groups={"spark_master": ["n1"], "spark_workers": ["n2"], "h2o_nodes": ["n1", "n2"]},
        hostvars={"n1": {}, "n2": {}},
    )
    source = tmp_path / "iris.csv"
    source.write_text("a,b\n1,2\n")
    runs: list[dict] = []

    def fake_run_playbook(playbook, inventory, *, on_event, limit=None, extravars=None, **kw):
        archive = extravars.get("dmlctl_data_archive")
        names = []
        if archive:
            with tarfile.open(archive) as tar:
                names = sorted(tar.getnames())
        runs.append({**extravars, "limit": limit, "names": names})
        return RunOutcome("successful", 0, Path("/nonexistent"))

    monkeypatch.setattr(runner, "run_playbook", fake_run_playbook)
    return inv, source, runs


def test_stages_once_to_a_content_addressed_path_here_and_on_every_node(setup, layout):
    inv, source, runs = setup
    first = nodes.stage(inv, source)
    assert Path(first).read_text() == source.read_text()
    assert Path(first).name == "iris.csv" and Path(first).parent.parent == layout / "data"
    assert len(runs) == 1 and runs[0]["limit"] == "n1,n2"
    digest = Path(first).parent.name
    assert runs[0]["names"] == [f"data/{digest}", f"data/{digest}/iris.csv"]
    assert nodes.stage(inv, source) == first
    assert len(runs) == 1


def test_a_playbook_run_or_a_rewritten_inventory_stages_again(setup):
    inv, source, runs = setup
    nodes.stage(inv, source)
    nodes.forget(inv.path)
    nodes.stage(inv, source)
    assert len(runs) == 2
    stat = inv.path.stat()
    os.utime(inv.path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    nodes.stage(inv, source)
    assert len(runs) == 3


def test_a_node_that_cannot_take_the_input_is_named(setup, monkeypatch):
    inv, source, _ = setup

    def failing(playbook, inventory, *, on_event, **kw):
        on_event(_failed("n2", "disk full"))
        return RunOutcome("failed", 2, Path("/nonexistent"))

    monkeypatch.setattr(runner, "run_playbook", failing)
    with pytest.raises(OperationError, match="n2: disk full"):
        nodes.stage(inv, source)
    assert nodes._load(inv.path) == {}


def test_a_work_directory_sends_only_new_content_and_always_its_links(setup, tmp_path):
    inv, source, runs = setup
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    items = local_input.items([str(source), str(folder)])
    for item in items:
        local_input.store(item.source)
    workdir = local_input.make_workdir("run-1", items)
    nodes.stage_workdir(inv, workdir, items)
    assert "work/run-1/iris.csv" in runs[0]["names"]
    assert any(name.endswith("/files/a.txt") for name in runs[0]["names"])
    assert runs[0]["dmlctl_data_required"] == []
    second = local_input.make_workdir("run-2", items)
    nodes.stage_workdir(inv, second, items)
    assert runs[1]["names"] == ["work/run-2", "work/run-2/files", "work/run-2/iris.csv"]
    assert sorted(runs[1]["dmlctl_data_required"]) == sorted(str(i.stored.parent) for i in items)


def test_content_a_node_lost_is_sent_again(setup, monkeypatch):
    inv, source, _ = setup
    items = local_input.items([str(source)])
    local_input.store(items[0].source)
    nodes.stage_workdir(inv, local_input.make_workdir("run-1", items), items)
    calls = []

    def lost_once(playbook, inventory, *, on_event, extravars=None, **kw):
        calls.append(extravars["dmlctl_data_required"])
        if len(calls) == 1:
            on_event(_failed("n1", "gone"))
            return RunOutcome("failed", 2, Path("/nonexistent"))
        return RunOutcome("successful", 0, Path("/nonexistent"))

    monkeypatch.setattr(runner, "run_playbook", lost_once)
    nodes.stage_workdir(inv, local_input.make_workdir("run-2", items), items)
    assert calls == [[str(items[0].stored.parent)], []]


def test_publish_copies_here_and_names_what_it_replaces(setup):
    inv, source, runs = setup
    published = datasets.publish(inv, [source])
    assert published == [datasets.DATASETS_DIR / "iris.csv"]
    assert published[0].read_text() == source.read_text()
    assert runs[0]["dmlctl_data_action"] == "publish"
    assert runs[0]["dmlctl_data_paths"] == [str(datasets.DATASETS_DIR / "iris.csv")]
    assert runs[0]["names"] == ["iris.csv"]


def test_bad_dataset_names_are_refused_before_anything_changes(setup, tmp_path):
    inv, _, runs = setup
    with pytest.raises(UsageError):
        datasets.publish(inv, [tmp_path / "missing.csv"])
    with pytest.raises(UsageError):
        datasets.unpublish(inv, "../etc")
    assert runs == []


def test_data_push_of_a_file_and_a_directory_then_ls_as_a_table(setup, tmp_path, capsys,
                                                                 monkeypatch):  # fmt: skip
    from dmlctl.cli import main

    inv, source, runs = setup
    inv.path.write_text(
        "n1 ansible_host=127.0.0.1\nn2 ansible_host=127.0.0.2\n[spark_master]\nn1\n"
        "[spark_workers]\nn2\n[h2o_nodes]\nn1\nn2\n"
    )
    images = tmp_path / "images"
    (images / "a").mkdir(parents=True)
    (images / "a" / "one.png").write_bytes(b"x" * 2_000_000)
    with pytest.raises(SystemExit) as pushed:
        main(["data", "push", str(source), str(images), "-i", str(inv.path)])
    assert pushed.value.code in (0, None)
    assert runs[-1]["names"] == ["images", "images/a", "images/a/one.png", "iris.csv"]
    assert (datasets.DATASETS_DIR / "images" / "a" / "one.png").is_file()
    held = {"n1": ["iris.csv", "images"], "n2": ["iris.csv"]}
    monkeypatch.setattr(runner, "run_module", lambda path, hosts, module, args, **k: {
        h: (True, {"files": [{"path": f"{args['paths']}/{n}"} for n in held[h]]})
        for h in hosts})  # fmt: skip
    capsys.readouterr()
    with pytest.raises(SystemExit) as listed:
        main(["data", "ls", "-i", str(inv.path)])
    assert listed.value.code in (0, None)
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == ["dataset", "path", "size", "nodes"]
    assert rows[1][0] == "images" and rows[1][-5:] == ["2.00", "MB", "1", "of", "2"]
    assert rows[2][0] == "iris.csv" and rows[2][-3:] == ["2", "of", "2"]
