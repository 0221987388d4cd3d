"""A cluster's secrets, made and kept on the controller in dmlctl's state (directory 0700,
files 0600): the Spark secret, the H2O logins, the lab CA and every H2O node's keystore.

The playbooks are given only the directory's path (`dmlctl_security_dir`): extra vars end up on
ansible-playbook's command line and in ansible-runner's artifacts, secrets never do. The roles
read the files on the controller and install them on the nodes readable by root and the
engine's user only.

Layout of a cluster's directory:
  spark.secret          the one secret Spark's master, workers and drivers share
  h2o-logins.json       {user: password}; `dmlctl` is dmlctl's own login, `dmlctl-watchdog`
                        the nodes' watchdog's (roles/h2o installs it on the nodes, 0640)
  h2o-realm.properties  the Jetty realm H2O checks logins against (MD5 hashes only)
  ca.key, ca.pem        the lab CA
  h2o/HOST.p12          HOST's key and certificate; h2o/truststore.p12: the CA alone
  security.json         not secret: the mode (secure or not), when things were made and
                        the executors' Python version the last deploy saw
"""

import contextlib
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dmlctl import store
from dmlctl.errors import UsageError
from dmlctl.paths import state_dir
from dmlctl.security import tls

ADMIN_USER = "dmlctl"
# The login of the watchdog on every H2O node (it reads GET /3/Cloud to keep the cloud whole).
WATCHDOG_USER = "dmlctl-watchdog"
SERVICE_USERS = (ADMIN_USER, WATCHDOG_USER)
USER_NAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
SPARK_SECRET = "spark.secret"
LOGINS = "h2o-logins.json"
REALM = "h2o-realm.properties"
META = "security.json"


def cluster_dir(inventory_path: Path) -> Path:
    """The security directory of the cluster an inventory describes (one per inventory file)."""
    resolved = inventory_path.expanduser().resolve()
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", resolved.parent.name + "-" + resolved.stem)
    path = state_dir() / "security" / f"{stem.strip('-')}-{store.inventory_key(resolved)}"
    # Earlier releases keyed the directory with 10 hex digits: keep a cluster's secrets.
    legacy = path.with_name(path.name[:-6])
    if legacy.is_dir() and not path.exists():
        legacy.rename(path)
    return path


def _write_private(path: Path, data: bytes) -> None:
    """Write DATA to PATH, mode 0600 from the first byte on, replacing any earlier file."""
    store.private_dir(path.parent)
    store.write(path, data, mode=0o600)


def new_password() -> str:
    return secrets.token_urlsafe(24)


def realm_line(user: str, password: str) -> str:
    """One Jetty HashLoginService line: `user: MD5:<hex>` (the realm holds no password)."""
    return f"{user}: MD5:{hashlib.md5(password.encode()).hexdigest()}"


def check_user_name(name: str) -> str:
    if not USER_NAME.match(name):
        raise UsageError(
            f"{name!r} is not a usable login name: use lowercase letters, digits, '_', '.', '-' "
            "(up to 32, starting with a letter)"
        )
    if name in SERVICE_USERS:
        raise UsageError(f"{name!r} is one of dmlctl's own logins; choose another name")
    return name


