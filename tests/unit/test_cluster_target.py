import importlib.metadata
import re
import socket
from pathlib import Path

import pytest

from dmlctl.errors import OperationError, UsageError
from dmlctl.jobs import cluster_target

UI_PAGE = (Path(__file__).parent / "payloads" / "spark_master_ui.html").read_text()


def test_spark_version_is_read_from_the_recorded_master_ui():
    assert cluster_target._SPARK_UI_VERSION.search(UI_PAGE).group(1) == "4.3.0"


def test_each_engine_is_compared_with_its_own_client_package():
    h2o, pyspark = importlib.metadata.version("h2o"), importlib.metadata.version("pyspark")
    cluster_target.check_version("h2o", h2o)
    cluster_target.check_version("spark", pyspark)
    with pytest.raises(UsageError, match="this machine has pyspark"):
        cluster_target.check_version("spark", h2o)  # another package's version
    with pytest.raises(UsageError, match="this machine has h2o"):
        cluster_target.check_version("h2o", pyspark)


def test_version_mismatch_is_one_clear_line():
    with pytest.raises(UsageError) as caught:
        cluster_target.check_version("h2o", "3.44.0.3")
    client = importlib.metadata.version("h2o")
    assert caught.value.message == (
        f"the cluster runs h2o 3.44.0.3 but this machine has h2o {client}."
    )
    assert re.search(r"dmlctl deploy", caught.value.hint)


def test_unknown_cluster_version_is_an_operation_error():
    with pytest.raises(OperationError):
        cluster_target.check_version("spark", None)


def test_driver_address_is_the_route_toward_the_master():
    # 127.0.0.2 is routed over loopback, whose own address is 127.0.0.1: a function that
    # returned its argument (or any fixed address of another route) would fail here.
    assert cluster_target.driver_address("127.0.0.2") == "127.0.0.1"


def test_driver_address_toward_another_machine_is_one_of_this_machines():
    toward = "192.0.2.77"  # TEST-NET-1; nothing is sent, only a route is picked
    local = cluster_target.driver_address(toward)  # the lab tests need such a route anyway
    assert local != toward
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((local, 0))  # only an address of this machine can be bound
