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
  dataset of that name, else the path from the current directory. On the shared cloud an import
  that names no `destination_frame` gets a key of its own (iris_alice_1f2e3d4c.hex).
- `plt.show()` in a job run by `dmlctl submit` (not in a notebook, whose kernel draws figures
  into the notebook): saves every open figure into the run directory as figure-N.png.

Each patch is applied when its module is first imported, so a program that never imports h2o
or matplotlib pays nothing. Everything comes from the environment (DMLCTL_H2O_URL, _NODES,
_USER, _PASSWORD or _PASSWORD_FILE, _CACERT; DMLCTL_WORK_DIR, DMLCTL_RUN_DIR, DMLCTL_MODE).
"""

import contextlib
import functools
import importlib.abc
import inspect
import os
import re
import secrets
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

# Where `dmlctl data push` publishes datasets, here and on every node (dmlctl.staging.datasets).
DATASETS_DIR = Path("/srv/dmlctl/datasets")
# Keyword arguments that mean the program brings its own way in: left alone.
OWN_ACCESS = ("server", "auth", "username", "password", "config")


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
    when_imported("h2o", lambda h2o: patch_h2o(h2o, os.environ))
    if os.environ.get("DMLCTL_RUN_DIR"):
        when_imported("matplotlib.pyplot", lambda pyplot: patch_show(pyplot, os.environ))


# ---- H2O: the cloud's address, login and CA; relative paths -------------------------------


def cloud_nodes(environ: Mapping[str, str]) -> dict[str, int]:
    """The cloud's nodes as host -> REST port, from DMLCTL_H2O_NODES and DMLCTL_H2O_URL."""
    nodes: dict[str, int] = {}
    entries = environ.get("DMLCTL_H2O_NODES", "").split(",")
    for entry in [*entries, urlsplit(environ.get("DMLCTL_H2O_URL", "")).netloc]:
        host, _, port = entry.strip().rpartition(":")
        if host and port.isdigit():
            nodes.setdefault(host.strip("[]"), int(port))
    return nodes


def cloud_login(environ: Mapping[str, str]) -> tuple[str, str] | None:
    user = environ.get("DMLCTL_H2O_USER")
    if not user:
        return None
    password = environ.get("DMLCTL_H2O_PASSWORD")
    if password is None and environ.get("DMLCTL_H2O_PASSWORD_FILE"):
        password = Path(environ["DMLCTL_H2O_PASSWORD_FILE"]).read_text().strip()
    return user, password or ""


def cloud_url(arguments: Mapping, environ: Mapping[str, str]) -> str | None:
    """The cloud URL an h2o.init()/connect() call's ARGUMENTS mean, or None to leave it alone."""
    url = environ.get("DMLCTL_H2O_URL")
    if not url or any(arguments.get(key) is not None for key in OWN_ACCESS):
        return None
    asked, ip = arguments.get("url"), arguments.get("ip")
    if asked is None and ip is None:
        return url  # no address: this cluster's cloud
    if asked is not None:
        parts = urlsplit(asked if "://" in asked else f"http://{asked}")
        host, port = parts.hostname, parts.port
    else:
        host, port = ip, arguments.get("port")
    nodes = cloud_nodes(environ)
    if host not in nodes or str(port or nodes[host]).rstrip("+") != str(nodes[host]):
        return None  # another address: the program's own business
    return f"{urlsplit(url).scheme}://{host}:{nodes[host]}"


def redirected(function: Callable, args: tuple, kwargs: dict, environ) -> dict | None:
    """FUNCTION's (h2o.init or h2o.connect) arguments, rewritten to reach the cloud with this
    user's login and CA; None when the call is left alone."""
    try:
        bound = inspect.signature(function).bind_partial(*args, **kwargs)
    except TypeError:
        return None  # let h2o itself say what is wrong with the call
    arguments = dict(bound.arguments)
    arguments.update(arguments.pop("kwargs", {}))
    url = cloud_url(arguments, environ)
    if url is None:
        return None
    arguments.update(url=url, ip=None, port=None, https=None)
    login = cloud_login(environ)
    if login and "username" in inspect.signature(function).parameters:
        arguments.update(username=login[0], password=login[1])
    elif login:
        arguments["auth"] = login
    if arguments.get("cacert") is None and environ.get("DMLCTL_H2O_CACERT"):
        arguments["cacert"] = environ["DMLCTL_H2O_CACERT"]
    return arguments


