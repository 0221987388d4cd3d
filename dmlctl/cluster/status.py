"""Cluster status from the engines' own REST endpoints, compared with what the inventory expects.

Spark: the master's `GET /json/`. H2O: `GET /3/Cloud` on every H2O node (never `/3/Ping`,
which locks the cloud). Everything is fetched in parallel with short timeouts; an unreachable
endpoint is reported in the model, not raised.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from dmlctl import engines
from dmlctl.cluster import h2o_health
from dmlctl.cluster.endpoints import (
    SSH_PORT,
    TIMEOUT,
    Endpoints,
    endpoints,
    fetch_json,
    reachable,
    with_h2o_scheme,
)
from dmlctl.engines import SPARK
from dmlctl.errors import OperationError
from dmlctl.playbooks.inventory import ClusterInventory
from dmlctl.security.credentials import Credentials


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
    by_address = {inv.address(h): h for h in inv.group(engines.SPARK_WORKERS_GROUP)}
    return [f"{by_address[a]} ({a})" if a in by_address else a for a in addresses]


def h2o_status(
    ends: Endpoints, clouds: dict[str, tuple[dict | None, str | None]], now: float | None = None
) -> dict:
    """Every node's own view of the cloud, judged by dmlctl.cluster.h2o_health."""
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
    creds: Credentials,
    clouds: dict,
    anonymous: bool | None,
    rest_open: bool,
    set_up: bool = True,
) -> dict:
    """What the engines themselves say about their security, next to how dmlctl reached them.

    SET_UP False (no deploy from here yet): the mode, HTTPS and Spark's authentication are
    None, since dmlctl has no secrets or CA to claim them with; what the engines say stays."""
    views = [cloud for cloud, _ in clouds.values() if cloud is not None]
    internal = [bool(c.get("internal_security_enabled")) for c in views]
    secure = creds.secure if set_up else None
    return {
        "set_up": set_up,
        "secure": secure,
        "h2o": {
            "https": creds.h2o_scheme == "https" if set_up else None,
            "internal_security": all(internal) if internal else None,
            "anonymous_refused": anonymous,
        },
        "spark": {"authenticated_by": "shared secret" if secure else None,
                  "rest_submission_open": rest_open},
    }  # fmt: skip


def collect(
    inv: ClusterInventory | None,
    timeout: float = TIMEOUT,
    ends: Endpoints | None = None,
    creds: Credentials | None = None,
    *,
    source: str | None = None,
    security_set_up: bool = True,
) -> dict:
    """The whole status model (what `dmlctl status --json` prints), fetched in parallel.

    INV None: a profile's view (ENDS given), without the hosts' SSH reachability.
    SECURITY_SET_UP: see security_facts.
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
        security = security_facts(creds, clouds, anonymous.result(), rest.result(), security_set_up)
    return {
        "healthy": spark["healthy"] and h2o["healthy"],
        "spark": spark,
        "h2o": h2o,
        "hosts": hosts,
        "security": security,
        "inventory": source or (str(inv.path) if inv is not None else None),
    }


def collect_for(conn, timeout: float = TIMEOUT) -> dict:
    """The status model of a connection's cluster (dmlctl.cluster.connection); a refused login
    is an error of its own (exit 1), with what to do about it."""
    model = collect(conn.inv, timeout, ends=conn.ends, creds=conn.creds, source=conn.source,
                    security_set_up=conn.security_set_up)  # fmt: skip
    problems = model["h2o"]["problems"]
    if problems and all("login was refused" in p for p in problems):
        raise OperationError(
            f"the H2O cloud refused the login from {conn.source} (HTTP 401)",
            hint=conn.refused_hint,
        )
    return model
