"""How a command reaches a cluster: the sysadmin's inventory (with dmlctl's own secrets), or a
person's profile (no inventory, no SSH). Either way: the engines' endpoints and credentials."""

from dataclasses import dataclass
from pathlib import Path

from dmlctl import credentials, inventory, profile, security
from dmlctl.errors import UsageError


@dataclass(frozen=True)
class Connection:
    ends: object  # dmlctl.status.Endpoints
    creds: credentials.Credentials
    inv: object | None  # dmlctl.inventory.ClusterInventory; None with a profile
    profile: profile.Profile | None
    source: str  # the inventory or profile file, as shown to the user

    @property
    def refused_hint(self) -> str:
        if self.profile is not None:
            return (
                "this profile's login was revoked or the cluster's secrets were rotated: "
                "ask the cluster's administrator for a new profile"
            )
        return "the secrets in dmlctl's state do not match the cluster's: run `dmlctl deploy`"


def _from_profile(prof: profile.Profile):
    from dmlctl.status import Endpoints

    master_address = prof.spark_master_url.split("//", 1)[-1].rsplit(":", 1)[0]
    return Endpoints(
        spark_master=master_address,
        spark_master_address=master_address,
        spark_master_url=prof.spark_master_url,
        spark_ui=prof.spark_ui,
        spark_python=prof.spark_python,
        spark_workers=tuple(sorted(prof.spark_workers)),
        h2o_url=prof.h2o_url,
        h2o_cluster_name=prof.h2o_cluster_name or "",
        h2o_nodes={node: node for node in prof.h2o_nodes},
    )


def connect(inventory_path: Path | None, profile_path: Path | None = None) -> Connection:
    """The cluster a command talks to: --profile / $DMLCTL_PROFILE, else the inventory.

    -i and --profile together are refused; -i wins over $DMLCTL_PROFILE.
    """
    if inventory_path is not None and profile_path is not None:
        raise UsageError("give either -i INVENTORY or --profile FILE, not both")
    chosen = profile_path if inventory_path is not None else profile.resolve(profile_path)
    if chosen is not None:
        prof = profile.load(chosen)
        connection = Connection(
            ends=_from_profile(prof),
            creds=credentials.from_profile(prof),
            inv=None,
            profile=prof,
            source=str(prof.path),
        )
    else:
        from dmlctl.status import endpoints

        inv = inventory.load_cached(inventory.resolve(inventory_path))
        inv.require_cluster_groups()
        connection = Connection(
            ends=endpoints(inv),
            creds=security.credentials_for(inv, inv.path),
            inv=inv,
            profile=None,
            source=str(inv.path),
        )
    security.warn_if_insecure(connection.creds.secure)
    return connection
