"""`dmlctl doctor`: is every machine fit for a deploy? Plain functions over an inventory.

`plan` says what to look at on each host (engine ports, peers to reach, install paths),
`probe` runs playbooks/doctor.yml (one raw task per host, all hosts at once) and returns what
each host answered; dmlctl.doctor.checks turns those answers into findings, a fix for every
failure.
`settings_findings` needs no machine at all: deploy runs it before changing anything.
"""

import functools
import importlib.util
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dmlctl import engines, store
from dmlctl.paths import ROLES_DIR
from dmlctl.playbooks.inventory import ClusterInventory


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
    executors: bool = False  # runs Spark executors (a worker): its Python meets the driver's
    ports: dict[str, int] = field(default_factory=dict)  # setting name -> port
    peers: list[tuple[str, str, str, int]] = field(
        default_factory=list
    )  # host, setting, addr, port
    paths: dict[str, str] = field(default_factory=dict)  # engine -> install root
    own_users: list[str] = field(default_factory=list)
    java: dict = field(default_factory=dict)  # what the java role's java_choice.py is asked

    def probe_spec(self) -> dict:
        return {
            "python": self.python,
            "ports": sorted(set(self.ports.values())),
            # H2O's node-to-node port only where its REST port is free (see the probe's reach).
            "peers": [
                [address, port, port - 1 if setting == "h2o_port+1" else None]
                for _, setting, address, port in self.peers
            ],
            "paths": list(self.paths.values()),
            "own_users": self.own_users,
            "java": self.java,
        }


def plan(inv: ClusterInventory) -> dict[str, HostPlan]:
    master = inv.group(engines.SPARK_MASTER_GROUP)[0]
    plans = {}
    for host in inv.hosts:
        is_master = host in inv.group(engines.SPARK_MASTER_GROUP)
        is_worker = host in inv.group(engines.SPARK_WORKERS_GROUP)
        is_h2o = host in inv.group(engines.H2O_GROUP)
        runs = (["spark"] if is_master or is_worker else []) + (["h2o"] if is_h2o else [])
        python = str(inv.setting(host, "spark_python"))
        hp = HostPlan(
            engines=runs,
            python=python if runs[:1] == ["spark"] else "python3",
            executors=is_worker,
        )
        spark_port = int(inv.setting(master, "spark_master_port"))
        if is_master:
            for name in ("spark_master_port", "spark_master_webui_port"):
                hp.ports[name] = int(inv.setting(host, name))
            if store.truthy(inv.setting(host, "spark_master_rest_enabled")):
                hp.ports["spark_master_rest_port"] = int(
                    inv.setting(host, "spark_master_rest_port")
                )
        if is_worker:
            for name in ("spark_worker_port", "spark_worker_webui_port"):
                hp.ports[name] = int(inv.setting(host, name))
            if host != master:
                hp.peers.append((master, "spark_master_port", inv.address(master), spark_port))
        if is_h2o:
            port = int(inv.setting(host, "h2o_port"))
            hp.ports["h2o_port"], hp.ports["h2o_port+1"] = port, port + 1
            for peer in inv.group(engines.H2O_GROUP):
                if peer != host:
                    peer_port = int(inv.setting(peer, "h2o_port"))
                    hp.peers.append((peer, "h2o_port", inv.address(peer), peer_port))
                    hp.peers.append((peer, "h2o_port+1", inv.address(peer), peer_port + 1))
        for engine in runs:
            hp.paths[engine] = str(inv.setting(host, f"{engine}_install_root"))
            hp.own_users.append(str(inv.setting(host, f"{engine}_user")))
        hp.java = java_spec(inv, host, runs)
        plans[host] = hp
    return plans


def java_spec(inv: ClusterInventory, host: str, runs: list[str]) -> dict:
    """The question the java role asks files/java_choice.py on HOST, from the same variables
    (each engine's `<engine>_java_majors`, the pin, the JDK artifact on offer)."""
    source = inv.artifact_source(host, "java")
    if source == "mirror" and not inv.setting(host, "java_mirror_url"):
        source = ""
    beyond = store.truthy(inv.setting(host, "h2o_allow_unsupported_java"))
    return {
        "engines": {
            engine: {
                "majors": [int(m) for m in inv.setting(host, f"{engine}_java_majors")],
                "beyond": engine == "h2o" and beyond,
            }
            for engine in runs
        },
        "pin": int(inv.setting(host, "java_major_version") or 0),
        "package_pattern": "openjdk-{}-jre-headless",
        "artifact": {
            "major": int(inv.setting(host, "java_artifact_major")),
            "root": str(inv.setting(host, "java_install_root")),
            "source": source if source in ("bundle", "mirror") else "",
        },
    }


