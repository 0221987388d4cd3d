"""How `dmlctl submit` starts a job's program: `python -m dmlctl.jobs.launch PROGRAM ARGS`.

A .py program runs as `python PROGRAM ARGS` would run it (its own `__main__`, its directory
first on sys.path); a notebook (.ipynb) runs top to bottom on a kernel of this Python
(dmlctl.jobs.notebook), ARGS being its parameters. Either way dmlctl.jobs.program_hooks is in
place first: an unchanged `h2o.init()` reaches the cluster's cloud with this user's login, a
relative `h2o.import_file` path is read where --data put it, and `plt.show()` keeps the
figures in the run directory. Launched for the cluster (DMLCTL_MODE=cluster), an H2O program
that cannot reach the cloud fails naming it instead of starting a private H2O here, where a
student whose cloud is down would silently train on the controller.
"""

import os
import runpy
import sys

from dmlctl.jobs import program_hooks


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python -m dmlctl.jobs.launch PROGRAM [ARGS...]")
    program_hooks.install()
    script = os.path.abspath(argv[0])
    if script.endswith(".ipynb"):
        from dmlctl.jobs import notebook

        sys.exit(notebook.execute(script, argv[1:]))
    sys.argv = [argv[0], *argv[1:]]
    sys.path[0] = os.path.dirname(script)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
