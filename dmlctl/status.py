"""Cluster status from the engines' own REST endpoints, compared with what the inventory expects.

Spark: the master's `GET /json/`. H2O: `GET /3/Cloud` on every H2O node (never `/3/Ping`,
which locks the cloud). Everything is fetched in parallel with short timeouts; an unreachable
endpoint is reported in the model, not raised.
"""

import dataclasses
import json
import socket
import time
import urllib.error
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from dmlctl import engines, h2o_health
from dmlctl.credentials import Credentials, open_url
from dmlctl.engines import H2O, SPARK
from dmlctl.inventory import ClusterInventory

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


def spark_status(ends: Endpoints, master_json: dict | None, error: str | None) -> dict:
    expected = list(ends.spark_workers)
    status = {
        "master_url": ends.spark_master_url,
        "ui": ends.spark_ui,
        "status": "UNREACHABLE",
        "workers_alive": 0,
        "workers_expected": len(expected),
        "cores": 0,
        "memory_mb": 0,
        "workers": [],
        "missing_workers": expected,
        "healthy": False,
    }
    if master_json is None:
        status["error"] = error
        return status
    alive = [w for w in master_json.get("workers", []) if w.get("state") == "ALIVE"]
    alive_hosts = {w.get("host") for w in alive}
    status.update(
        status=master_json.get("status", "UNKNOWN"),
        workers_alive=len(alive_hosts & set(expected)),
        cores=master_json.get("cores", 0),
        memory_mb=master_json.get("memory", 0),
        workers=[
            {
                "host": w.get("host"),
                "state": w.get("state"),
                "cores": w.get("cores", 0),
                "memory_mb": w.get("memory", 0),
                "ui": w.get("webuiaddress"),
            }
            for w in master_json.get("workers", [])
        ],
        missing_workers=sorted(set(expected) - alive_hosts),
        active_apps=[a.get("name") for a in master_json.get("activeapps", [])],
        apps=spark_apps(master_json),
        completed_apps=len(master_json.get("completedapps", [])),
    )
    status["healthy"] = status["status"] == "ALIVE" and not status["missing_workers"]
    return status


def spark_apps(master_json: dict) -> list[dict]:
    """Running and waiting applications, oldest first: who holds how many cores."""
    apps = [
        {
            "id": app.get("id"),
            "name": app.get("name"),
            "user": app.get("user"),
            "state": app.get("state"),
            "cores": app.get("cores", 0),
            "started": _iso(app.get("starttime")),
            "seconds": round((app.get("duration") or 0) / 1000),
        }
        for app in master_json.get("activeapps", [])
    ]
    return sorted(apps, key=lambda app: app["started"] or "")


def _iso(millis) -> str | None:
    if not isinstance(millis, int | float) or millis <= 0:
        return None
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="seconds")


def worker_names(inv: ClusterInventory | None, addresses: list[str]) -> list[str]:
    """Missing workers as the inventory names them: "node3 (10.89.0.4)" (a profile has no names)."""
    if inv is None:
        return list(addresses)
    by_address = {inv.address(h): h for h in inv.group("spark_workers")}
    return [f"{by_address[a]} ({a})" if a in by_address else a for a in addresses]


def h2o_status(
    ends: Endpoints, clouds: dict[str, tuple[dict | None, str | None]], now: float | None = None
) -> dict:
    """Every node's own view of the cloud, judged by dmlctl.h2o_health."""
    now = time.time() if now is None else now
    views = {address: cloud for address, (cloud, _) in clouds.items()}
    errors = {address: error for address, (_, error) in clouds.items() if error}
    verdict = h2o_health.judge(views, ends.h2o_nodes, ends.h2o_cluster_name, now, errors)
    serving = verdict["serving"]
    url = ends.h2o_url
    if serving and serving[0] != next(iter(ends.h2o_nodes)):
        url = url.split("://", 1)[0] + "://" + serving[0]  # the first node is not serving
    status = {
        "url": url, "cloud_name": ends.h2o_cluster_name, "nodes_expected": len(ends.h2o_nodes),
        "problems": [f["what"] for f in verdict["findings"]],
        "verdict": verdict["state"], "serves_jobs": verdict["serves_jobs"],
        "next": verdict["next"], "heals_in_s": verdict["heals_in_s"],
        "missing_nodes": verdict["missing"], "findings": verdict["findings"],
        "member_starts": verdict["member_starts"],
        **h2o_health.cloud_summary(views, serving, now),
    }  # fmt: skip
    status["healthy"] = verdict["state"] == h2o_health.HEALTHY
    return status


