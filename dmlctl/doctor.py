"""`dmlctl doctor`: is every machine fit for a deploy? Plain functions over an inventory.

`plan` says what to look at on each host (engine ports, peers to reach, install paths),
`probe` runs playbooks/doctor.yml (one raw task per host, all hosts at once) and returns what
each host answered, `evaluate` turns plan + answers into findings with a fix for every failure.
`settings_findings` needs no machine at all: deploy runs it before changing anything.
"""

import functools
import ipaddress
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dmlctl.inventory import ClusterInventory
from dmlctl.status import role_default

# Java majors each engine accepts: [lowest, highest] (as roles/java/vars/main.yml).
JAVA_SUPPORT = {"spark": (17, 21), "h2o": (8, 17)}
SUPPORTED_OS = {"debian", "ubuntu", "rhel", "fedora", "centos", "rocky", "almalinux"}
DISK_HEADROOM_MB = 256  # logs and H2O's spill space on a first start
_SIZE = re.compile(r"^([0-9]+)([mMgG]?)$")


@dataclass(frozen=True)
class Finding:
    host: str
    check: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""


@dataclass
class HostPlan:
    """What doctor looks at on one host."""

    engines: list[str]
    python: str
    ports: dict[str, int] = field(default_factory=dict)  # setting name -> port
    peers: list[tuple[str, str, str, int]] = field(
        default_factory=list
    )  # host, setting, addr, port
    paths: dict[str, str] = field(default_factory=dict)  # engine -> install root
    own_users: list[str] = field(default_factory=list)

    def probe_spec(self) -> dict:
        return {
            "python": self.python,
            "ports": sorted(set(self.ports.values())),
            "peers": [[address, port] for _, _, address, port in self.peers],
            "paths": list(self.paths.values()),
            "own_users": self.own_users,
        }


def setting(inv: ClusterInventory, host: str, role: str, name: str, fallback=None):
    """A host's value of a role variable: the inventory's, else the role's plain default."""
    value = inv.var(host, name)
    if value is None or (isinstance(value, str) and "{{" in value):
        value = role_default(role, name)
    return fallback if value is None else value


def plan(inv: ClusterInventory) -> dict[str, HostPlan]:
    master = inv.group("spark_master")[0]
    plans = {}
    for host in inv.hosts:
        is_master = host in inv.group("spark_master")
        is_worker = host in inv.group("spark_workers")
        is_h2o = host in inv.group("h2o_nodes")
        engines = (["spark"] if is_master or is_worker else []) + (["h2o"] if is_h2o else [])
        python = str(setting(inv, host, "spark", "spark_python", "/usr/bin/python3"))
        hp = HostPlan(engines=engines, python=python if engines[:1] == ["spark"] else "python3")
        spark_port = int(setting(inv, master, "spark", "spark_master_port", 7077))
        if is_master:
            for name in ("spark_master_port", "spark_master_webui_port"):
                hp.ports[name] = int(setting(inv, host, "spark", name))
            if str(setting(inv, host, "spark", "spark_master_rest_enabled", False)).lower() in (
                "true", "yes", "1",
            ):  # fmt: skip
                hp.ports["spark_master_rest_port"] = int(
                    setting(inv, host, "spark", "spark_master_rest_port", 6066)
                )
        if is_worker:
            for name in ("spark_worker_port", "spark_worker_webui_port"):
                hp.ports[name] = int(setting(inv, host, "spark", name))
            if host != master:
                hp.peers.append((master, "spark_master_port", inv.address(master), spark_port))
        if is_h2o:
            port = int(setting(inv, host, "h2o", "h2o_port", 54321))
            hp.ports["h2o_port"], hp.ports["h2o_port+1"] = port, port + 1
            for peer in inv.group("h2o_nodes"):
                if peer != host:
                    peer_port = int(setting(inv, peer, "h2o", "h2o_port", 54321))
                    hp.peers.append((peer, "h2o_port", inv.address(peer), peer_port))
                    hp.peers.append((peer, "h2o_port+1", inv.address(peer), peer_port + 1))
        for engine in engines:
            hp.paths[engine] = str(setting(inv, host, engine, f"{engine}_install_root"))
            hp.own_users.append(str(setting(inv, host, engine, f"{engine}_user", engine)))
        plans[host] = hp
    return plans


def size_mb(value) -> int | None:
    """A role's memory size ("512m", "2g", "2048" MiB) in MiB; None when it is not one."""
    match = _SIZE.match(str(value).strip())
    if not match:
        return None
    number, unit = int(match.group(1)), match.group(2).lower()
    return number * 1024 if unit == "g" else number


