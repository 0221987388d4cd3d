"""Access profiles: one file (JSON or YAML, mode 0600) that lets one person use a cluster.

A profile holds the engines' addresses, the lab CA's certificate, that person's own H2O login,
the Spark secret and the versions: everything `status`, `submit` and `env` need, and no way to
reach the machines themselves (no SSH key, no inventory).
"""

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dmlctl import store
from dmlctl.errors import UsageError
from dmlctl.paths import state_dir

FORMAT = 1
ENV_VAR = "DMLCTL_PROFILE"


@dataclass(frozen=True)
class Profile:
    """What a profile file says (see `to_dict` for the file format)."""

    name: str
    cluster: str
    spark_master_url: str
    spark_ui: str
    spark_workers: list[str]
    h2o_url: str
    h2o_nodes: list[str]
    h2o_cluster_name: str | None
    versions: dict[str, str]
    secure: bool = True
    spark_python: str = "/usr/bin/python3"
    spark_secret: str | None = None
    spark_conf: dict[str, str] = field(default_factory=dict)
    h2o_user: str | None = None
    h2o_password: str | None = None
    ca_pem: str | None = None
    path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dmlctl_profile": FORMAT,
            "name": self.name,
            "cluster": self.cluster,
            "secure": self.secure,
            "versions": self.versions,
            "spark": {
                "master_url": self.spark_master_url,
                "ui": self.spark_ui,
                "workers": self.spark_workers,
                "python": self.spark_python,
                "secret": self.spark_secret,
                "conf": self.spark_conf,
            },
            "h2o": {
                "url": self.h2o_url,
                "nodes": self.h2o_nodes,
                "cluster_name": self.h2o_cluster_name,
                "user": self.h2o_user,
                "password": self.h2o_password,
            },
            "ca_pem": self.ca_pem,
        }

    @property
    def ca_file(self) -> Path | None:
        """The CA certificate as a file (clients such as h2o want a path); not a secret."""
        if not self.ca_pem:
            return None
        import hashlib

        digest = hashlib.sha256(self.ca_pem.encode()).hexdigest()[:16]
        path = state_dir() / "ca" / f"{digest}.pem"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text(self.ca_pem)
            os.replace(tmp, path)
        return path


def write(profile: Profile, path: Path) -> Path:
    """Write PROFILE to PATH as JSON, mode 0600 from the start; refuses to overwrite nothing
    but a profile."""
    path = path.expanduser()
    if path.is_dir():
        raise UsageError(f"{path} is a directory; give a file name for the profile")
    store.save(path, profile.to_dict(), mode=0o600)
    return path


def _bad(path: Path, what: str) -> UsageError:
    return UsageError(
        f"{path} is not a usable dmlctl profile: {what}",
        hint="ask the cluster's administrator for a new one (`dmlctl access grant NAME`)",
    )


def load(path: Path) -> Profile:
    """Read and check the profile at PATH; UsageError (exit 2) on any problem, no traceback."""
    path = path.expanduser()
    try:
        info = path.stat()
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"no such profile: {path}") from None
    except OSError as error:
        raise UsageError(f"cannot read the profile {path}: {error.strerror}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(
            f"the profile {path} holds secrets but others can read it "
            f"(mode {stat.S_IMODE(info.st_mode):04o})",
            hint=f"chmod 600 {path}",
        )
    data = _parse(path, text)
    if not isinstance(data, dict) or data.get("dmlctl_profile") != FORMAT:
        raise _bad(path, f"no `dmlctl_profile: {FORMAT}` in it")
    try:
        spark, h2o = data["spark"], data["h2o"]
        secure = bool(data.get("secure", True))
        profile = Profile(
            name=str(data["name"]),
            cluster=str(data["cluster"]),
            spark_master_url=str(spark["master_url"]),
            spark_ui=str(spark["ui"]),
            spark_workers=[str(w) for w in spark.get("workers") or []],
            h2o_url=str(h2o["url"]),
            h2o_nodes=[str(n) for n in h2o.get("nodes") or []],
            h2o_cluster_name=h2o.get("cluster_name"),
            versions={str(k): str(v) for k, v in (data.get("versions") or {}).items()},
            secure=secure,
            spark_python=str(spark.get("python") or "/usr/bin/python3"),
            spark_secret=spark.get("secret"),
            spark_conf={str(k): str(v) for k, v in (spark.get("conf") or {}).items()},
            h2o_user=h2o.get("user"),
            h2o_password=h2o.get("password"),
            ca_pem=data.get("ca_pem"),
            path=path.resolve(),
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise _bad(path, f"{error} is missing or malformed") from None
    if secure and not (profile.spark_secret and profile.h2o_password and profile.ca_pem):
        raise _bad(path, "it lacks the Spark secret, the H2O login or the CA certificate")
    return profile


def _parse(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        raise _bad(path, "neither JSON nor YAML") from None


def resolve(explicit: Path | None) -> Path | None:
    """The profile a command uses: --profile, then $DMLCTL_PROFILE; None when neither."""
    if explicit is not None:
        return explicit
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else None