def _refused(url: str, creds: Credentials, timeout: float) -> bool | None:
    """Whether URL turns away a request without a login (None: it could not be asked)."""
    _, error = fetch_json(url, timeout, creds, authenticate=False)
    if error is None:
        return False
    return True if error.startswith("HTTP 401") else None


def security_facts(
    creds: Credentials, clouds: dict, anonymous: bool | None, rest_open: bool
) -> dict:
    """What the engines themselves say about their security, next to how dmlctl reached them."""
    views = [cloud for cloud, _ in clouds.values() if cloud is not None]
    internal = [bool(c.get("internal_security_enabled")) for c in views]
    return {
        "secure": creds.secure,
        "h2o": {
            "https": creds.h2o_scheme == "https",
            "internal_security": all(internal) if internal else None,
            "anonymous_refused": anonymous,
        },
        "spark": {"authenticated_by": "shared secret" if creds.secure else None,
                  "rest_submission_open": rest_open},
    }  # fmt: skip


def collect(
    inv: ClusterInventory | None,
    timeout: float = TIMEOUT,
    ends: Endpoints | None = None,
    creds: Credentials | None = None,
    *,
    source: str | None = None,
) -> dict:
    """The whole status model (what `dmlctl status --json` prints), fetched in parallel.

    INV None: a profile's view (ENDS given), without the hosts' SSH reachability.
    """
    creds = creds or Credentials.none()
    assert inv is not None or ends is not None
    ends = with_h2o_scheme(ends or endpoints(inv), creds)
    scheme = creds.h2o_scheme
    master_url = f"{ends.spark_ui}/json/"
    h2o_targets = ends.h2o_nodes
    hosts_to_reach = inv.hosts if inv is not None else []
    first = next(iter(h2o_targets))
    with ThreadPoolExecutor(max_workers=4 + len(h2o_targets) + len(hosts_to_reach)) as pool:
        spark_future = pool.submit(fetch_json, master_url, timeout)
        cloud_futures = {
            ip_port: pool.submit(fetch_json, f"{scheme}://{ip_port}/3/Cloud", timeout, creds)
            for ip_port in h2o_targets
        }
        anonymous = pool.submit(_refused, f"{scheme}://{first}/3/Cloud", creds, timeout)
        rest_port = int(SPARK.setting("rest_port").default)
        rest = pool.submit(reachable, ends.spark_master_address, rest_port, timeout)
        reach_futures = {
            host: pool.submit(
                reachable, inv.address(host), int(inv.var(host, "ansible_port", SSH_PORT)), timeout
            )
            for host in hosts_to_reach
        }
        spark = spark_status(ends, *spark_future.result())
        clouds = {k: f.result() for k, f in cloud_futures.items()}
        spark["missing_worker_names"] = worker_names(inv, spark["missing_workers"])
        h2o = h2o_status(ends, clouds)
        hosts = [{"name": h, "reachable": f.result()} for h, f in reach_futures.items()]
        security = security_facts(creds, clouds, anonymous.result(), rest.result())
    return {
        "healthy": spark["healthy"] and h2o["healthy"],
        "spark": spark,
        "h2o": h2o,
        "hosts": hosts,
        "security": security,
        "inventory": source or (str(inv.path) if inv is not None else None),
    }
