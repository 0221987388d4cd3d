"""Role defaults as dmlctl reads them: from the role's file, then from a JSON copy that follows
every change of that file."""

import os

import pytest

from dmlctl import engines


@pytest.fixture(autouse=True)
def _fresh_process():
    """Each test, and the tests after it, read the role defaults as a new process would."""
    engines._role_defaults.cache_clear()
    yield
    engines._role_defaults.cache_clear()


def test_defaults_come_from_the_file_and_follow_its_changes(tmp_path, monkeypatch):
    defaults = tmp_path / "roles" / "spark" / "defaults" / "main.yml"
    defaults.parent.mkdir(parents=True)
    defaults.write_text("spark_master_port: 7077\nspark_home: '{{ x }}'\n")
    monkeypatch.setattr(engines, "ROLES_DIR", tmp_path / "roles")
    monkeypatch.setenv("DMLCTL_STATE_DIR", str(tmp_path / "state"))
    assert engines.role_default("spark_master_port") == 7077
    assert engines.role_default("spark_home") is None  # a template needs a play's facts
    assert (tmp_path / "state" / "role-defaults" / "spark.json").is_file()

    defaults.write_text("spark_master_port: 7177\n")
    os.utime(defaults, ns=(1, 2))  # a new size and time, as an upgrade of the roles brings
    engines._role_defaults.cache_clear()  # a new process
    assert engines.role_default("spark_master_port") == 7177
    engines._role_defaults.cache_clear()
    assert engines.role_default("h2o_port") is None  # no such role here
