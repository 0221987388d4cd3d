"""What lets an unchanged program reach the cluster, installed in the program's own process: by
dmlctl.jobs.launch for `dmlctl submit`, and by dmlctl/jobs/startup/sitecustomize.py for
programs run by hand after `dmlctl env`, for `dmlctl notebook`'s kernels and for notebooks that
`dmlctl submit` runs.

- `h2o.init()` / `h2o.connect()` with no address, or with the address of one of the cloud's
  nodes, connect to the cloud (https when it is secure) with this user's login and CA. A call
  with its own login (`auth`, `username`), a `server` or a `config`, and a call to any other
  address, is left alone. A redirected call that cannot reach the cloud fails: it never starts
  a private H2O here.
- `h2o.import_file` / `h2o.lazy_import`: a relative path is read where `--data` put it (the
  job's work directory, at the same absolute path on every node); outside a job, a published
  dataset of that name, else the path from the current directory. A file only this machine has
  (--data under a profile, which cannot stage it on the nodes; a file beside a notebook) is
  uploaded from here instead. On the shared cloud an import that names no `destination_frame`
  gets a key of its own (iris_alice_1f2e3d4c.hex).
- `plt.show()` in a job run by `dmlctl submit` (not in a notebook, whose kernel draws figures
  into the notebook): saves every open figure into the run directory as figure-N.png.

Each patch is applied when its module is first imported, so a program that never imports h2o
or matplotlib pays nothing. Everything comes from the environment (DMLCTL_H2O_URL, _NODES,
_USER, _PASSWORD or _PASSWORD_FILE, _CACERT; DMLCTL_WORK_DIR, DMLCTL_DATA_ON_NODES, DMLCTL_RUN_DIR,
DMLCTL_MODE); the H2O side is dmlctl.jobs.h2o_hooks.
"""

import contextlib
import functools
import importlib.abc
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from dmlctl.jobs import h2o_hooks


class AfterImport(importlib.abc.MetaPathFinder):
    """Runs a hook on a module right after its first import (a finder that only wraps the
    loader the other finders found)."""

    def __init__(self) -> None:
        self.pending: dict[str, Callable] = {}

    def find_spec(self, fullname, path=None, target=None):
        hook = self.pending.get(fullname)
        if hook is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run_module = loader.exec_module

        def exec_module(module):
            run_module(module)
            if self.pending.pop(fullname, None) is not None:
                apply(hook, module)

        loader.exec_module = exec_module
        return spec


def apply(hook: Callable, module) -> None:
    """HOOK(MODULE); a hook that fails says so and leaves the program running unpatched."""
    try:
        hook(module)
    except Exception as error:  # never break the program's own import
        print(f"dmlctl: could not prepare {module.__name__}: {error}", file=sys.stderr)


_FINDER = AfterImport()


def when_imported(name: str, hook: Callable) -> None:
    """Run HOOK(module) once NAME is imported (now, when it already is)."""
    if name in sys.modules:
        apply(hook, sys.modules[name])
        return
    _FINDER.pending[name] = hook
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


@functools.cache
def install() -> None:
    """Patch h2o and matplotlib.pyplot (when the program imports them) as the environment says;
    once per process."""
    when_imported("h2o", lambda h2o: h2o_hooks.patch_h2o(h2o, os.environ))
    if os.environ.get("DMLCTL_RUN_DIR"):
        when_imported("matplotlib.pyplot", lambda pyplot: patch_show(pyplot, os.environ))


def patch_show(pyplot, environ: Mapping[str, str]) -> None:
    original = pyplot.show
    run_dir = Path(environ["DMLCTL_RUN_DIR"])

    @functools.wraps(original)
    def show(*args, **kwargs):
        if "ipykernel" in sys.modules:  # a notebook's kernel: the figure goes into the notebook
            return original(*args, **kwargs)
        for path in save_figures(pyplot, run_dir):
            print(f"plt.show(): saved {path.name} in the run directory", flush=True)
        pyplot.close("all")
        return None

    pyplot.show = show


def save_figures(pyplot, run_dir: Path) -> list[Path]:
    """Every open figure as RUN_DIR/figure-N.png (N counting on from the last one there)."""
    saved: list[Path] = []
    for number in pyplot.get_fignums():
        path = next_free(run_dir, "figure-{}.png")
        with contextlib.suppress(FileNotFoundError):
            pyplot.figure(number).savefig(path, dpi=110, bbox_inches="tight")
            saved.append(path)
    return saved


def next_free(directory: Path, pattern: str) -> Path:
    n = 1
    while (directory / pattern.format(n)).exists():
        n += 1
    return directory / pattern.format(n)
