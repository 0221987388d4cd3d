"""Who may use a secure cluster: the H2O logins, the profiles handed out, rotating secrets.

A profile holds one person's way in (addresses, CA, their H2O login, the Spark secret); the
logins themselves are rolled out by the H2O part of a deploy, which the command runs.
"""

import importlib.metadata
from datetime import datetime
from pathlib import Path

from dmlctl.cluster import executor_python
from dmlctl.cluster.endpoints import endpoints
from dmlctl.errors import UsageError
from dmlctl.playbooks.events import PlaybookProgress
from dmlctl.playbooks.inventory import ClusterInventory, load_cluster
from dmlctl.security import policy, profile
from dmlctl.security.cluster_secrets import ClusterSecrets, check_user_name

# Rolls a changed realm out: the H2O part of deploy (an H2O cloud restarts as a whole).
APPLY_LOGINS = {"dmlctl_engines": ["h2o"]}
# The H2O role's whole-cloud restart: from stopping the first node to the cloud's consensus.
_CLOUD_DOWN = ("Stop every h2o node", "Wait until this node sees the whole cloud with consensus")


def read_names(names: list[str], roster: Path | None) -> list[str]:
    """The login names given as arguments and in ROSTER (one per line; the first field of a
    CSV line; blank lines and # comments skipped), each once, all checked before any is used."""
    wanted = list(names)
    if roster is not None:
        try:
            lines = roster.read_text().splitlines()
        except OSError as error:
            raise UsageError(f"cannot read the roster {roster}: {error.strerror}") from None
        for line in lines:
            field = line.split("#", 1)[0].replace(",", " ").split()
            if field:
                wanted.append(field[0])
    if not wanted:
        raise UsageError("name at least one person", hint="NAME... or --roster FILE")
    return [check_user_name(name) for name in dict.fromkeys(wanted)]


def profile_targets(names: list[str], out_file: Path | None, out_dir: Path | None) -> dict:
    """Where each person's profile goes: --out FILE (one person), else DIR/NAME.profile.json."""
    if out_file is not None:
        if len(names) != 1 or out_dir is not None:
            raise UsageError("--out names one file: give one name, or --out-dir DIR for many")
        if out_file.expanduser().is_dir():
            raise UsageError(f"--out {out_file} is a directory; give a file name")
        return {names[0]: out_file.expanduser()}
    directory = (out_dir or Path()).expanduser()
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--out-dir {directory} is not a directory")
    return {name: directory / f"{name}.profile.json" for name in names}


def cloud_down_seconds(progress: PlaybookProgress) -> float | None:
    """How long the H2O cloud was down during a run (its restart), from the run's events."""
    first, last = (progress.task_times.get(task) for task in _CLOUD_DOWN)
    if not first or not last:
        return None
    return (datetime.fromisoformat(last[1]) - datetime.fromisoformat(first[0])).total_seconds()


def secure_cluster(inventory_path: Path | None) -> tuple[ClusterInventory, ClusterSecrets]:
    """The inventory's cluster and its secrets; UsageError unless it was deployed secure."""
    inv = load_cluster(inventory_path)
    box = ClusterSecrets.for_inventory(inv.path)
    if not policy.secure(inv, inv.path):
        raise UsageError(
            "this cluster runs without security, so there is no login to hand out",
            hint="deploy it secure first: `dmlctl deploy` (without --insecure / dmlctl_insecure)",
        )
    if not box.exists:
        raise UsageError(
            f"no secrets for {inv.path} yet: the cluster was not deployed by dmlctl from here",
            hint="run `dmlctl deploy` first",
        )
    return inv, box


def _client_version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def make_profile(
    name: str, inv: ClusterInventory, box: ClusterSecrets, password: str
) -> profile.Profile:
    """NAME's profile for the cluster of INV: addresses, CA, their login, the Spark secret."""
    ends = endpoints(inv)
    versions = {
        "spark": inv.var(ends.spark_master, "spark_version") or _client_version("pyspark"),
        "h2o": inv.var(next(iter(ends.h2o_nodes.values())), "h2o_version")
        or _client_version("h2o"),
        executor_python.PROFILE_KEY: box.executor_python,
    }
    return profile.Profile(
        name=name,
        cluster=box.path.name,
        spark_master_url=ends.spark_master_url,
        spark_ui=ends.spark_ui,
        spark_workers=list(ends.spark_workers),
        h2o_url=ends.h2o_url.replace("http://", "https://", 1),
        h2o_nodes=list(ends.h2o_nodes),
        h2o_cluster_name=ends.h2o_cluster_name,
        versions={k: str(v) for k, v in versions.items() if v},
        secure=True,
        spark_python=ends.spark_python,
        spark_secret=box.spark_secret(),
        h2o_user=name,
        h2o_password=password,
        ca_pem=box.ca_pem(),
    )


def write_profile(name: str, inv: ClusterInventory, box: ClusterSecrets, password: str,
                  target: Path) -> Path:  # fmt: skip
    """NAME's profile written to TARGET (mode 0600) and remembered for `secrets rotate`."""
    written = profile.write(make_profile(name, inv, box, password), target)
    box.note_profile(name, written.resolve())
    return written


def listing(box: ClusterSecrets) -> list[dict]:
    """Everyone with a login: name, when granted, where their profile was written."""
    grants = box.grants()
    return [{"name": user, **grants.get(user, {})} for user in box.users()]


def rewrite_profiles(
    inv: ClusterInventory, box: ClusterSecrets, users: list[str]
) -> list[tuple[str, str | None, str | None]]:
    """Write every handed-out profile again, with the new secrets, where it was written:
    (user, where, None) for each one rewritten, (user, None, why not) for the others."""
    logins, grants = box.logins(), box.grants()
    outcomes = []
    for user in users:
        where = grants.get(user, {}).get("profile")
        try:
            if not where:
                raise OSError("its location was not recorded")
            profile.write(make_profile(user, inv, box, logins[user]), Path(where))
        except OSError as error:
            outcomes.append((user, None, getattr(error, "strerror", None) or str(error)))
        else:
            outcomes.append((user, where, None))
    return outcomes