def settings_findings(inv: ClusterInventory, plans: dict[str, HostPlan]) -> list[Finding]:
    """What is wrong in the inventory itself (no machine needed): sizes and port collisions."""
    findings = []
    for host, hp in plans.items():
        for name in ("spark_daemon_memory", "spark_worker_memory", "h2o_max_heap"):
            value = inv.var(host, name)
            if value is not None and "{{" not in str(value) and size_mb(value) is None:
                findings.append(Finding(host, "settings", "fail", f"{name}={value} is not a size",
                                        "write it like 512m or 2g"))  # fmt: skip
        by_port: dict[int, list[str]] = {}
        for name, port in hp.ports.items():
            by_port.setdefault(port, []).append(name)
            if not 1 <= port <= 65535:
                findings.append(Finding(host, "settings", "fail", f"{name}={port} is not a port",
                                        "use a TCP port 1-65535"))  # fmt: skip
        for port, names in by_port.items():
            if len(names) > 1:
                findings.append(Finding(host, "settings", "fail",
                                        f"port {port} is both {' and '.join(names)}",
                                        "give each engine port its own number in the inventory"))  # fmt: skip
    return findings


# ---------------------------------------------------------------- running the probe


def probe(inventory_path: Path, plans: dict[str, HostPlan]) -> dict[str, tuple[str, dict | str]]:
    """Per host: ("ok", the probe's JSON), ("unreachable", why) or ("failed", why)."""
    from dmlctl import runner
    from dmlctl.progress import failure_message

    answers: dict[str, tuple[str, dict | str]] = {}

    def on_event(event: dict) -> None:
        data = event.get("event_data", {})
        kind, host, result = event.get("event"), data.get("host"), data.get("res") or {}
        if kind == "runner_on_ok":
            lines = [line for line in result.get("stdout", "").splitlines() if line.startswith("{")]
            try:
                answers[host] = ("ok", json.loads(lines[-1]))
            except (IndexError, ValueError):
                answers[host] = ("failed", "the probe printed no JSON: " + result.get("stdout", ""))
        elif kind == "runner_on_unreachable":
            answers[host] = ("unreachable", failure_message(result))
        elif kind == "runner_on_failed":
            answers[host] = ("failed", failure_message(result))

    specs = {host: hp.probe_spec() for host, hp in plans.items()}
    runner.run_playbook(
        "doctor.yml", inventory_path, on_event=on_event, extravars={"dmlctl_doctor_specs": specs}
    )
    return answers


# ---------------------------------------------------------------- judging the answers


def java_major(version: str) -> int | None:
    """1.8.0_402 -> 8, 17.0.9 -> 17."""
    match = re.match(r"^(?:1\.)?([0-9]+)", version or "")
    return int(match.group(1)) if match else None


def _connection(host: str, status: str, why: str, address: str) -> Finding:
    if status == "unreachable":
        return Finding(host, "ssh", "fail", f"unreachable: {why}",
                       f"start the machine or its sshd; try `ssh {address}`")  # fmt: skip
    if re.search(r"sudo|password|become|privilege", why, re.IGNORECASE):
        return Finding(host, "sudo", "fail", why,
                       "give ansible_user passwordless sudo, or set ansible_become_password")  # fmt: skip
    return Finding(host, "probe", "fail", why, "run `dmlctl doctor -i INVENTORY` again; "
                   "if it persists, check python3 on that host")  # fmt: skip


def _os(host: str, seen: dict) -> Finding:
    system = seen.get("os", {})
    family = {system.get("id", "")} | set(system.get("id_like", "").split())
    name = system.get("pretty") or system.get("id") or "unknown"
    if not family & SUPPORTED_OS:
        return Finding(host, "os", "fail", f"{name} is not a supported OS",
                       "use a Debian/Ubuntu or Red Hat family system")  # fmt: skip
    if not system.get("systemd"):
        return Finding(host, "os", "fail", f"{name} does not run systemd",
                       "the engines run as systemd services: boot with systemd")  # fmt: skip
    return Finding(host, "os", "ok", f"{name}, systemd")


