"""dmlctl's start-up hook for Pythons started with this directory on PYTHONPATH: a notebook's
kernel under `dmlctl submit` or `dmlctl notebook`, and programs run by hand after
`eval "$(dmlctl env)"`. It installs dmlctl.jobs.program_hooks (h2o.init() reaches the cluster
with this user's login and CA, relative import_file paths are read where the nodes have them),
then runs the sitecustomize this one hides, if any. A Python without dmlctl skips the hooks.
"""

import importlib.machinery
import importlib.util
import os
import sys

try:
    from dmlctl.jobs import program_hooks
except ImportError:
    pass
except Exception as error:  # a broken dmlctl must not stop Python itself
    sys.stderr.write(f"dmlctl: start-up hooks not installed: {error}\n")
else:
    program_hooks.install()


def _next_sitecustomize() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


_next_sitecustomize()