def node_path(path, environ: Mapping[str, str]):
    """Where the H2O nodes read PATH (a string or a list of them) given to import_file."""
    if isinstance(path, list | tuple):
        return type(path)(node_path(p, environ) for p in path)
    if not isinstance(path, str) or not path or "://" in path or os.path.isabs(path):
        return path
    path = os.path.expanduser(path)
    if os.path.isabs(path):
        return path
    workdir = environ.get("DMLCTL_WORK_DIR")
    if workdir:
        return os.path.join(workdir, path)
    published = DATASETS_DIR / path
    return str(published) if published.exists() else os.path.abspath(path)


def refuse_private_h2o(h2o, url: str) -> Callable:
    """Make H2OLocalServer.start fail naming the cloud; returns what undoes it."""
    from h2o.backend.server import H2OLocalServer
    from h2o.exceptions import H2OConnectionError

    original = H2OLocalServer.__dict__["start"]

    def refuse(*args, **kwargs):
        raise H2OConnectionError(
            f"cannot reach the H2O cloud at {url}, and dmlctl does not start a private H2O "
            "in its place: check `dmlctl status`, or run with `dmlctl submit --local`"
        )

    H2OLocalServer.start = staticmethod(refuse)
    return lambda: setattr(H2OLocalServer, "start", original)


def patch_h2o(h2o, environ: Mapping[str, str]) -> None:
    """h2o.init/connect reach the cloud; import_file reads --data input (see the module)."""
    url = environ.get("DMLCTL_H2O_URL")
    if environ.get("DMLCTL_MODE") == "cluster":
        refuse_private_h2o(h2o, url or "the cluster")  # for the whole job
    for name in ("init", "connect"):
        setattr(h2o, name, _connecting(getattr(h2o, name), h2o, environ))
    for name in ("import_file", "lazy_import", "import_folder"):
        if hasattr(h2o, name):
            setattr(h2o, name, _reading(getattr(h2o, name), environ))


def _connecting(function: Callable, h2o, environ) -> Callable:
    @functools.wraps(function)
    def call(*args, **kwargs):
        arguments = redirected(function, args, kwargs, environ)
        if arguments is None:
            return function(*args, **kwargs)
        undo = refuse_private_h2o(h2o, arguments["url"])
        try:
            return function(**arguments)
        finally:
            if environ.get("DMLCTL_MODE") != "cluster":
                undo()

    return call


def _reading(function: Callable, environ) -> Callable:
    keyed = "destination_frame" in inspect.signature(function).parameters

    @functools.wraps(function)
    def call(path=None, *args, **kwargs):
        if keyed and not args and kwargs.get("destination_frame") is None:
            kwargs["destination_frame"] = frame_key(path, environ)
        return function(node_path(path, environ), *args, **kwargs)

    return call


def frame_key(path, environ: Mapping[str, str]) -> str | None:
    """A key of its own for a frame imported from the shared cloud's PATH: H2O would name it
    after the file alone (iris.hex), and keys are global to the cloud, so two students importing
    iris.csv at once would parse into, and remove, one frame. None off a shared cloud."""
    if not environ.get("DMLCTL_H2O_URL") or not path:
        return None
    first = path[0] if isinstance(path, list | tuple) else path
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", Path(str(first).rstrip("/")).stem) or "frame"
    user = re.sub(r"[^A-Za-z0-9_]+", "_", environ.get("DMLCTL_H2O_USER", ""))
    return "_".join(filter(None, (stem, user, secrets.token_hex(4)))) + ".hex"


# ---- matplotlib: plt.show() keeps the figures ----------------------------------------------


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
