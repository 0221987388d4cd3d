"""Will a job on this H2O cloud finish? A judgment from every node's own `GET /3/Cloud`; no I/O
(dmlctl.status fetches the views).

H2O's own flags cannot answer it alone. A cloud's members are known by ip:port (water/Paxos.java),
so a node that restarts after the cloud locked (its first job) rejoins under its old name: every
node then says `consensus: true, cloud_healthy: true` while the restarted one holds none of the
cloud's data and every job hangs. The signs are in the views: the restarted node answers
`locked: false` while the others are locked, and its JVM started long after theirs
(`cloud_uptime_millis` is the node's own uptime, water/H2O.java START_TIME_MILLIS). A member that
stopped answering stays a member: H2O calls it unhealthy after 60 s without a heartbeat
(water/HeartBeatThread.java TIMEOUT) and never drops it.

Verdicts: `healthy` (every expected node in one consistent cloud), `degraded` (a consistent cloud
of fewer nodes: it serves jobs, the others are named), `broken` (a job may hang or fail).
"""

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

HEALTHY, DEGRADED, BROKEN = "healthy", "degraded", "broken"
# Members of a cloud that formed as one started within this many seconds of one another (a
# whole-cloud start, or the nodes' watchdog re-forming it; roles/h2o uses the same window).
TOGETHER_S = 60
# A member that started this long after the members that locked the cloud restarted after the
# lock (the nodes' watchdog uses the same figure); members of a cloud formed as one start closer.
LATE_S = 20
# H2O calls a member unhealthy after this long without its heartbeat.
HEARTBEAT_TIMEOUT_S = 60
# The nodes' watchdog re-forms a cloud this long after the cause shows: two checks 5 s apart, a
# restart (2 s) and the JVMs' start, with room for a busy machine.
REFORM_S = 45
RESTART = "`dmlctl restart h2o`"


@dataclass(frozen=True)
class Finding:
    node: str  # the inventory name
    ip_port: str
    what: str  # what happened, in a sentence
    breaks_jobs: bool  # jobs on the cloud may hang or fail while this holds


def ip_port(text: str) -> str:
    """`10.89.0.2:54321` from H2O's `ip_port` (some versions write `host/10.89.0.2:54321`)."""
    return text.rsplit("/", 1)[-1]


def members(view: dict) -> set[str]:
    return {ip_port(n.get("ip_port", "")) for n in view.get("nodes", [])}


def started(view: dict, now: float) -> float | None:
    """When the node's H2O started (epoch seconds), from its own uptime."""
    uptime = view.get("cloud_uptime_millis")
    return None if not isinstance(uptime, int | float) else now - uptime / 1000


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def cloud_formed(views: list[dict], now: float | None = None) -> tuple[str | None, int | None]:
    """When the cloud last (re-)formed: its youngest member's start, and the seconds since.

    H2O accepts no late joiners, so every node of a healthy cloud started with it.
    """
    uptimes = [v["cloud_uptime_millis"] for v in views if "cloud_uptime_millis" in v]
    if not uptimes:
        return None, None
    now = time.time() if now is None else now
    seconds = min(uptimes) / 1000
    return iso(now - seconds), round(seconds)


def node_summary(node: dict) -> dict:
    """What status shows of one member, as a member's view reports it."""
    return {
        "ip_port": node.get("ip_port"),
        "healthy": bool(node.get("healthy")),
        "pid": node.get("pid"),
        "free_mem": node.get("free_mem", 0),
        "max_mem": node.get("max_mem", 0),
        "num_cpus": node.get("num_cpus", 0),
        "sys_load": node.get("sys_load"),
    }


def cloud_summary(views: dict[str, dict | None], serving: list[str], now: float) -> dict:
    """The cloud as status shows it: as its first serving member sees it (else the largest
    cloud any node sees), its nodes, memory, cores and when it last formed."""
    answering = [view for view in views.values() if view is not None]
    view = views[serving[0]] if serving else None
    view = view or max(answering, key=lambda c: c.get("cloud_size", 0), default=None) or {}
    nodes = [node_summary(n) for n in view.get("nodes", [])]
    formed, uptime = cloud_formed([views[a] for a in serving], now)
    return {
        "cloud_name": view.get("cloud_name"), "version": view.get("version"),
        "cloud_size": view.get("cloud_size", 0), "consensus": bool(view.get("consensus")),
        "locked": bool(view.get("locked")), "cloud_healthy": bool(view.get("cloud_healthy")),
        "nodes": nodes, "formed": formed, "uptime_s": uptime,
        "free_mem": sum(n["free_mem"] for n in nodes),
        "total_cores": sum(n["num_cpus"] for n in nodes),
    }  # fmt: skip


def main_cloud(views: dict[str, dict]) -> set[str]:
    """The cloud that serves jobs: the largest one that an answering node sees, preferring the
    one most answering nodes are in."""
    clouds = [frozenset(members(v)) for v in views.values()]
    return set(max(clouds, key=lambda c: (len(c), sum(ip in c for ip in views)), default=()))


def judge(
    views: dict[str, dict | None],
    expected: dict[str, str],
    cloud_name: str | None,
    now: float,
    errors: dict[str, str] | None = None,
) -> dict:
    """The verdict on a cloud from VIEWS ({ip:port: /3/Cloud payload or None}) of the EXPECTED
    members ({ip:port: inventory name}); ERRORS says why a node gave no payload."""
    errors = errors or {}
    findings: list[Finding] = []
    answering: dict[str, dict] = {}
    for address, host in expected.items():
        view = views.get(address)
        if view is None:
            continue
        if cloud_name and view.get("cloud_name") != cloud_name:
            what = f"{host} runs cloud {view.get('cloud_name')!r}, not {cloud_name!r}"
            findings.append(Finding(host, address, what, False))
        else:
            answering[address] = view
    cloud = main_cloud(answering)
    findings += _absent(expected, views, answering, cloud, errors, now)
    findings += _members_disagree(expected, answering, cloud, now)
    return _verdict(expected, answering, cloud, findings, now)


