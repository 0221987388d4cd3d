"""The roles' own Jinja filters (roles/common/filter_plugins), called as Ansible calls them."""

import hashlib
import importlib.util
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[2] / "roles/common/filter_plugins/dmlctl_filters.py"


@pytest.fixture(scope="module")
def filters() -> dict:
    spec = importlib.util.spec_from_file_location("dmlctl_filters", PLUGIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FilterModule().filters()


# As the common role's inspection prints them: a file and a directory; a path missing on the
# node is not listed.
SHA1 = hashlib.sha1(b"SPARK_HOME=/opt/spark/current\n").hexdigest()
PATHS = f"/etc/spark/spark-env.sh={SHA1}:root:spark:644,/etc/spark=dir:root:root:755,"


def test_a_file_as_the_task_would_leave_it_is_reported_so(filters):
    same = filters["node_path_is"]
    assert same(PATHS, "/etc/spark/spark-env.sh", SHA1, "root", "spark", "0644")
    assert same(PATHS, "/etc/spark", "dir", "root", "root", "0755")


@pytest.mark.parametrize(
    "path, sha1, owner, group, mode",
    [
        ("/etc/spark/spark-env.sh", "0" * 40, "root", "spark", "0644"),  # content drifted
        ("/etc/spark/spark-env.sh", SHA1, "spark", "spark", "0644"),  # owner changed
        ("/etc/spark/spark-env.sh", SHA1, "root", "root", "0644"),  # group changed
        ("/etc/spark/spark-env.sh", SHA1, "root", "spark", "0640"),  # mode changed
        ("/etc/spark/workers", SHA1, "root", "root", "0644"),  # not on the node
        ("/etc/spark", "dir", "root", "root", "0750"),  # a directory's mode
        ("/etc/spark/spark-env", SHA1, "root", "spark", "0644"),  # a prefix is not the path
    ],
)
def test_any_difference_lets_the_task_run(filters, path, sha1, owner, group, mode):
    assert not filters["node_path_is"](PATHS, path, sha1, owner, group, mode)


def test_an_empty_or_garbled_inspection_lets_every_task_run(filters):
    same = filters["node_path_is"]
    assert not same("", "/etc/spark", "dir", "root", "root", "0755")
    assert not same(None, "/etc/spark", "dir", "root", "root", "0755")
    assert not same("/etc/spark=dir:root:root:rwx,", "/etc/spark", "dir", "root", "root", "0755")


def test_controller_sha1_reads_the_file_or_gives_nothing(filters, tmp_path):
    keystore = tmp_path / "node.p12"
    keystore.write_bytes(b"\x30\x82\x00\xff binary")
    sha1 = filters["controller_sha1"]
    assert sha1(str(keystore)) == hashlib.sha1(keystore.read_bytes()).hexdigest()
    assert sha1(str(tmp_path / "missing")) == ""