def _java(inv: ClusterInventory, host: str, hp: HostPlan, seen: dict) -> Finding:
    wanted = setting(inv, host, "java", "java_major_version", 17)
    found = seen.get("java")
    major = java_major(found["version"]) if found else None
    if major is None:
        return Finding(host, "java", "ok", f"none yet; deploy installs OpenJDK {wanted}")
    low = max(JAVA_SUPPORT[e][0] for e in hp.engines)
    high = min(JAVA_SUPPORT[e][1] for e in hp.engines)
    if low <= major <= high:
        return Finding(host, "java", "ok", f"Java {found['version']}")
    return Finding(host, "java", "fail",
                   f"Java {found['version']} ({found['executable']}); {'+'.join(hp.engines)} "
                   f"need {low}-{high}",
                   f"point /usr/bin/java at OpenJDK {wanted} (update-alternatives --config java)")  # fmt: skip


def _python(host: str, hp: HostPlan, seen: dict) -> Finding:
    version = seen.get("python")
    if not version:
        return Finding(host, "python", "fail", f"no {hp.python}",
                       "install python3 (Ansible and Spark's executors need it)")  # fmt: skip
    driver = sys.version_info[:2]
    text = ".".join(map(str, version))
    if "spark" in hp.engines and tuple(version[:2]) != driver:
        return Finding(host, "python", "fail",
                       f"{hp.python} is {text}, the driver's is {driver[0]}.{driver[1]}: PySpark "
                       "refuses a mismatch",
                       f"install Python {driver[0]}.{driver[1]} there and set spark_python to it, "
                       f"or run dmlctl with Python {version[0]}.{version[1]}")  # fmt: skip
    return Finding(host, "python", "ok", f"{hp.python} {text}")


def _memory(inv: ClusterInventory, host: str, hp: HostPlan, seen: dict) -> Finding:
    total, available = seen["memory"]["total_mb"], seen["memory"]["available_mb"]
    needs = {}
    is_master, is_worker = host in inv.group("spark_master"), host in inv.group("spark_workers")
    if "spark" in hp.engines:
        daemon = size_mb(setting(inv, host, "spark", "spark_daemon_memory", "1g")) or 1024
        needs["Spark daemons"] = daemon * (is_master + is_worker)
        if is_worker:
            worker = size_mb(setting(inv, host, "spark", "spark_worker_memory", ""))
            needs["spark_worker_memory"] = worker or max(int(total * 0.5), 512)
    if "h2o" in hp.engines:
        heap = size_mb(setting(inv, host, "h2o", "h2o_max_heap", ""))
        needs["h2o_max_heap"] = heap or max(int(total * 0.25), 512)
    need = sum(needs.values())
    parts = ", ".join(f"{name} {mb}" for name, mb in needs.items())
    if need >= total:
        return Finding(host, "memory", "fail", f"needs {need} MiB ({parts}), has {total} MiB",
                       "lower spark_worker_memory / h2o_max_heap for this host")  # fmt: skip
    if need > available + seen.get("own_rss_mb", 0):
        return Finding(host, "memory", "warn",
                       f"needs {need} MiB ({parts}), {available} MiB available now",
                       "stop what uses the memory, or lower the sizes")  # fmt: skip
    return Finding(host, "memory", "ok", f"needs {need} of {total} MiB ({available} available)")


@functools.cache
def artifact_mb() -> dict[str, int]:
    """Disk each engine's installation takes, from the controller's pinned packages."""
    from importlib.util import find_spec

    sizes = {"spark": 450, "h2o": 250}
    for engine, package, part in (("spark", "pyspark", "jars"), ("h2o", "h2o", "backend/bin")):
        spec = find_spec(package)
        if spec and spec.origin:
            files = (Path(spec.origin).parent / part).glob("*")
            sizes[engine] = max(sum(f.stat().st_size for f in files if f.is_file()) >> 20, 1)
    return sizes


def _disk(host: str, hp: HostPlan, seen: dict) -> Finding:
    need: dict[str, int] = {}
    free: dict[str, int] = {}
    for engine, answer in zip(hp.paths, seen.get("disk", [])):
        installed = answer["checked"] == answer["path"]
        need[answer["checked"]] = need.get(answer["checked"], DISK_HEADROOM_MB) + (
            0 if installed else artifact_mb()[engine]
        )
        free[answer["checked"]] = min(answer["free_mb"], free.get(answer["checked"], 1 << 62))
    short = {path: (need[path], free[path]) for path in need if free[path] < need[path]}
    if short:
        text = "; ".join(f"{p}: {f} MiB free, needs {n}" for p, (n, f) in short.items())
        return Finding(host, "disk", "fail", text, "free space there, or move the install roots")
    return Finding(host, "disk", "ok", ", ".join(f"{p} {free[p]} MiB free" for p in free))


