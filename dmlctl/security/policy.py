"""Whether a cluster runs secure, and what its playbooks and clients are given for it.

Secure is the default. The opt-out is the inventory variable `dmlctl_insecure: true`, or
`dmlctl deploy --insecure`, which dmlctl remembers until the next plain deploy.
"""

from pathlib import Path

from dmlctl import store
from dmlctl.security import credentials
from dmlctl.security.cluster_secrets import ClusterSecrets

INSECURE_VAR = "dmlctl_insecure"


def inventory_insecure(inv) -> bool:
    """Whether the inventory itself turns security off (on any of its hosts)."""
    return any(store.truthy(inv.var(host, INSECURE_VAR, False)) for host in inv.hosts)


def secure(inv, path: Path) -> bool:
    """Whether the cluster of INV runs with security on (as last deployed, or as the inventory
    says)."""
    return not (inventory_insecure(inv) or ClusterSecrets.for_inventory(path).insecure)


def set_up(inv, path: Path) -> bool:
    """Whether a deploy from here prepared the security of INV's cluster: its secrets and lab
    CA when secure, its remembered mode when not. Before the first deploy there is neither, and
    nothing can be said about the cluster's security."""
    box = ClusterSecrets.for_inventory(path)
    if secure(inv, path):
        return box.exists and box.ca_pem_path.is_file()
    return box.mode_remembered


def playbook_vars(inv, path: Path, *, insecure: bool | None = None, record: bool = True) -> dict:
    """Extra vars for a playbook run: where the secrets are (a path, never a secret) and the
    opt-out. INSECURE: True for `deploy --insecure`, False for a plain deploy (secure unless the
    inventory opts out), None for any other playbook (the mode of the last deploy stays).
    Makes any missing secret for the inventory's hosts first; RECORD False (a check run) leaves
    the remembered mode alone."""
    box = ClusterSecrets.for_inventory(path)
    off = inventory_insecure(inv) or (box.insecure if insecure is None else insecure)
    if record or not off:
        box.ensure({h: inv.address(h) for h in inv.hosts}, insecure=off if record else None)
    extravars: dict = {"dmlctl_security_dir": str(box.path)}
    if off:
        extravars[INSECURE_VAR] = True
    return extravars


def credentials_for(inv, path: Path) -> credentials.Credentials:
    """dmlctl's own credentials for the cluster of INV."""
    on = secure(inv, path)
    return credentials.from_secrets(ClusterSecrets.for_inventory(path), secure=on)
