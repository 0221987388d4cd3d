"""The engine registry agrees with the roles, the inventory layout and the pinned clients."""

import importlib.metadata
from pathlib import Path

import pytest
import yaml

from dmlctl import engines, lab
from dmlctl.paths import PLAYBOOK_DIR, ROLES_DIR
from dmlctl.playbooks import inventory


@pytest.mark.parametrize("engine", engines.ENGINES.values(), ids=engines.NAMES)
def test_every_setting_is_a_role_variable_with_a_plain_default(engine):
    # The default is read from that file, so what can go wrong is a renamed variable or a
    # default that became a template (status and doctor would then have no value).
    defaults = yaml.safe_load((ROLES_DIR / engine.name / "defaults/main.yml").read_text())
    for setting in engine.settings.values():
        assert setting.var in defaults, setting.var
        assert setting.default is not None, f"{setting.var} has a templated default"


@pytest.mark.parametrize("engine", engines.ENGINES.values(), ids=engines.NAMES)
def test_each_unit_has_the_roles_template(engine):
    for service in engine.services:
        template = ROLES_DIR / engine.name / "templates" / f"{service.unit}.j2"
        assert template.is_file(), template


def test_groups_are_the_example_inventorys_and_the_playbooks():
    example = inventory.load(Path(__file__).parents[2] / "inventory" / "hosts.ini")
    assert set(engines.GROUPS) <= set(example.groups)
    assert set(lab.lab_groups(["a", "b"])) == set(engines.GROUPS)
    deploy = (PLAYBOOK_DIR / "deploy.yml").read_text()
    for group in engines.GROUPS:
        assert group in deploy, f"playbooks/deploy.yml never names {group}"


def test_client_packages_are_installed_and_modules_map_back():
    for engine in engines.ENGINES.values():
        assert importlib.metadata.version(engine.client_package)
        assert engines.by_module(engine.module) is engine
    assert engines.by_module("numpy") is None