def _ports(host: str, hp: HostPlan, seen: dict) -> Finding:
    names_by_port: dict[int, list[str]] = {}
    for name, port in hp.ports.items():
        names_by_port.setdefault(port, []).append(name)
    own, foreign = [], []
    for listener in seen.get("listeners", []):
        if ipaddress.ip_address(listener["address"]).is_loopback:
            continue  # the engines bind their host's address, not loopback
        process = listener.get("process") or {}
        label = f"{listener['port']} ({'/'.join(names_by_port.get(listener['port'], []))})"
        if process.get("user") in hp.own_users and process.get("name") == "java":
            own.append(f"{label} {process['user']}")
        else:
            who = (
                f"{process.get('name')} (pid {process.get('pid')}, user {process.get('user')}: "
                f"{process.get('cmdline')})"
                if process
                else "an unknown process"
            )
            foreign.append(f"port {label} is held by {who}")
    if foreign:
        return Finding(host, "ports", "fail", "; ".join(sorted(set(foreign))),
                       "stop that process, or move the engine port in the inventory")  # fmt: skip
    ports = ", ".join(str(p) for p in sorted(names_by_port))
    if own:
        return Finding(host, "ports", "ok", f"{ports}; in use by dmlctl's services: "
                       + ", ".join(sorted(set(own))))  # fmt: skip
    return Finding(host, "ports", "ok", f"{ports} free")


def _address(inv: ClusterInventory, host: str, hp: HostPlan, seen: dict) -> Finding:
    ansible_host = inv.address(host)
    wanted = {}
    for engine in hp.engines:
        explicit = setting(inv, host, engine, f"{engine}_bind_address")
        try:
            ipaddress.IPv4Address(str(explicit or ansible_host))
            wanted[engine] = str(explicit or ansible_host)
        except ValueError:
            pass  # a name: the roles use the host's default IPv4 address
    has = seen.get("addresses", [])
    wrong = {engine: address for engine, address in wanted.items() if address not in has}
    if wrong:
        text = ", ".join(f"{e} would bind {a}" for e, a in wrong.items())
        shown = ", ".join(a for a in has if not ipaddress.ip_address(a).is_loopback)
        return Finding(host, "address", "fail", f"{text}, not an address of this host ({shown})",
                       "set ansible_host (or the *_bind_address) to one of the host's addresses")  # fmt: skip
    return Finding(host, "address", "ok", ", ".join(sorted(set(wanted.values()))) or "default")


def _reach(host: str, hp: HostPlan, seen: dict, up: set[str]) -> Finding | None:
    if not hp.peers:
        return None
    bad = []
    for (peer, name, address, port), answer in zip(hp.peers, seen.get("peers", [])):
        if peer in up and answer["result"] not in ("open", "refused"):
            bad.append(f"{peer} {address}:{port} ({name}): {answer['result']}")
    if bad:
        return Finding(host, "reach", "fail", "cannot reach " + "; ".join(bad),
                       "open these TCP ports between the machines (firewall, routing)")  # fmt: skip
    return Finding(host, "reach", "ok", f"{len(hp.peers)} peer port(s) reachable")


def evaluate(
    inv: ClusterInventory, plans: dict[str, HostPlan], answers: dict[str, tuple[str, dict | str]]
) -> list[Finding]:
    """Findings per host, in a stable order; hosts that did not answer get one finding."""
    up = {host for host, (status, _) in answers.items() if status == "ok"}
    findings = []
    for host, hp in plans.items():
        status, seen = answers.get(host, ("unreachable", "no answer from Ansible"))
        if status != "ok":
            findings.append(_connection(host, status, str(seen), inv.address(host)))
            continue
        assert isinstance(seen, dict)
        findings.append(Finding(host, "ssh+sudo", "ok", "answered as root"))
        python = _python(host, hp, seen)
        findings.append(python)
        if not seen.get("python"):
            continue  # the probe itself needs python3
        findings += [
            _os(host, seen),
            _java(inv, host, hp, seen),
            _memory(inv, host, hp, seen),
            _disk(host, hp, seen),
            _ports(host, hp, seen),
            _address(inv, host, hp, seen),
        ]
        if reach := _reach(host, hp, seen, up):
            findings.append(reach)
    return findings


def failures(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.status == "fail"]


def to_json(findings: list[Finding], seconds: float) -> dict:
    return {
        "ok": not failures(findings),
        "seconds": round(seconds, 3),
        "checks": [asdict(f) for f in findings],
    }
