"""What a failed run left running, engine by engine.

A deploy goes play by play (Spark, H2O, each with its Java, then the wait for both): when
H2O's play fails, Spark was already installed and started by the play before it, so
"deploy.yml failed" alone does not tell what the cluster is now. This reads the engines as
`dmlctl status` does (their REST APIs, short timeouts) and names the hosts where the run failed
for each engine. Reading them never raises: a cluster that cannot be asked is in an unknown
state, said in one line.
"""

from dataclasses import dataclass

from dmlctl import engines
from dmlctl.cluster import connection, status
from dmlctl.cluster.h2o_health import HEALTHY
from dmlctl.cluster.operations import PlaybookRun
from dmlctl.errors import DmlctlError
from dmlctl.playbooks.events import Failure
from dmlctl.playbooks.inventory import ClusterInventory
from dmlctl.playbooks.runner import RunOutcome

# Playbooks that start engines one after the other: a failure may leave one running.
STARTING_PLAYBOOKS = frozenset({"deploy.yml", "start.yml", "restart.yml"})
# Seconds per request (all are made at once): the user waits for this after a failure.
TIMEOUT = 2.0


@dataclass(frozen=True)
class EngineState:
    engine: str  # engines.Engine.name
    running: bool | None  # None: the state could not be read
    detail: str  # "master node1, 2 workers", why it is not running, or why it is unknown
    failed_on: tuple[str, ...] = ()  # hosts where the run failed for this engine


def worth_telling(run: PlaybookRun, outcome: RunOutcome) -> bool:
    """Whether a finished run may have left one engine running and not the other (a check run
    changes nothing)."""
    return not outcome.ok and not run.check and run.playbook in STARTING_PLAYBOOKS


def after_failure(inv: ClusterInventory, failures: list[Failure]) -> tuple[EngineState, ...]:
    """Each engine's state now, and where the run that ended with FAILURES failed for it."""
    try:
        model = status.collect_for(connection.for_inventory(inv), timeout=TIMEOUT)
    except Exception as error:  # the run's own failure is the news: never a traceback here
        return unknown(inv, failures, _reason(error))
    except KeyboardInterrupt:  # the user would rather not wait: the run's report still ends
        return unknown(inv, failures, "not read: interrupted")
    return judge(inv, model, failures)


def _reason(error: Exception) -> str:
    """ERROR in one line: dmlctl's and the network's own words, else its kind too."""
    said = " ".join(str(error).split())
    if isinstance(error, DmlctlError | OSError) and said:
        return said
    return f"{type(error).__name__}: {said}" if said else type(error).__name__


def failed_hosts(
    inv: ClusterInventory, failures: list[Failure], engine: engines.Engine
) -> tuple[str, ...]:
    """The hosts where the run failed for ENGINE: in its role (roles are named after the
    engines), or outside the engines' own roles (the java role they call, facts, an unreachable
    host) on a host that runs it: the engine on that host may not have been deployed."""
    members = {host for service in engine.services for host in inv.group(service.group)}
    hosts = [
        f.host
        for f in failures
        if f.role == engine.name or (f.role not in engines.NAMES and f.host in members)
    ]
    return tuple(dict.fromkeys(hosts))


def unknown(inv: ClusterInventory, failures: list[Failure], why: str) -> tuple[EngineState, ...]:
    """Every engine's state unknown for WHY; where the run failed is known all the same."""
    return tuple(
        EngineState(engine.name, None, why, failed_hosts(inv, failures, engine))
        for engine in engines.ENGINES.values()
    )


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def _spark(inv: ClusterInventory, spark: dict, failed: tuple[str, ...]) -> EngineState:
    master = inv.group(engines.SPARK_MASTER_GROUP)[0]
    if spark["status"] != "ALIVE":
        why = "does not answer" if spark["status"] == "UNREACHABLE" else f"is {spark['status']}"
        return EngineState("spark", False, f"master {master} {why}", failed)
    alive, expected = spark["workers_alive"], spark["workers_expected"]
    workers = _count(alive, "worker") if alive == expected else f"{alive} of {expected} workers"
    return EngineState("spark", True, f"master {master}, {workers}", failed)


def _h2o(h2o: dict, failed: tuple[str, ...]) -> EngineState:
    size, expected = h2o["cloud_size"], h2o["nodes_expected"]
    if not size:
        return EngineState("h2o", False, "no node answers", failed)
    cloud = (
        f"cloud of {_count(size, 'node')}" if size == expected else f"{size} of {expected} nodes"
    )
    if h2o.get("verdict", HEALTHY) != HEALTHY:  # degraded (serves jobs) or broken
        cloud += f", {h2o['verdict']}"
    return EngineState("h2o", True, cloud, failed)


def judge(inv: ClusterInventory, model: dict, failures: list[Failure]) -> tuple[EngineState, ...]:
    """The engines' states from a status model (dmlctl.cluster.status) of INV's cluster."""
    if model["hosts"] and not any(host["reachable"] for host in model["hosts"]):
        return unknown(inv, failures, "no host of the cluster answers over SSH")
    return (
        _spark(inv, model["spark"], failed_hosts(inv, failures, engines.SPARK)),
        _h2o(model["h2o"], failed_hosts(inv, failures, engines.H2O)),
    )


def to_json(states: tuple[EngineState, ...]) -> dict:
    """Per engine: running (true, false, or null when unknown), detail and failed_on."""
    return {
        state.engine: {
            "running": state.running,
            "detail": state.detail,
            "failed_on": list(state.failed_on),
        }
        for state in states
    }
