"""`dmlctl notebook`: JupyterLab on this machine, its kernels wired to the cluster as
`dmlctl submit`'s jobs are (dmlctl.jobs.environment: the Spark master and secret, the workers'
Python, the H2O cloud with this user's login and CA through the start-up hook).

The server listens on 127.0.0.1 only and wants a token, which it gets through its environment
(JUPYTER_TOKEN), never on a command line that `ps` shows to every local user. It runs in a
session of its own, so Ctrl-C reaches dmlctl, which stops it (and its kernels) cleanly.
"""

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dmlctl.errors import OperationError, UsageError
from dmlctl.jobs import notebook, target

HOST = "127.0.0.1"
FIRST_PORT = 8888
PORTS_TRIED = 100
READY_TIMEOUT = 120.0  # JupyterLab takes seconds to start, more on a busy machine
PROBE_TIMEOUT = 2.0
# Set for jobs run by `dmlctl submit` only: a kernel of this server is not one.
JOB_VARIABLES = ("DMLCTL_RUN_DIR", "DMLCTL_WORK_DIR", "DMLCTL_JOB", "DMLCTL_MODE", "MPLBACKEND")


@dataclass
class Server:
    process: subprocess.Popen
    root: Path
    port: int
    token: str = field(repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        """What a browser opens: JupyterLab, logged in by the token."""
        return f"{self.base_url}/lab?token={self.token}"


def require_jupyterlab() -> None:
    notebook.require_extra("`dmlctl notebook`", ("jupyterlab", "ipykernel"))


def root_dir(directory: Path | None) -> Path:
    root = (directory or Path.cwd()).expanduser()
    if not root.is_dir():
        raise UsageError(f"--dir {root}: no such directory", hint="give an existing directory")
    return root.resolve()


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def pick_port(port: int | None) -> int:
    """PORT when it is free on 127.0.0.1 (UsageError when not), else the first free one from
    8888 on."""
    if port is not None:
        if not 1 <= port <= 65535:
            raise UsageError(f"--port must be between 1 and 65535, not {port}.")
        if not port_free(port):
            raise UsageError(
                f"--port {port}: something already listens on {HOST}:{port}",
                hint="choose another port, or leave --port away for a free one",
            )
        return port
    for candidate in range(FIRST_PORT, FIRST_PORT + PORTS_TRIED):
        if port_free(candidate):
            return candidate
    raise OperationError(f"no free port on {HOST} from {FIRST_PORT} to {candidate}")


def server_env(base: Mapping[str, str], cluster: Mapping[str, str], token: str) -> dict[str, str]:
    """The server's environment, which its kernels inherit: BASE with the CLUSTER's variables,
    the start-up hook in front of BASE's PYTHONPATH, and the token."""
    env = {k: v for k, v in base.items() if k not in JOB_VARIABLES}
    env.update(cluster)
    env["PYTHONPATH"] = target.with_startup(base.get("PYTHONPATH"))
    env["JUPYTER_TOKEN"] = token
    return env


def command(root: Path, port: int, root_user: bool | None = None) -> list[str]:
    """JupyterLab's command line. It asks nothing of the internet: no update check, news feed
    or extension catalogue (lab machines are often offline)."""
    root_user = os.geteuid() == 0 if root_user is None else root_user
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--ServerApp.ip={HOST}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        "--LabApp.news_url=",
        "--LabApp.extension_manager=readonly",
        # JupyterLab refuses root unless told; dmlctl's labs and CI run as root.
        *(["--ServerApp.allow_root=True"] if root_user else []),
    ]


def start(cluster: Mapping[str, str], root: Path, port: int, timeout: float = READY_TIMEOUT):
    """JupyterLab serving ROOT on 127.0.0.1:PORT, ready (its API answers) within TIMEOUT."""
    token = secrets.token_urlsafe(32)
    process = subprocess.Popen(
        command(root, port),
        env=server_env(os.environ, cluster, token),
        cwd=root,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = Server(process, root, port, token)
    try:
        wait_ready(server, timeout)
    except BaseException:
        stop(server)
        raise
    return server


def wait_ready(server: Server, timeout: float) -> None:
    """Until the server's /api/status answers with its token; OperationError when the server
    ends first or TIMEOUT passes."""
    request = urllib.request.Request(
        f"{server.base_url}/api/status", headers={"Authorization": f"token {server.token}"}
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise OperationError(
                f"JupyterLab ended before it was ready (exit {server.process.returncode})",
                hint="its own messages are above",
            )
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(request, timeout=PROBE_TIMEOUT) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.2)
    raise OperationError(f"JupyterLab did not answer on {server.base_url} within {timeout:.0f} s")


def stop(server: Server, grace: float = 15.0) -> int:
    """Stop the server (it shuts its kernels down on SIGTERM); its exit code."""
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            server.process.kill()
    return server.process.wait()
