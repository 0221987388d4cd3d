"""H2O in a program dmlctl starts (installed by dmlctl.jobs.program_hooks when the program
imports h2o): h2o.init()/connect() reach the cluster's cloud with the user's login and CA, and
relative import_file paths are read where the nodes have them (see program_hooks for what is
redirected and what is left alone)."""

import functools
import inspect
import os
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

# Where `dmlctl data push` publishes datasets, here and on every node (dmlctl.staging.datasets).
DATASETS_DIR = Path("/srv/dmlctl/datasets")
# Keyword arguments that mean the program brings its own way in: left alone.
OWN_ACCESS = ("server", "auth", "username", "password", "config")


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
    upload = getattr(h2o, "upload_file", None)
    h2o.import_file = _reading(h2o.import_file, environ, upload)
    for name in ("lazy_import", "import_folder"):
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


def _reading(function: Callable, environ, upload: Callable | None = None) -> Callable:
    keyed = "destination_frame" in inspect.signature(function).parameters
    takes = set(inspect.signature(upload).parameters) if upload else set()

    @functools.wraps(function)
    def call(path=None, *args, **kwargs):
        if keyed and not args and kwargs.get("destination_frame") is None:
            kwargs["destination_frame"] = frame_key(path, environ)
        where = node_path(path, environ)
        if upload and not args and set(kwargs) <= takes and only_here(path, where, environ):
            print(f"dmlctl: {path} is not on the H2O nodes; uploading it from here", flush=True)
            return upload(where, **kwargs)
        return function(where, *args, **kwargs)

    return call


def only_here(path, where, environ: Mapping[str, str]) -> bool:
    """Whether a relative PATH (read at WHERE) is a file this machine has and the cloud's nodes
    do not: --data that could not be staged (a profile has no SSH), or a file beside a
    notebook. Published datasets and staged input are on the nodes."""
    if not environ.get("DMLCTL_H2O_URL") or not isinstance(path, str) or where == path:
        return False
    if not os.path.isfile(where) or Path(where).is_relative_to(DATASETS_DIR):
        return False
    workdir = environ.get("DMLCTL_WORK_DIR")
    staged = environ.get("DMLCTL_DATA_ON_NODES") == "1"
    return not (staged and workdir and Path(where).is_relative_to(workdir))


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