@dataclass(frozen=True)
class ClusterSecrets:
    """The security directory of one cluster."""

    path: Path

    @classmethod
    def for_inventory(cls, inventory_path: Path) -> "ClusterSecrets":
        return cls(cluster_dir(inventory_path))

    # --- reading ---------------------------------------------------------------------------

    @property
    def exists(self) -> bool:
        return (self.path / SPARK_SECRET).is_file()

    def meta(self) -> dict:
        return store.load(self.path / META, {}) or {}

    @property
    def mode_remembered(self) -> bool:
        """Whether a deploy recorded the cluster's mode (secure or not) here."""
        return "insecure" in self.meta()

    @property
    def insecure(self) -> bool:
        """Whether the cluster was last deployed with security off."""
        return bool(self.meta().get("insecure", False))

    @property
    def executor_python(self) -> str | None:
        """The Spark executors' Python minor version(s) the last deploy saw; None: unknown."""
        return self.meta().get("executor_python")

    def spark_secret(self) -> str:
        return (self.path / SPARK_SECRET).read_text().strip()

    def logins(self) -> dict[str, str]:
        return store.load(self.path / LOGINS, {}) or {}

    def admin_login(self) -> tuple[str, str]:
        return ADMIN_USER, self.logins()[ADMIN_USER]

    def users(self) -> list[str]:
        """The people given access (dmlctl's own login aside)."""
        return sorted(u for u in self.logins() if u not in SERVICE_USERS)

    @property
    def ca_pem_path(self) -> Path:
        return self.path / "ca.pem"

    def ca_pem(self) -> str:
        return self.ca_pem_path.read_text()

    def keystore_path(self, host: str) -> Path:
        return self.path / "h2o" / f"{host}.p12"

    # --- making: every change holds the directory's lock, so commands at once never lose one

    def changing(self):
        """The lock every change of this cluster's secrets holds (a context manager)."""
        store.private_dir(self.path)
        return store.locked(self.path / ".lock")

    def ensure(self, hosts: dict[str, str], *, insecure: bool | None = False) -> bool:
        with self.changing():
            return self._ensure(hosts, insecure=insecure)

    def _ensure(self, hosts: dict[str, str], *, insecure: bool | None) -> bool:
        """Make whatever is missing for HOSTS ({inventory name: address}); True if anything was.

        Existing secrets are kept: a redeploy changes nothing. A node whose address changed gets
        a new certificate. INSECURE is the mode to remember (None: keep the one remembered);
        an insecure cluster needs no secrets.
        """
        store.private_dir(self.path)
        meta = self.meta()
        if insecure:
            store.save(self.path / META, {**meta, "insecure": True}, mode=0o600)
            return False
        made = False
        if not (self.path / SPARK_SECRET).is_file():
            _write_private(self.path / SPARK_SECRET, (secrets.token_hex(32) + "\n").encode())
            made = True
        logins = self.logins()
        missing = [user for user in SERVICE_USERS if user not in logins]
        if missing:
            logins.update({user: new_password() for user in missing})
            self._save_logins(logins)
            made = True
        if not (self.path / "ca.key").is_file():
            ca = tls.make_ca(self.path.name)
            _write_private(self.path / "ca.key", ca.key_pem)
            _write_private(self.path / "ca.pem", ca.cert_pem)
            _write_private(self.path / "h2o" / "truststore.p12", tls.truststore(ca))
            made = True
        addresses = meta.get("nodes", {})
        for host, address in hosts.items():
            keystore = self.keystore_path(host)
            if addresses.get(host) != address or not keystore.is_file():
                _write_private(keystore, tls.node_keystore(self._ca(), host, address))
                addresses[host] = address
                made = True
        meta["nodes"] = addresses
        if insecure is not None:
            meta["insecure"] = insecure
        meta.setdefault("created", _now())
        store.save(self.path / META, meta, mode=0o600)
        return made

    def note_executor_python(self, versions: str) -> None:
        with self.changing():
            store.save(self.path / META, {**self.meta(), "executor_python": versions}, mode=0o600)

    def _ca(self) -> tls.CertificateAuthority:
        return tls.CertificateAuthority(
            (self.path / "ca.key").read_bytes(), (self.path / "ca.pem").read_bytes()
        )

    def _save_logins(self, logins: dict[str, str]) -> None:
        _write_private(self.path / LOGINS, (_json(logins)).encode())
        realm = "".join(realm_line(u, p) + "\n" for u, p in sorted(logins.items()))
        _write_private(self.path / REALM, realm.encode())

    def add_users(self, names: list[str]) -> dict[str, str]:
        """Give each of NAMES without one an H2O login; returns {name: password} of every name
        (a name that had a login keeps its password)."""
        with self.changing():
            for name in names:
                check_user_name(name)  # dmlctl's own logins too, which exist already
            logins = self.logins()
            new = [n for n in dict.fromkeys(names) if n not in logins]
            logins.update({name: new_password() for name in new})
            if new:
                self._save_logins(logins)
                for name in new:
                    self._note_user(name, {"granted": _now()})
            return {name: logins[name] for name in names}

    def remove_users(self, names: list[str]) -> None:
        """Take the H2O logins of NAMES away (dmlctl's own stays)."""
        with self.changing():
            logins = self.logins()
            for name in names:
                if name not in SERVICE_USERS and logins.pop(name, None) is not None:
                    self._note_user(name, None)
            self._save_logins(logins)

    def _realm_digest(self) -> str | None:
        with contextlib.suppress(FileNotFoundError):
            return hashlib.sha256((self.path / REALM).read_bytes()).hexdigest()
        return None

    @property
    def logins_pending(self) -> bool:
        """Whether the logins changed since a deploy last put them on the nodes."""
        return self._realm_digest() != self.meta().get("realm_rolled_out")

    def note_logins_rolled_out(self) -> None:
        with self.changing():
            meta = {**self.meta(), "realm_rolled_out": self._realm_digest()}
            store.save(self.path / META, meta, mode=0o600)

    def grants(self) -> dict[str, dict]:
        """Per user: when the login was granted and where its profile was written."""
        return self.meta().get("users", {})

    def note_profile(self, name: str, path: Path) -> None:
        with self.changing():
            self._note_user(name, {**self.grants().get(name, {}), "profile": str(path)})

    def _note_user(self, name: str, info: dict | None) -> None:
        meta = self.meta()
        users = meta.setdefault("users", {})
        if info is None:
            users.pop(name, None)
        else:
            users[name] = info
        store.save(self.path / META, meta, mode=0o600)

    def rotate(self) -> list[str]:
        """New Spark secret and new passwords for every login; returns the users affected."""
        with self.changing():
            _write_private(self.path / SPARK_SECRET, (secrets.token_hex(32) + "\n").encode())
            logins = {user: new_password() for user in self.logins()}
            self._save_logins(logins)
            meta = self.meta()
            meta["rotated"] = _now()
            store.save(self.path / META, meta, mode=0o600)
            return sorted(u for u in logins if u not in SERVICE_USERS)

    def values(self) -> list[str]:
        """Every secret value (for leak checks): the Spark secret and the H2O passwords."""
        with contextlib.suppress(FileNotFoundError):
            return [self.spark_secret(), *self.logins().values()]
        return []


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json(data: dict) -> str:
    import json

    return json.dumps(data, indent=2, sort_keys=True) + "\n"
