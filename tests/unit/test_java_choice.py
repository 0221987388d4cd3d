"""The java role's choice of each engine's Java (roles/java/files/java_choice.py), per release."""

import importlib.util

import pytest

from dmlctl.paths import ROLES_DIR

SPEC = importlib.util.spec_from_file_location(
    "java_choice", ROLES_DIR / "java/files/java_choice.py"
)
java_choice = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(java_choice)

SPARK, H2O = [17, 21], [8, 17]
BUNDLE = {"major": 17, "root": "/opt/dmlctl-java", "source": "bundle"}
NO_ARTIFACT = {**BUNDLE, "source": ""}
DEBIAN12 = {17: "openjdk-17-jre-headless"}
DEBIAN13 = {21: "openjdk-21-jre-headless", 25: "openjdk-25-jre-headless"}
UBUNTU2404 = {17: "openjdk-17-jre-headless", 21: "openjdk-21-jre-headless"}


def pick(majors, packages, system=None, *, pin=0, beyond=False, artifact=BUNDLE):
    choice = java_choice.choose(majors, beyond, pin, system or {}, packages, artifact)
    return (choice["major"], choice.get("source") or choice["error"])


@pytest.mark.parametrize(
    ("packages", "spark", "h2o"),
    [
        (DEBIAN12, (17, "package"), (17, "package")),
        (DEBIAN13, (21, "package"), (17, "bundle")),
        (UBUNTU2404, (21, "package"), (17, "package")),
    ],
)
def test_each_engine_gets_the_newest_java_of_its_range_else_the_jdk(packages, spark, h2o):
    assert pick(SPARK, packages) == spark
    assert pick(H2O, packages) == h2o


def test_an_installed_java_in_range_is_kept_over_a_newer_package():
    assert pick(SPARK, UBUNTU2404, {17: "/usr/lib/jvm/java-17"}) == (17, "system")


def test_h2o_beyond_its_range_takes_the_oldest_newer_java_not_the_newest():
    assert pick(H2O, DEBIAN13, beyond=True) == (21, "package")
    assert pick(H2O, DEBIAN12, beyond=True) == (17, "package")  # in range: no flag needed


def test_a_pin_is_kept_where_the_engine_accepts_it_and_said_when_not_offered():
    assert pick(SPARK, UBUNTU2404, pin=17) == (17, "package")
    assert pick(H2O, DEBIAN13, pin=21) == (17, "bundle")  # H2O does not accept 21: not pinned
    assert pick(SPARK, DEBIAN13, pin=17, artifact=NO_ARTIFACT) == (17, "pinned release not offered")


def test_no_java_in_range_and_no_jdk_source_is_an_error():
    assert pick(H2O, DEBIAN13, artifact=NO_ARTIFACT) == (0, "no Java in range")
