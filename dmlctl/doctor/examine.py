"""Doctor's one entry point: every finding for the hosts of an inventory."""

from dmlctl.doctor import checks, plan
from dmlctl.playbooks.inventory import ClusterInventory


def examine(inv: ClusterInventory, *, limit: str | None = None) -> list[plan.Finding]:
    """Every finding for the hosts of INV (those LIMIT selects): settings, then one probe."""
    plans = plan.plan(inv)
    if limit is not None:
        plans = {h: p for h, p in plans.items() if h in inv.hosts_matching(limit)}
    findings = plan.settings_findings(inv, plans)
    answers = plan.probe(inv.path, plans, limit)
    return findings + checks.evaluate(inv, plans, answers)
