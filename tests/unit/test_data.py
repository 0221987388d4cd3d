import os
from pathlib import Path, PurePosixPath

import pytest

from dmlctl.errors import UsageError
from dmlctl.staging import local_input


@pytest.fixture(autouse=True)
def layout(tmp_path, monkeypatch):
    root = tmp_path / "var-tmp-dmlctl"
    monkeypatch.setattr(local_input, "ROOT", root)
    monkeypatch.setattr(local_input, "CONTENT_DIR", root / "data")
    monkeypatch.setattr(local_input, "WORK_ROOT", root / "work")
    monkeypatch.chdir(tmp_path)
    return root


@pytest.mark.parametrize(
    ("argument", "place"),
    [
        ("iris.csv", "iris.csv"),
        ("./data/x.csv", "data/x.csv"),
        ("data/", "data"),
        ("/abs/where/x.csv", "x.csv"),
        ("../up/x.csv", "x.csv"),
    ],
)
def test_a_relative_path_keeps_its_place_others_their_name(argument, place):
    assert local_input.placement(argument) == PurePosixPath(place)


def test_content_is_stored_once_readable_by_everyone(tmp_path, layout):
    source = tmp_path / "iris.csv"
    source.write_text("a\n1\n")
    stored = local_input.store(source)
    assert stored == layout / "data" / local_input.digest(source) / "iris.csv"
    assert stored.stat().st_mode & 0o777 == 0o644
    assert oct((layout / "data").stat().st_mode & 0o7777) == oct(0o1777)
    assert local_input.store(source) == stored
    source.write_text("a\n2\n")
    assert local_input.store(source) != stored


def test_overlapping_or_missing_inputs_are_refused(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("x")
    with pytest.raises(UsageError, match="overlap"):
        local_input.items(["data", "data/x.csv"])
    with pytest.raises(UsageError, match="no such file"):
        local_input.items(["nope.csv"])


def test_outputs_move_to_the_run_directory_and_input_links_stay_behind(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("x")
    items = local_input.items(["data"])
    for item in items:
        local_input.store(item.source)
    workdir = local_input.make_workdir("run-1", items)
    assert (workdir / "data" / "x.csv").read_text() == "x"
    (workdir / "plot.png").write_bytes(b"png")
    (workdir / "out").mkdir()
    (workdir / "out" / "part.txt").write_text("p")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "plot.png").write_text("older")
    moved = local_input.collect_outputs(workdir, run_dir, items)
    assert moved == ["out/part.txt", "plot-2.png"]
    assert (run_dir / "plot-2.png").read_bytes() == b"png"
    assert not (run_dir / "data").exists() and not workdir.exists()


def test_clean_up_removes_only_what_is_old(tmp_path, layout):
    source = tmp_path / "a.csv"
    source.write_text("a")
    stored = local_input.store(source)
    fresh = local_input.make_workdir("fresh", [])
    old = local_input.make_workdir("old", [])
    long_ago = os.path.getmtime(old) - 3 * 86400
    os.utime(old, (long_ago, long_ago))
    assert local_input.clean_up() == [old]
    assert fresh.exists() and stored.exists()
    later = os.path.getmtime(stored.parent) + 8 * 86400
    assert Path(stored.parent) in local_input.clean_up(now=later)
