"""`dmlctl demo`: the whole story on one box."""

from dmlctl import lab as labs
from dmlctl.commands.lab import _print_nodes, _progress
from dmlctl.console import err

DEMO_LAB = "demo"


def demo() -> None:
    """Bring up a 3-node rehearsal lab (reused when it is already up) and show it."""
    existing = {lab.name: lab for lab in labs.list_labs()}.get(DEMO_LAB)
    if existing is not None and len(labs.running_nodes(existing)) == len(existing.nodes):
        err.print(f"reusing the running lab {DEMO_LAB!r}")
        labs.set_active(DEMO_LAB)
        lab = existing
    else:
        lab = labs.up(3, DEMO_LAB, progress=_progress)
    _print_nodes(lab)
    err.print(f"inventory: {lab.inventory}", highlight=False)
    err.print(
        "The lab is up. Deploying Spark and H2O onto it (`dmlctl deploy`) and running the "
        "sample jobs are the next steps; this version does not have them yet.",
        highlight=False,
    )
