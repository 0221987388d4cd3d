"""Ansible inventories: finding the one a command uses, and reading it."""

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from dmlctl import engines
from dmlctl.engines import role_default
from dmlctl.errors import UsageError
from dmlctl.lab import state as lab_state
from dmlctl.paths import DEFAULT_INVENTORY


def resolve(explicit: Path | None = None) -> Path:
    """The inventory a command uses: -i, then $DMLCTL_INVENTORY, then the active lab's,
    then inventory/hosts.ini (the checkout's, or the current directory's)."""
    if explicit is not None:
        source, path = "-i", explicit
    elif env := os.environ.get("DMLCTL_INVENTORY"):
        source, path = "DMLCTL_INVENTORY", Path(env)
    elif (active := lab_state.active()) is not None:
        source, path = f"the active lab {active.name!r}", active.inventory
    else:
        source, path = "the default", DEFAULT_INVENTORY
    if not path.is_file():
        raise UsageError(
            f"inventory {path} (from {source}) does not exist.",
            hint="pass -i INVENTORY, set DMLCTL_INVENTORY, or create a lab with `dmlctl lab up`",
        )
    return path


def load_cluster(explicit: Path | None = None, *, cached: bool = False) -> "ClusterInventory":
    """The inventory a command uses (see resolve), read, with the groups a cluster needs.
    CACHED reuses the last parse while no inventory file changed (for fast read-only commands)."""
    path = resolve(explicit)
    inv = load_cached(path) if cached else load(path)
    inv.require_cluster_groups()
    return inv


# ---------------------------------------------------------------- reading an inventory

# Host variables dmlctl itself reads (addresses, ports, names); everything else is Ansible's.
_KEPT_PREFIXES = (
    "ansible_host", "ansible_port", "spark_", "h2o_", "java_",
    "dmlctl_insecure", "dmlctl_artifact_source", "dmlctl_lab",
)  # fmt: skip
# Never read (nor kept in dmlctl's inventory cache): they may come from an Ansible vault.
_SECRET_VARS = frozenset({"spark_auth_secret", "h2o_api_password", "h2o_tls_keystore_password"})


@dataclass(frozen=True)
class ClusterInventory:
    """The parts of an Ansible inventory dmlctl needs: groups, and each host's own variables."""

    path: Path
    groups: dict[str, list[str]]
    hostvars: dict[str, dict]

    @property
    def hosts(self) -> list[str]:
        return sorted(self.hostvars)

    def group(self, name: str) -> list[str]:
        return self.groups.get(name, [])

    def address(self, host: str) -> str:
        return str(self.hostvars.get(host, {}).get("ansible_host", host))

    def var(self, host: str, name: str, default=None):
        return self.hostvars.get(host, {}).get(name, default)

    def artifact_source(self, host: str, role: str) -> str:
        """Where ROLE's artifact comes from on HOST, as the roles' defaults decide: its own
        `<role>_artifact_source`, else `dmlctl_artifact_source`, else bundle in a lab (the
        controller's packages) and mirror elsewhere."""
        return (
            self.var(host, f"{role}_artifact_source")
            or self.var(host, "dmlctl_artifact_source")
            or ("bundle" if self.var(host, "dmlctl_lab") is not None else "mirror")
        )

    def setting(self, host: str, var: str):
        """HOST's value of role variable VAR as the inventory resolves it, else the role's
        default; None when both are unknown here. A value that is still a template (it needs
        facts only a play has) counts as unset."""
        value = self.var(host, var)
        if value is None or (isinstance(value, str) and "{{" in value):
            return role_default(var)
        return value

    @property
    def cluster_hosts(self) -> list[str]:
        """Every host that runs a service of an engine."""
        return sorted({host for group in engines.GROUPS for host in self.group(group)})

    def require_cluster_groups(self) -> None:
        """Exactly one Spark master and at least one Spark worker and H2O node."""
        empty = [g for g in engines.GROUPS if not self.group(g)]
        if empty:
            raise UsageError(
                f"inventory {self.path} has no hosts in {', '.join(empty)}.",
                hint="add them (see inventory/hosts.ini for the groups dmlctl uses)",
            )
        masters = self.group(engines.SPARK_MASTER_GROUP)
        if len(masters) != 1:
            raise UsageError(
                f"inventory {self.path} lists {len(masters)} hosts in "
                f"{engines.SPARK_MASTER_GROUP}; Spark standalone has exactly one master.",
                hint=f"keep one host in [{engines.SPARK_MASTER_GROUP}]",
            )

    def hosts_matching(self, pattern: str) -> list[str]:
        """Hosts `--limit PATTERN` selects, by Ansible's own matcher: names, groups, wildcards,
        ~regex, group[index], a:b unions, a:&b intersections, a:!b exclusions, @file."""
        from ansible.errors import AnsibleError

        try:
            with contextlib.redirect_stderr(io.StringIO()):  # "could not match" warnings
                manager = _manager(self.path)
                manager.subset(pattern)
                return sorted(host.name for host in manager.get_hosts())
        except AnsibleError as error:
            raise UsageError(
                f"--limit {pattern!r}: {str(error).strip().splitlines()[0]}.",
                hint="`ansible-inventory -i INVENTORY --graph` shows the hosts and groups",
            ) from None

    def to_json(self) -> dict:
        return {"path": str(self.path), "groups": self.groups, "hostvars": self.hostvars}