@functools.cache
def _role_filters():
    """The roles' own filter module, so doctor reads sizes exactly as a deploy does."""
    path = ROLES_DIR / "common" / "filter_plugins" / "dmlctl_filters.py"
    spec = importlib.util.spec_from_file_location("dmlctl_role_filters", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def size_mb(value) -> int | None:
    """A role's memory size ("512m", "2g", "1.5G"; a bare number is MiB) in MiB; None when it is
    not one."""
    return _role_filters().size_mib(value) or None


# Settings the roles take as lists of command-line options, each with a list to show.
OPTION_LISTS = {
    "spark_daemon_java_opts": "['-XX:TieredStopAtLevel=1', '-Xss4m']",
    "h2o_java_opts": "['-Xss4m', '-XX:+UseG1GC']",
    "h2o_extra_args": "['-nthreads', '2']",
}


def settings_findings(inv: ClusterInventory, plans: dict[str, HostPlan]) -> list[Finding]:
    """What is wrong in the inventory itself (no machine needed): sizes, option lists and port
    collisions."""
    findings = []
    for host, hp in plans.items():
        for name in ("spark_daemon_memory", "spark_worker_memory", "h2o_max_heap"):
            value = inv.var(host, name)
            if value is not None and "{{" not in str(value) and size_mb(value) is None:
                findings.append(
                    Finding(
                        host,
                        "settings",
                        "fail",
                        f"{name}={value} is not a size",
                        "write it like 512m or 2g",
                    )
                )
        for name, example in OPTION_LISTS.items():
            value = inv.var(host, name)
            # An INI inventory reads `h2o_java_opts=-Xss4m` as text, which the roles would join
            # letter by letter into the service's command line.
            if isinstance(value, str) and "{{" not in value:
                findings.append(
                    Finding(
                        host,
                        "settings",
                        "fail",
                        f"{name}={value} is text, not a list of options",
                        f"write it as a list: {name}={example}",
                    )
                )
        by_port: dict[int, list[str]] = {}
        for name, port in hp.ports.items():
            by_port.setdefault(port, []).append(name)
            if not 1 <= port <= 65535:
                findings.append(
                    Finding(
                        host,
                        "settings",
                        "fail",
                        f"{name}={port} is not a port",
                        "use a TCP port 1-65535",
                    )
                )
        for port, names in by_port.items():
            if len(names) > 1:
                findings.append(
                    Finding(
                        host,
                        "settings",
                        "fail",
                        f"port {port} is both {' and '.join(names)}",
                        "give each engine port its own number in the inventory",
                    )
                )
    return findings


# ---------------------------------------------------------------- running the probe


def probe(
    inventory_path: Path, plans: dict[str, HostPlan], limit: str | None = None
) -> dict[str, tuple[str, dict | str]]:
    """Per host: ("ok", the probe's JSON), ("unreachable", why) or ("failed", why)."""
    from dmlctl.playbooks import runner
    from dmlctl.playbooks.events import failure_message

    answers: dict[str, tuple[str, dict | str]] = {}

    def on_event(event: dict) -> None:
        data = event.get("event_data", {})
        kind, host, result = event.get("event"), data.get("host"), data.get("res") or {}
        if kind == "runner_on_ok":
            lines = [line for line in result.get("stdout", "").splitlines() if line.startswith("{")]
            try:
                # The machine's answer, then the java role's choice (doctor.yml runs both).
                seen = json.loads(lines[0])
                if seen.get("python") and len(lines) > 1:
                    seen["java_choice"] = json.loads(lines[1])
                answers[host] = ("ok", seen)
            except (IndexError, ValueError):
                answers[host] = ("failed", "the probe printed no JSON: " + result.get("stdout", ""))
        elif kind == "runner_on_unreachable":
            answers[host] = ("unreachable", failure_message(result))
        elif kind == "runner_on_failed":
            answers[host] = ("failed", failure_message(result))

    specs = {host: hp.probe_spec() for host, hp in plans.items()}
    runner.run_playbook(
        "doctor.yml",
        inventory_path,
        on_event=on_event,
        limit=limit,
        extravars={"dmlctl_doctor_specs": specs, "dmlctl_roles_dir": str(ROLES_DIR)},
    )
    return answers


def failures(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.status == "fail"]


def to_json(findings: list[Finding], seconds: float) -> dict:
    return {
        "ok": not failures(findings),
        "seconds": round(seconds, 3),
        "checks": [asdict(f) for f in findings],
    }