def _last_heard(answering: dict[str, dict], cloud: set[str], address: str) -> float | None:
    """When a member of CLOUD last heard from ADDRESS (epoch seconds), None if none says."""
    heard = [
        n.get("last_ping", 0) / 1000
        for a, view in answering.items()
        if a in cloud and a != address
        for n in view.get("nodes", [])
        if ip_port(n.get("ip_port", "")) == address and n.get("last_ping")
    ]
    return max(heard, default=None)


def _absent(expected, views, answering, cloud, errors, now) -> list[Finding]:
    """Expected nodes that do not answer, or answer from outside the serving cloud."""
    found = []
    for address, host in expected.items():
        if address in answering and address in cloud:
            continue
        if address in answering:
            view = answering[address]
            seen = ", ".join(sorted(members(view)))
            what = (
                f"{host} is in a cloud of {len(members(view))} (sees {seen}), "
                f"expected {len(expected)}"
            )
            found.append(Finding(host, address, what, False))
        elif views.get(address) is None:
            why = errors.get(address, "no reply")
            what = f"{host} ({address}) does not answer: {why}"
            if address in cloud:
                heard = _last_heard(answering, cloud, address)
                since = f" since {iso(heard)}" if heard else ""
                what += f"; still a member of the cloud{since}, so jobs that touch it hang"
            found.append(Finding(host, address, what, address in cloud))
    return found


def _members_disagree(expected, answering, cloud, now) -> list[Finding]:
    """Members of the serving cloud whose views show it cannot run a job."""
    found = []
    present = {a: v for a, v in answering.items() if a in cloud}
    name = {a: expected.get(a, a) for a in cloud}
    for address, view in present.items():
        for node in view.get("nodes", []):
            other = ip_port(node.get("ip_port", ""))
            if not node.get("healthy", True):
                what = (
                    f"{name.get(other, other)} ({other}) sent no heartbeat for a minute: "
                    "H2O calls it unhealthy"
                )
                found.append(Finding(name.get(other, other), other, what, True))
        if not view.get("consensus"):
            what = f"the cloud has no consensus yet ({name[address]} is still forming it)"
            found.append(Finding(name[address], address, what, True))
    starts = {a: started(v, now) for a, v in present.items()}
    locked = [a for a, v in present.items() if v.get("locked")]
    oldest = min((s for s in starts.values() if s is not None), default=None)
    for address, view in present.items():
        when = iso(starts[address])
        lockers = [starts[a] for a in locked if starts[a] is not None]
        if locked and not view.get("locked") and starts[address] and lockers:
            # Unlocked beside locked members: restarted after the lock if it started LATE_S
            # after them; else only not locked yet (a client connected to one node, or a job's
            # first second).
            if starts[address] - max(lockers) > LATE_S:
                what = (
                    f"{name[address]} restarted at {when}, after the cloud locked (its first "
                    "job): it is back under its old address but holds none of the cloud's "
                    "data, so every job hangs"
                )
                found.append(Finding(name[address], address, what, True))
        elif locked and starts[address] and oldest and starts[address] - oldest > TOGETHER_S:
            late = round(starts[address] - oldest)
            what = (
                f"{name[address]} restarted at {when}, {late} s after the other members: "
                "it holds none of the locked cloud's data, so every job hangs"
            )
            found.append(Finding(name[address], address, what, True))
    return _unique(found)


def _unique(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for finding in findings:
        if finding.what not in seen:
            seen.add(finding.what)
            out.append(finding)
    return out


def _heals_in(findings: list[Finding], answering, cloud, now) -> int:
    """Seconds until the nodes' watchdog has re-formed the cloud (an estimate)."""
    wait = 0.0
    for finding in findings:
        heard = _last_heard(answering, cloud, finding.ip_port)
        if "does not answer" in finding.what and heard is not None:
            wait = max(wait, HEARTBEAT_TIMEOUT_S - (now - heard))
        elif "does not answer" in finding.what:
            wait = max(wait, HEARTBEAT_TIMEOUT_S)
    return round(max(wait, 0) + REFORM_S)


def _verdict(expected, answering, cloud, findings, now) -> dict:
    missing = [host for address, host in expected.items() if address not in cloud]
    serving = [a for a in expected if a in cloud and a in answering]
    broken = [f for f in findings if f.breaks_jobs]
    heals_in = None
    if not serving:
        state, following = BROKEN, "no H2O node of this cloud answers: `dmlctl start h2o`"
        if not findings:
            findings = [Finding("-", "-", "no H2O node answers", True)]
    elif broken:
        state, heals_in = BROKEN, _heals_in(broken, answering, cloud, now)
        following = (
            f"re-forms by itself within about {heals_in} s (the nodes' h2o-watchdog restarts "
            f"the cloud; running jobs are lost); if it does not, run {RESTART}"
        )
    elif missing:
        state = DEGRADED
        following = (
            f"serves jobs on {len(serving)} of {len(expected)} nodes; when "
            f"{', '.join(missing)} is back, the cloud re-forms with it by itself "
            f"(or run {RESTART})"
        )
    else:
        state, following = HEALTHY, None
    return {
        "state": state,
        "serves_jobs": state in (HEALTHY, DEGRADED),
        "members": sorted(cloud),
        "serving": serving,
        "missing": missing,
        "findings": [asdict(f) for f in findings],
        "next": following,
        "heals_in_s": heals_in,
        "member_starts": {a: iso(started(answering[a], now)) for a in serving},
    }
