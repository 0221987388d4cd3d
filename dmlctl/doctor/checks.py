"""Judging what each host answered to doctor's probe: one finding per check, a fix for every
failure. Pure functions of the plan and the answers, so tests can feed them recorded answers."""

import functools
import ipaddress
import re
from pathlib import Path

from dmlctl import engines
from dmlctl.doctor import runtimes
from dmlctl.doctor.plan import Finding, HostPlan, size_mb
from dmlctl.playbooks.inventory import ClusterInventory

SUPPORTED_OS = {"debian", "ubuntu", "rhel", "fedora", "centos", "rocky", "almalinux"}
DISK_HEADROOM_MB = 256  # logs and H2O's spill space on a first start


def _connection(host: str, status: str, why: str, address: str) -> Finding:
    if status == "unreachable":
        return Finding(
            host,
            "ssh",
            "fail",
            f"unreachable: {why}",
            f"start the machine or its sshd; try `ssh {address}`",
        )
    if re.search(r"sudo|password|become|privilege", why, re.IGNORECASE):
        return Finding(
            host,
            "sudo",
            "fail",
            why,
            "give ansible_user passwordless sudo, or set ansible_become_password",
        )
    return Finding(
        host,
        "probe",
        "fail",
        why,
        "run `dmlctl doctor -i INVENTORY` again; if it persists, check python3 on that host",
    )


def _os(host: str, seen: dict) -> Finding:
    system = seen.get("os", {})
    family = {system.get("id", "")} | set(system.get("id_like", "").split())
    name = system.get("pretty") or system.get("id") or "unknown"
    if not family & SUPPORTED_OS:
        return Finding(
            host,
            "os",
            "fail",
            f"{name} is not a supported OS",
            "use a Debian/Ubuntu or Red Hat family system",
        )
    if not system.get("systemd"):
        return Finding(
            host,
            "os",
            "fail",
            f"{name} does not run systemd",
            "the engines run as systemd services: boot with systemd",
        )
    return Finding(host, "os", "ok", f"{name}, systemd")


def _memory(inv: ClusterInventory, host: str, hp: HostPlan, seen: dict) -> Finding:
    total, available = seen["memory"]["total_mb"], seen["memory"]["available_mb"]
    needs = {}
    is_master, is_worker = (
        host in inv.group(engines.SPARK_MASTER_GROUP),
        host in inv.group(engines.SPARK_WORKERS_GROUP),
    )
    if "spark" in hp.engines:
        daemon = size_mb(inv.setting(host, "spark_daemon_memory")) or 1024
        needs["Spark daemons"] = daemon * (is_master + is_worker)
        if is_worker:
            worker = size_mb(inv.setting(host, "spark_worker_memory"))
            needs["spark_worker_memory"] = worker or max(int(total * 0.5), 512)
    if "h2o" in hp.engines:
        heap = size_mb(inv.setting(host, "h2o_max_heap"))
        needs["h2o_max_heap"] = heap or max(int(total * 0.25), 512)
    need = sum(needs.values())
    parts = ", ".join(f"{name} {mb}" for name, mb in needs.items())
    if need >= total:
        return Finding(
            host,
            "memory",
            "fail",
            f"needs {need} MiB ({parts}), has {total} MiB",
            "lower spark_worker_memory / h2o_max_heap for this host",
        )
    if need > available + seen.get("own_rss_mb", 0):
        return Finding(
            host,
            "memory",
            "warn",
            f"needs {need} MiB ({parts}), {available} MiB available now",
            "stop what uses the memory, or lower the sizes",
        )
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
    for engine, answer in zip(hp.paths, seen.get("disk", []), strict=False):
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
            own.append(process["user"])
        else:
            who = (
                f"{process.get('name')} (pid {process.get('pid')}, user {process.get('user')}: "
                f"{process.get('cmdline')})"
                if process
                else "an unknown process"
            )
            foreign.append(f"port {label} is held by {who}")
    if foreign:
        return Finding(
            host,
            "ports",
            "fail",
            "; ".join(sorted(set(foreign))),
            "stop that process, or move the engine port in the inventory",
        )
    ports = ", ".join(str(p) for p in sorted(names_by_port))
    if own:
        return Finding(
            host,
            "ports",
            "ok",
            f"{ports}: free or held by dmlctl's own services ({', '.join(sorted(set(own)))})",
        )
    return Finding(host, "ports", "ok", f"{ports} free")


def _address(inv: ClusterInventory, host: str, hp: HostPlan, seen: dict) -> Finding:
    ansible_host = inv.address(host)
    wanted = {}
    for engine in hp.engines:
        explicit = inv.setting(host, f"{engine}_bind_address")
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
        return Finding(
            host,
            "address",
            "fail",
            f"{text}, not an address of this host ({shown})",
            "set ansible_host (or the *_bind_address) to one of the host's addresses",
        )
    return Finding(host, "address", "ok", ", ".join(sorted(set(wanted.values()))) or "default")


def _reach(host: str, hp: HostPlan, seen: dict, up: set[str]) -> Finding | None:
    if not hp.peers:
        return None
    bad = []
    for (peer, name, address, port), answer in zip(hp.peers, seen.get("peers", []), strict=False):
        # "in use": H2O already serves there, so its node-to-node port was not touched.
        if peer in up and answer["result"] not in ("open", "refused", "in use"):
            bad.append(f"{peer} {address}:{port} ({name}): {answer['result']}")
    if bad:
        return Finding(
            host,
            "reach",
            "fail",
            "cannot reach " + "; ".join(bad),
            "open these TCP ports between the machines (firewall, routing)",
        )
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
        python = runtimes.python(host, hp, seen)
        findings.append(python)
        if not seen.get("python"):
            continue  # the probe itself needs python3
        findings += [
            _os(host, seen),
            runtimes.java(inv, host, hp, seen),
            _memory(inv, host, hp, seen),
            _disk(host, hp, seen),
            _ports(host, hp, seen),
            _address(inv, host, hp, seen),
        ]
        if reach := _reach(host, hp, seen, up):
            findings.append(reach)
    return findings
