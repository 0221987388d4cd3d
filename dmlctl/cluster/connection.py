"""How a command reaches a cluster: the sysadmin's inventory (with dmlctl's own secrets), or a
person's profile (no inventory, no SSH). Either way: the engines' endpoints and credentials."""

from dataclasses import dataclass
from pathlib import Path

from dmlctl.cluster import endpoints
from dmlctl.errors import UsageError
from dmlctl.playbooks.inventory import ClusterInventory, load_cluster
from dmlctl.security import credentials, policy, profile


@dataclass(frozen=True)
class Connection:
    ends: endpoints.Endpoints
    creds: credentials.Credentials
    inv: ClusterInventory | None  # None with a profile
    profile: profile.Profile | None
    source: str  # the inventory or profile file, as shown to the user
    # False before the first deploy from here: no secrets or CA, no mode to report.
    security_set_up: bool = True

    @property
    def refused_hint(self) -> str:
        if self.profile is not None:
            return (
                "this profile's login was revoked or the cluster's secrets were rotated: "
                "ask the cluster's administrator for a new profile"
            )
        return "the secrets in dmlctl's state do not match the cluster's: run `dmlctl deploy`"


def connect(inventory_path: Path | None, profile_path: Path | None = None) -> Connection:
    """The cluster a command talks to: --profile / $DMLCTL_PROFILE, else the inventory.

    -i and --profile together are refused; -i wins over $DMLCTL_PROFILE.
    """
    if inventory_path is not None and profile_path is not None:
        raise UsageError("give either -i INVENTORY or --profile FILE, not both")
    chosen = profile_path if inventory_path is not None else profile.resolve(profile_path)
    if chosen is not None:
        prof = profile.load(chosen)
        return Connection(
            ends=endpoints.from_profile(prof),
            creds=credentials.from_profile(prof),
            inv=None,
            profile=prof,
            source=str(prof.path),
        )
    return for_inventory(load_cluster(inventory_path, cached=True))


def for_inventory(inv: ClusterInventory) -> Connection:
    """How dmlctl itself reaches the cluster of INV (with the secrets it keeps for it)."""
    return Connection(
        ends=endpoints.endpoints(inv),
        creds=policy.credentials_for(inv, inv.path),
        inv=inv,
        profile=None,
        source=str(inv.path),
        security_set_up=policy.set_up(inv, inv.path),
    )
