"""The engines dmlctl deploys: every fact about Spark and H2O that the Python side needs.

Each fact lives here once: the engine's name and label, the client package on this machine,
the module a program imports to use it, its systemd units and the inventory groups that run
them, and its ports (the role variable that sets each one; its default is the role's own).
"""

import contextlib
import functools
from dataclasses import dataclass, field

from dmlctl.paths import ROLES_DIR


@dataclass(frozen=True)
class Service:
    """One systemd unit of an engine and the inventory group whose hosts run it."""

    name: str  # as `dmlctl logs` takes it
    unit: str
    group: str


def role_default(var: str):
    """The default of role variable VAR in roles/<prefix>/defaults/main.yml; None when it has
    none or it is a template (it needs facts only a play has)."""
    value = _role_defaults(var.split("_", 1)[0]).get(var)
    return None if isinstance(value, str) and "{{" in value else value


@functools.cache
def _role_defaults(role: str) -> dict:
    """A role's defaults, parsed once per change of the file: a JSON copy in dmlctl's state,
    keyed on the file's size and time, spares `dmlctl status` importing and running a YAML
    parser (the pure-Python one was half of its time)."""
    from dmlctl import store
    from dmlctl.paths import state_dir

    path = ROLES_DIR / role / "defaults" / "main.yml"
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    key = f"{stat.st_size}-{stat.st_mtime_ns}"
    cache = state_dir() / "role-defaults" / f"{role}.json"
    cached = store.load(cache, {})
    if cached.get("key") == key:
        return cached["defaults"]
    import yaml

    defaults = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    defaults = defaults or {}
    with contextlib.suppress(OSError, TypeError):  # a read-only state dir; a non-JSON value
        store.save(cache, {"key": key, "defaults": defaults})
    return defaults


@dataclass(frozen=True)
class Setting:
    """A role variable dmlctl reads from the inventory."""

    var: str

    @property
    def default(self):
        return role_default(self.var)


@dataclass(frozen=True)
class Engine:
    name: str  # as the CLI, playbooks (dmlctl_engines) and status model name it
    label: str  # as a sentence names it
    client_package: str  # installed here; its version must match the cluster's
    module: str  # the top-level module a program imports
    services: tuple[Service, ...]
    # What the status model reads.
    settings: dict[str, Setting]
    # Settings of every application a job starts (Spark: given to spark-submit).
    job_conf: dict[str, str] = field(default_factory=dict)

    def setting(self, key: str) -> Setting:
        return self.settings[key]


SPARK = Engine(
    name="spark",
    label="Spark",
    client_package="pyspark",
    module="pyspark",
    services=(
        Service("spark-master", "spark-master.service", "spark_master"),
        Service("spark-worker", "spark-worker.service", "spark_workers"),
    ),
    settings={
        "master_port": Setting("spark_master_port"),
        "ui_port": Setting("spark_master_webui_port"),
        "python": Setting("spark_python"),
        # Unauthenticated job submission; status checks that nothing listens there.
        "rest_port": Setting("spark_master_rest_port"),
    },
    # A job's driver and executors compile with C1 alone, as the daemons do: a class's
    # applications are short, and C2 compiling Spark's own code took half their CPU (the
    # lecture's KMeans: 88 core-seconds, about 45 with C1). An application's own
    # spark.executor.extraJavaOptions come after these: -XX:TieredStopAtLevel=4 gives a long,
    # compute-heavy one C2 back on its executors.
    job_conf={
        "spark.driver.defaultJavaOptions": "-XX:TieredStopAtLevel=1",
        "spark.executor.defaultJavaOptions": "-XX:TieredStopAtLevel=1",
    },
)

H2O = Engine(
    name="h2o",
    label="H2O",
    client_package="h2o",
    module="h2o",
    services=(Service("h2o", "h2o.service", "h2o_nodes"),),
    settings={
        "port": Setting("h2o_port"),
        "cluster_name": Setting("h2o_cluster_name"),
    },
)

# The engines' client packages (Spark's and H2O's own Python libraries) come with this extra.
CLIENTS_EXTRA = "pip install 'dmlctl[jobs]'"

ENGINES: dict[str, Engine] = {engine.name: engine for engine in (SPARK, H2O)}
NAMES = tuple(ENGINES)
SERVICES: dict[str, Service] = {s.name: s for e in ENGINES.values() for s in e.services}
# The inventory groups a cluster needs, in the order an inventory lists them.
GROUPS = tuple(dict.fromkeys(s.group for s in SERVICES.values()))
SPARK_MASTER_GROUP, SPARK_WORKERS_GROUP = (s.group for s in SPARK.services)
H2O_GROUP = H2O.services[0].group


def get(name: str) -> Engine:
    return ENGINES[name]


def by_module(module: str) -> Engine | None:
    """The engine a top-level import (`pyspark`, `h2o`) gives away, if any."""
    return next((e for e in ENGINES.values() if e.module == module), None)


def label(name: str) -> str:
    return ENGINES[name].label