def load(path: Path) -> ClusterInventory:
    """Parse an inventory with Ansible's own parser (any format Ansible reads)."""
    from ansible.errors import AnsibleError
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.manager import VariableManager

    warnings = io.StringIO()
    try:
        with contextlib.redirect_stderr(warnings):
            loader = DataLoader()
            manager = _manager(path, loader)
            variables = VariableManager(loader=loader, inventory=manager)
            hostvars = {
                host.name: _resolved(loader, variables.get_vars(host=host, include_hostvars=False))
                for host in manager.get_hosts("all")
            }
    except AnsibleError as error:
        hostvars, failure = {}, str(error).strip().splitlines()[0]
    else:
        failure = None
    # Ansible warns once per parser it tried and may still end with an empty inventory.
    reasons = [
        line.split(": ", 1)[-1] for line in warnings.getvalue().splitlines() if "WARNING" in line
    ]
    if failure or (not hostvars and reasons):
        raise UsageError(
            f"inventory {path} could not be read: {reasons[0] if reasons else failure}",
            hint="fix it (`ansible-inventory -i INVENTORY --graph` shows what Ansible sees)",
        )
    groups = {
        name: sorted(h.name for h in group.get_hosts())
        for name, group in manager.groups.items()
        if name not in ("all", "ungrouped")
    }
    if not hostvars:
        raise UsageError(f"inventory {path} lists no hosts.")
    return ClusterInventory(path=path, groups=groups, hostvars=_plain(hostvars))


def _resolved(loader, variables: dict) -> dict:
    """The variables dmlctl reads, templated as Ansible would; a value that needs what only a
    play knows (facts) stays as written."""
    from ansible.errors import AnsibleError
    from ansible.template import Templar

    templar = Templar(loader=loader, variables=variables)
    kept = {}
    for name, value in variables.items():
        if not name.startswith(_KEPT_PREFIXES) or name in _SECRET_VARS:
            continue
        try:
            kept[name] = templar.template(value)
        except AnsibleError:
            kept[name] = value
    return kept


def _manager(path: Path, loader=None):
    """Ansible's InventoryManager for PATH (imported here: `dmlctl --help` stays fast)."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    return InventoryManager(loader=loader or DataLoader(), sources=[str(path)])


def _plain(value):
    """Ansible's tagged strings and lazy containers as plain JSON-able Python values."""
    import json

    return json.loads(json.dumps(value, default=str))


def load_cached(path: Path) -> ClusterInventory:
    """`load`, reusing the last parse while no inventory file has changed (fast `status`)."""
    from dmlctl import store
    from dmlctl.paths import state_dir

    path = path.resolve()
    vars_files = (
        p for d in ("group_vars", "host_vars") for p in (path.parent / d).rglob("*") if p.is_file()
    )
    watched = [path, *sorted(vars_files)]
    # What is kept is part of the key too: a dmlctl that reads more variables reads afresh.
    fingerprint = [list(_KEPT_PREFIXES)] + [
        [str(p), p.stat().st_mtime_ns, p.stat().st_size] for p in watched
    ]
    cache = state_dir() / "inventory-cache" / f"{store.inventory_key(path)}.json"
    cached = store.load(cache, {})
    with contextlib.suppress(KeyError, TypeError):
        if cached["fingerprint"] == fingerprint:
            data = cached["inventory"]
            return ClusterInventory(Path(data["path"]), data["groups"], data["hostvars"])
    fresh = load(path)
    store.save(cache, {"fingerprint": fingerprint, "inventory": fresh.to_json()})
    return fresh
