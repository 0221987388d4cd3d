"""Integration tests need root and podman. In CI they must run; elsewhere they skip."""

import os
import shutil

import pytest


def pytest_collection_modifyitems(config, items):
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    if shutil.which("podman") is None:
        missing.append("podman")
    if not missing:
        return
    reason = f"integration tests need {' and '.join(missing)} (run `make setup` as root)"
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI cannot skip integration tests: {reason}")
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))
