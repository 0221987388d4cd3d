"""How `dmlctl submit` starts a job's program on a cluster:
`python -m dmlctl.jobs.launch SCRIPT ARGS`.

The program runs as `python SCRIPT ARGS` would run it (its own `__main__`, its directory first on
sys.path), with one difference for H2O programs: `h2o.init()` starts a private H2O on this
machine whenever it cannot connect, so a student whose cloud is down would silently train on
the controller. Launched by dmlctl for the cluster (DMLCTL_MODE=cluster), that start fails with
a message naming the cloud instead.
"""

import os
import runpy
import sys


def refuse_private_h2o() -> None:
    from h2o.backend.server import H2OLocalServer
    from h2o.exceptions import H2OConnectionError

    url = os.environ.get("DMLCTL_H2O_URL") or "the cluster"

    def refuse(*args, **kwargs):
        raise H2OConnectionError(
            f"cannot reach the H2O cloud at {url}, and dmlctl does not start a private H2O "
            "for a cluster job: check `dmlctl status`, connect with "
            "h2o.connect(url=os.environ['DMLCTL_H2O_URL']), or run with `dmlctl submit --local`"
        )

    H2OLocalServer.start = staticmethod(refuse)


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python -m dmlctl.jobs.launch SCRIPT [ARGS...]")
    script = os.path.abspath(argv[0])
    if os.environ.get("DMLCTL_MODE") == "cluster" and os.environ.get("DMLCTL_ENGINE") == "h2o":
        refuse_private_h2o()
    sys.argv = [argv[0], *argv[1:]]
    sys.path[0] = os.path.dirname(script)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
