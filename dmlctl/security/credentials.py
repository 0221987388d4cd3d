"""How dmlctl proves who it is to a cluster: H2O's login and lab CA, Spark's shared secret.

The same `Credentials` come from the sysadmin's state (inventory + dmlctl's secrets) or from a
student's profile; status, submit, readiness checks and `env` take them from here.
"""

import base64
import functools
import ssl
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# Spark settings every party of a secure cluster uses (the daemons get the same from
# roles/spark). GCM authenticates what AES-CTR only hides; auth engine v2 derives keys with HKDF.
SPARK_SECURE_CONF = {
    "spark.authenticate": "true",
    "spark.network.crypto.enabled": "true",
    "spark.network.crypto.authEngineVersion": "2",
    "spark.network.crypto.cipher": "AES/GCM/NoPadding",
    "spark.io.encryption.enabled": "true",
    "spark.ui.killEnabled": "false",
}


@dataclass(frozen=True)
class Credentials:
    secure: bool
    h2o_user: str | None = None
    h2o_password: str | None = None
    ca_pem: str | None = None
    ca_file: Path | None = None
    spark_secret: str | None = None

    @classmethod
    def none(cls) -> "Credentials":
        return cls(secure=False)

    @property
    def h2o_scheme(self) -> str:
        return "https" if self.secure else "http"

    def h2o_headers(self) -> dict[str, str]:
        if not (self.secure and self.h2o_user and self.h2o_password is not None):
            return {}
        token = base64.b64encode(f"{self.h2o_user}:{self.h2o_password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def ssl_context(self) -> ssl.SSLContext | None:
        return _context(self.ca_pem) if self.secure and self.ca_pem else None

    def spark_conf(self) -> dict[str, str]:
        """What a driver needs in its SparkConf to join the cluster (secret included)."""
        if not self.secure:
            return {}
        return {**SPARK_SECURE_CONF, "spark.authenticate.secret": self.spark_secret or ""}

    def h2o_env(self) -> dict[str, str]:
        """The environment of a user's H2O program: h2o.connect(url, auth, cacert) from it."""
        if not self.secure:
            return {}
        env = {
            "DMLCTL_H2O_USER": self.h2o_user or "",
            "DMLCTL_H2O_PASSWORD": self.h2o_password or "",
        }
        if self.ca_file is not None:
            env["DMLCTL_H2O_CACERT"] = str(self.ca_file)
        return env


@functools.cache
def _context(ca_pem: str) -> ssl.SSLContext:
    """Trust the lab CA alone; certificates name the node's address, so hostnames are checked."""
    return ssl.create_default_context(cadata=ca_pem)


def open_url(url: str, creds: Credentials | None, timeout: float, *, authenticate: bool = True):
    """urlopen URL with the credentials' CA and (when AUTHENTICATE) login."""
    creds = creds or Credentials.none()
    headers = creds.h2o_headers() if authenticate else {}
    request = urllib.request.Request(url, headers=headers)
    context = creds.ssl_context() if url.startswith("https:") else None
    return urllib.request.urlopen(request, timeout=timeout, context=context)


def from_secrets(box, *, secure: bool) -> Credentials:
    """dmlctl's own credentials for a cluster it deployed, from its secrets (a ClusterSecrets)."""
    if not secure or not box.exists:
        return Credentials(secure=secure)
    user, password = box.admin_login()
    return Credentials(
        secure=True,
        h2o_user=user,
        h2o_password=password,
        ca_pem=box.ca_pem(),
        ca_file=box.ca_pem_path,
        spark_secret=box.spark_secret(),
    )


def from_profile(profile) -> Credentials:
    """A student's credentials from their profile (dmlctl.security.profile.Profile)."""
    if not profile.secure:
        return Credentials(secure=False)
    return Credentials(
        secure=True,
        h2o_user=profile.h2o_user,
        h2o_password=profile.h2o_password,
        ca_pem=profile.ca_pem,
        ca_file=profile.ca_file,
        spark_secret=profile.spark_secret,
    )


def private_files(creds: Credentials, cluster: str) -> tuple[Path, Path] | None:
    """The credentials as files only this user can read, for programs started by hand
    (`dmlctl env`): a spark-defaults.conf with the Spark secret, and the H2O password.

    Shell exports then name these files instead of printing a secret. None when insecure.
    """
    from dmlctl import store
    from dmlctl.paths import state_dir

    if not creds.secure:
        return None
    directory = store.private_dir(state_dir() / "credentials" / store.key(cluster))
    conf = "".join(f"{key} {value}\n" for key, value in creds.spark_conf().items())
    files = (directory / "spark-defaults.conf", directory / "h2o-password")
    for path, text in zip(files, (conf, creds.h2o_password or ""), strict=True):
        store.write(path, text, mode=0o600)
    return files
