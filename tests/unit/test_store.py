import json

from dmlctl import store


def test_missing_or_broken_file_gives_the_default(tmp_path):
    assert store.load(tmp_path / "none.json", {"a": 1}) == {"a": 1}
    (tmp_path / "bad.json").write_text("{not json")
    assert store.load(tmp_path / "bad.json", []) == []


def test_save_writes_json_with_mode_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "sub" / "state.json"
    store.save(target, {"k": [1, 2]}, mode=0o600)
    assert json.loads(target.read_text()) == {"k": [1, 2]}
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]
    store.save(target, {"k": 3})
    assert store.load(target) == {"k": 3}


def test_write_takes_text_or_bytes_and_a_private_mode(tmp_path):
    secret = tmp_path / "secret"
    store.write(secret, b"\x00key", mode=0o600)
    assert secret.read_bytes() == b"\x00key"
    assert secret.stat().st_mode & 0o777 == 0o600
    store.write(secret, "text", mode=0o600)
    assert secret.read_text() == "text"
