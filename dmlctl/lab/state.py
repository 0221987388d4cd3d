"""A lab as recorded on disk: its nodes and paths, the list of labs, and the active one."""

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from dmlctl import store
from dmlctl.errors import UsageError
from dmlctl.paths import state_dir

# The sudo-capable user every lab node has; Ansible and `lab ssh` log in as it.
LAB_USER = "sysadm"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,23}$")


@dataclass(frozen=True)
class Node:
    name: str
    container: str
    ip: str
    # The Debian suite the node runs (bookworm, trixie).
    os: str = "bookworm"


@dataclass(frozen=True)
class Lab:
    name: str
    network: str
    nodes: tuple[Node, ...]
    created: str
    # The lab network's IPv4 subnet; every node has a fixed address in it (empty: a lab made
    # before addresses were fixed, whose nodes may get another address when they restart).
    subnet: str = ""

    @property
    def dir(self) -> Path:
        return lab_dir(self.name)

    @property
    def inventory(self) -> Path:
        return self.dir / "inventory.ini"

    @property
    def private_key(self) -> Path:
        return self.dir / "id_ed25519"

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if name in (node.name, node.ip):
                return node
        names = ", ".join(n.name for n in self.nodes)
        raise UsageError(f"lab {self.name!r} has no node {name!r} (it has {names}).")

    def to_json(self) -> dict:
        return {**asdict(self), "inventory": str(self.inventory)}

    @classmethod
    def from_json(cls, data: dict) -> "Lab":
        return cls(
            name=data["name"],
            network=data["network"],
            nodes=tuple(Node(**n) for n in data["nodes"]),
            created=data["created"],
            subnet=data.get("subnet", ""),
        )


def labs_dir() -> Path:
    return state_dir() / "labs"


def lab_dir(name: str) -> Path:
    return labs_dir() / name


def _state_file(name: str) -> Path:
    return lab_dir(name) / "lab.json"


def _active_file() -> Path:
    return state_dir() / "active-lab"


def validate_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise UsageError(
            f"invalid lab name {name!r}: use 1-24 lowercase letters, digits or '-', "
            "starting with a letter."
        )


def exists(name: str) -> bool:
    return _state_file(name).is_file()


def load(name: str) -> Lab:
    validate_name(name)
    data = store.load(_state_file(name))
    if data is None:
        raise UsageError(f"no lab named {name!r}.", hint="`dmlctl lab ls` lists the labs")
    return Lab.from_json(data)


def save(lab: Lab) -> None:
    store.save(_state_file(lab.name), lab.to_json())


def list_labs() -> list[Lab]:
    if not labs_dir().is_dir():
        return []
    found = (store.load(p) for p in sorted(labs_dir().glob("*/lab.json")))
    return [Lab.from_json(data) for data in found if data is not None]


def active_name() -> str | None:
    """The name in the active-lab marker (the lab may since have been removed)."""
    try:
        return _active_file().read_text().strip()
    except FileNotFoundError:
        return None


def active() -> Lab | None:
    """The lab that commands use when no inventory is given, if it still exists."""
    name = active_name()
    if name is None:
        return None
    try:
        return load(name)
    except UsageError:
        return None


def set_active(name: str | None) -> None:
    if name is None:
        _active_file().unlink(missing_ok=True)
    else:
        _active_file().parent.mkdir(parents=True, exist_ok=True)
        _active_file().write_text(name + "\n")


def resolve_name(name: str | None) -> str:
    """--name if given, else the active lab, else the only lab there is."""
    if name is not None:
        return name
    if (lab := active()) is not None:
        return lab.name
    labs = list_labs()
    if len(labs) == 1:
        return labs[0].name
    raise UsageError(
        "no active lab; say which one with --name.",
        hint="`dmlctl lab ls` lists the labs, `dmlctl lab up` creates one",
    )
