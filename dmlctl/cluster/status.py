"""Cluster status from the engines' own REST endpoints, compared with what the inventory expects.

Spark: the master's `GET /json/`. H2O: `GET /3/Cloud` on every H2O node (never `/3/Ping`,
which locks the cloud). Everything is fetched in parallel with short timeouts; an unreachable
endpoint is reported in the model, not raised.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from dmlctl import engines
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


def cloud_formed(views: list[dict], now: float | None = None) -> tuple[str | None, int | None]:
    """When the cloud last (re-)formed: its youngest member's start, and the seconds since.

    H2O accepts no late joiners, so every node of a healthy cloud started with it.
    """
    uptimes = [v["cloud_uptime_millis"] for v in views if "cloud_uptime_millis" in v]
    if not uptimes:
        return None, None
    now = time.time() if now is None else now
    seconds = min(uptimes) / 1000
    return _iso((now - seconds) * 1000), round(seconds)


def worker_names(inv: ClusterInventory | None, addresses: list[str]) -> list[str]:
    """Missing workers as the inventory names them: "node3 (10.89.0.4)" (a profile has no names)."""
    if inv is None:
        return list(addresses)
    by_address = {inv.address(h): h for h in inv.group(engines.SPARK_WORKERS_GROUP)}
    return [f"{by_address[a]} ({a})" if a in by_address else a for a in addresses]


def _cloud_facts(view: dict) -> dict:
    """What one node's GET /3/Cloud says of the whole cloud, in the status model's words."""
    return {
        "cloud_name": view.get("cloud_name"),
        "version": view.get("version"),
        "cloud_size": view.get("cloud_size", 0),
        "consensus": bool(view.get("consensus")),
        "locked": bool(view.get("locked")),
        "cloud_healthy": bool(view.get("cloud_healthy")),
        "nodes": [
            {
                "ip_port": n.get("ip_port"),
                "healthy": bool(n.get("healthy")),
                "free_mem": n.get("free_mem", 0),
                "max_mem": n.get("max_mem", 0),
                "num_cpus": n.get("num_cpus", 0),
                "sys_load": n.get("sys_load"),
            }
            for n in view.get("nodes", [])
        ],
    }


def h2o_status(ends: Endpoints, clouds: dict[str, tuple[dict | None, str | None]]) -> dict:
    """Combine every node's own view of the cloud: each must see all expected members."""
    name = ends.h2o_cluster_name
    expected = ends.h2o_nodes
    # The largest cloud any node reports is "the" cloud; smaller ones are split-offs.
    views = [cloud for cloud, _ in clouds.values() if cloud is not None]
    leader_view = max(views, key=lambda c: c.get("cloud_size", 0), default=None)
    status = {
        "url": ends.h2o_url,
        "cloud_name": name,
        "version": None,
        "cloud_size": 0,
        "nodes_expected": len(expected),
        "healthy": False,
        "consensus": False,
        "locked": False,
        "nodes": [],
        "problems": [],
    }
    problems = status["problems"]
    for ip_port, host in expected.items():
        cloud, error = clouds.get(ip_port, (None, "not queried"))
        if cloud is None:
            problems.append(f"{host} ({ip_port}) does not answer: {error}")
            continue
        members = {n.get("ip_port") for n in cloud.get("nodes", [])}
        if name and cloud.get("cloud_name") != name:
            problems.append(f"{host} runs cloud {cloud.get('cloud_name')!r}, not {name!r}")
        elif members != set(expected):
            problems.append(
                f"{host} is in a cloud of {len(members)} "
                f"(sees {', '.join(sorted(members))}), expected {len(expected)}"
            )
    if leader_view is not None:
        status.update(_cloud_facts(leader_view))
        unhealthy = [n["ip_port"] for n in status["nodes"] if not n["healthy"]]
        problems.extend(f"{ip_port} reports itself unhealthy" for ip_port in unhealthy)
        if not status["consensus"]:
            problems.append("the cloud has no consensus yet")
    status["formed"], status["uptime_s"] = cloud_formed(views)
    status["free_mem"] = sum(n["free_mem"] for n in status["nodes"])
    status["total_cores"] = sum(n["num_cpus"] for n in status["nodes"])
    status["healthy"] = not problems and status["cloud_size"] == len(expected)
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


def collect_for(conn, timeout: float = TIMEOUT) -> dict:
    """The status model of a connection's cluster (dmlctl.cluster.connection); a refused login
    is an error of its own (exit 1), with what to do about it."""
    model = collect(conn.inv, timeout, ends=conn.ends, creds=conn.creds, source=conn.source)
    problems = model["h2o"]["problems"]
    if problems and all("login was refused" in p for p in problems):
        raise OperationError(
            f"the H2O cloud refused the login from {conn.source} (HTTP 401)",
            hint=conn.refused_hint,
        )
    return model
