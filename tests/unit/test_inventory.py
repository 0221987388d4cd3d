import pytest

from dmlctl import inventory, lab
from dmlctl.errors import UsageError


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
