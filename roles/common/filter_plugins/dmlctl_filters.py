"""Filters shared by the engine roles (loaded with the internal common role).

- node_address: the address a node resolved for an engine, else its inventory address.
- ipv4_only: the value when it is a dotted IPv4 address, else "" (for `x | ipv4_only or fallback`).
- size_mib: a memory size ("512m", "2g", "1.5G", bare numbers are MiB) in whole MiB; 0 if invalid.
- jvm_size: the same size as a JVM option wants it ("2g", "1536m"), never a bare number, which
  -Xmx and Spark would read as bytes.
- nofile_limit: the wanted open-file limit, capped at the host's hard limit ("unlimited" caps nothing).
- node_path_is: whether the common role's inspection found PATH on the node exactly as a task
  would leave it (content sha1, or "dir"; owner, group, mode): such a task is skipped, sparing
  a round trip per file on a re-run that has nothing to do.
- controller_sha1: the sha1 of a file on the controller (a file a task copies to the nodes).
"""

import hashlib
import re

from ansible.module_utils.common.text.formatters import human_to_bytes

_IPV4 = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,3}){3}$")
_MIB = 1024 * 1024


def node_address(host, hostvars, fact):
    """HOST's resolved address FACT (hosts outside this run: ansible_host, else the name)."""
    variables = hostvars[host]
    if fact in variables:
        return variables[fact]
    return variables.get("ansible_host", host)


def ipv4_only(value):
    text = str(value or "").strip()
    return text if _IPV4.match(text) else ""


def size_mib(value):
    try:
        return int(human_to_bytes(str(value).strip(), default_unit="M") // _MIB)
    except (ValueError, TypeError):
        return 0


def jvm_size(value):
    mib = size_mib(value)
    return f"{mib // 1024}g" if mib and mib % 1024 == 0 else f"{mib}m"


def nofile_limit(wanted, hard):
    if str(hard).strip() in ("", "unlimited"):
        return int(wanted)
    return min(int(wanted), int(hard))


def _node_paths(text):
    """PATH -> "SHA1-or-dir:OWNER:GROUP:MODE", from the inspection's "PATH=...," list."""
    found = {}
    for entry in str(text or "").split(","):
        path, _, state = entry.partition("=")
        if path and state:
            found[path] = state
    return found


def node_path_is(paths, path, sha1, owner, group, mode):
    state = _node_paths(paths).get(str(path))
    if state is None:
        return False
    have_sha1, have_owner, have_group, have_mode = state.rsplit(":", 3)
    try:
        same_mode = int(have_mode, 8) == int(str(mode), 8)
    except ValueError:
        return False
    return (have_sha1, have_owner, have_group) == (str(sha1), str(owner), str(group)) and same_mode


def controller_sha1(path):
    """"" when it cannot be read here (the task then runs and says why)."""
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha1").hexdigest()
    except OSError:
        return ""


class FilterModule:
    def filters(self):
        return {
            "node_address": node_address,
            "ipv4_only": ipv4_only,
            "size_mib": size_mib,
            "jvm_size": jvm_size,
            "nofile_limit": nofile_limit,
            "node_path_is": node_path_is,
            "controller_sha1": controller_sha1,
        }
