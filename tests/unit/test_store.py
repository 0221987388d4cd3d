import fcntl
import json
import os
import threading
import time

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


def test_a_waiter_learns_a_holder_that_writes_its_name_just_after_locking(tmp_path):
    """The holder takes the lock first and writes its name a moment later: a waiter that
    arrives in between still names it (it once said "another dmlctl command")."""
    path = tmp_path / "cluster.lock"
    path.touch()
    holder = os.open(path, os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)

    def name_then_release():
        time.sleep(0.3)
        os.pwrite(holder, b"dmlctl deploy (pid 1)\n", 0)
        time.sleep(0.3)
        os.ftruncate(holder, 0)
        fcntl.flock(holder, fcntl.LOCK_UN)

    other = threading.Thread(target=name_then_release)
    other.start()
    seen = []
    with store.locked(path, holder="dmlctl start (pid 2)", waiting=seen.append):
        assert path.read_text() == "dmlctl start (pid 2)"
    other.join()
    os.close(holder)
    assert seen == ["dmlctl deploy (pid 1)"]
    assert path.read_text() == ""  # a holder that has gone is never named


def test_a_free_lock_calls_no_waiter_and_is_taken_again_by_its_holder(tmp_path):
    path = tmp_path / "cluster.lock"
    seen = []
    with (
        store.locked(path, holder="outer", waiting=seen.append),
        store.locked(path, holder="inner", waiting=seen.append),
    ):
        assert path.read_text() == "outer"
    assert seen == []


def test_a_lock_freed_before_its_holder_named_itself_is_taken_without_waiting(tmp_path):
    path = tmp_path / "cluster.lock"
    path.touch()
    holder = os.open(path, os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    other = threading.Timer(0.3, fcntl.flock, (holder, fcntl.LOCK_UN))
    other.start()
    seen = []
    with store.locked(path, holder="dmlctl deploy (pid 2)", waiting=seen.append):
        pass
    other.join()
    os.close(holder)
    assert seen == []  # no "waiting: another dmlctl command" for a lock that was free
