"""Where a cluster's engines answer (from an inventory or a profile), and how to ask them.

Every call has a short timeout; a failure is returned as a reason, never raised.
"""

import dataclasses
import json
import socket
import urllib.error
from dataclasses import dataclass

from dmlctl import engines
from dmlctl.engines import H2O, SPARK
from dmlctl.playbooks.inventory import ClusterInventory
from dmlctl.security.credentials import Credentials, open_url

TIMEOUT = 2.0
SSH_PORT = 22


def setting(inv: ClusterInventory, host: str, engine: engines.Engine, key: str):
    """HOST's value of one of ENGINE's settings (see ClusterInventory.setting)."""
    return inv.setting(host, engine.setting(key).var)


@dataclass(frozen=True)
class Endpoints:
    """Where the engines of an inventory answer, worked out once per inventory."""

    spark_master: str  # the master's inventory name
    spark_master_address: str  # where this machine reaches it
    spark_master_url: str  # spark://ADDRESS:PORT, what drivers connect to
    spark_ui: str  # the master's web UI (and its /json/)
    spark_python: str  # the workers' Python, for a job's executors
    spark_workers: tuple[str, ...]  # the addresses expected to register, sorted
    h2o_url: str  # the first H2O node's REST API
    h2o_cluster_name: str
    h2o_nodes: dict[str, str]  # ADDRESS:PORT -> inventory name, every expected member


def endpoints(inv: ClusterInventory) -> Endpoints:
    """The status endpoints of INV (which must have the cluster groups)."""
    master = inv.group(engines.SPARK_MASTER_GROUP)[0]
    address = inv.address(master)
    nodes = inv.group(engines.H2O_GROUP)
    first = nodes[0]
    return Endpoints(
        spark_master=master,
        spark_master_address=address,
        spark_master_url=f"spark://{address}:{setting(inv, master, SPARK, 'master_port')}",
        spark_ui=f"http://{address}:{setting(inv, master, SPARK, 'ui_port')}",
        spark_python=str(setting(inv, master, SPARK, "python")),
        spark_workers=tuple(
            sorted({inv.address(h) for h in inv.group(engines.SPARK_WORKERS_GROUP)})
        ),
        h2o_url=f"http://{inv.address(first)}:{setting(inv, first, H2O, 'port')}",
        h2o_cluster_name=setting(inv, first, H2O, "cluster_name"),
        h2o_nodes={f"{inv.address(h)}:{setting(inv, h, H2O, 'port')}": h for h in nodes},
    )


def from_profile(prof) -> Endpoints:
    """The endpoints a profile (dmlctl.security.profile.Profile) names."""
    master_address = prof.spark_master_url.split("//", 1)[-1].rsplit(":", 1)[0]
    return Endpoints(
        spark_master=master_address,
        spark_master_address=master_address,
        spark_master_url=prof.spark_master_url,
        spark_ui=prof.spark_ui,
        spark_python=prof.spark_python,
        spark_workers=tuple(sorted(prof.spark_workers)),
        h2o_url=prof.h2o_url,
        h2o_cluster_name=prof.h2o_cluster_name or "",
        h2o_nodes={node: node for node in prof.h2o_nodes},
    )


def with_h2o_scheme(ends: Endpoints, creds: Credentials) -> Endpoints:
    """ENDS with the H2O URL as the cluster serves it (https when it runs secure)."""
    scheme = creds.h2o_scheme + "://"
    return dataclasses.replace(ends, h2o_url=scheme + ends.h2o_url.split("://", 1)[-1])


def fetch_json(
    url: str,
    timeout: float = TIMEOUT,
    creds: Credentials | None = None,
    *,
    authenticate: bool = True,
) -> tuple[dict | None, str | None]:
    """(payload, None) or (None, why it could not be read). CREDS: H2O's login and CA."""
    try:
        with open_url(url, creds, timeout, authenticate=authenticate) as response:
            return json.loads(response.read()), None
    except urllib.error.HTTPError as error:
        if error.code == 401:
            return None, "HTTP 401: the login was refused"
        return None, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return None, str(reason)
    except ValueError:
        return None, "not JSON"


def reachable(address: str, port: int = SSH_PORT, timeout: float = TIMEOUT) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False
