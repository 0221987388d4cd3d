"""The Ansible roles and playbooks, proven by molecule on podman nodes running systemd.

Each scenario runs end to end (create, converge, idempotence, verify, destroy) from the
project root, on the same base image as the rehearsal lab. The one scenario, `engines`, runs
the roles with security off on one node, both engines from a stand-in `mirror` (the labs use
`bundle`): the roles' secure paths and a whole cluster (open and secure) are proven on the
session's lab (test_secure_cluster, test_insecure), the Java choice on Debian 13 on the release
labs (test_releases). Scenario networks and containers carry names of their own
(molecule-<scenario>, mol-<scenario>-nodeN) and are removed by molecule's destroy step.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SCENARIOS = ["engines"]
TIMEOUT = 30 * 60
TAIL = 120


@pytest.fixture(scope="module")
def molecule_env() -> dict[str, str]:
    from dmlctl import lab

    lab.ensure_base_image()
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["CONTAINERS_CONF"] = str(PROJECT / "dmlctl" / "data" / "containers.conf")
    env.update({"PY_COLORS": "0", "ANSIBLE_FORCE_COLOR": "0", "NO_COLOR": "1"})
    return env


@pytest.mark.integration
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario: str, molecule_env: dict[str, str]) -> None:
    assert (PROJECT / "molecule" / scenario / "molecule.yml").is_file()
    try:
        proc = subprocess.run(
            [str(VENV_BIN / "molecule"), "test", "-s", scenario],
            cwd=PROJECT,
            env=molecule_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout
        tail = "\n".join((out or "").splitlines()[-TAIL:])
        subprocess.run(
            [str(VENV_BIN / "molecule"), "destroy", "-s", scenario],
            cwd=PROJECT,
            env=molecule_env,
            capture_output=True,
            check=False,
        )
        pytest.fail(f"molecule test -s {scenario} timed out after {TIMEOUT}s\n{tail}")
    tail = "\n".join(proc.stdout.splitlines()[-TAIL:])
    assert proc.returncode == 0, f"molecule test -s {scenario} exited {proc.returncode}\n{tail}"
