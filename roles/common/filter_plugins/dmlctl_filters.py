"""Filters shared by the engine roles (loaded with the internal common role).

- node_address: the address a node resolved for an engine, else its inventory address.
- ipv4_only: the value when it is a dotted IPv4 address, else "" (for `x | ipv4_only or fallback`).
- size_mib: a memory size ("512m", "2g", "1.5G", bare numbers are MiB) in whole MiB; 0 if invalid.
- jvm_size: the same size as a JVM option wants it ("2g", "1536m"), never a bare number, which
  -Xmx and Spark would read as bytes.
- nofile_limit: the wanted open-file limit, capped at the host's hard limit ("unlimited" caps nothing).
"""

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


class FilterModule:
    def filters(self):
        return {
            "node_address": node_address,
            "ipv4_only": ipv4_only,
            "size_mib": size_mib,
            "jvm_size": jvm_size,
            "nofile_limit": nofile_limit,
        }
