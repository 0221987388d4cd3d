"""One look at a machine before a deploy, printed as JSON (run by playbooks/doctor.yml as root).

Standard library only, Python 3.6+: it runs on machines dmlctl has not touched yet. The
argument is a JSON object: {"ports": [int], "peers": [[address, port, guard]], "paths": [str]}.
"""

import json
import os
import pwd
import socket
import subprocess
import sys
import threading

CONNECT_TIMEOUT = 1.5


def os_release():
    info = {}
    try:
        with open("/etc/os-release") as handle:
            for line in handle:
                key, _, value = line.strip().partition("=")
                info[key] = value.strip('"')
    except OSError:
        pass
    return {
        "id": info.get("ID", ""),
        "id_like": info.get("ID_LIKE", ""),
        "version_id": info.get("VERSION_ID", ""),
        "pretty": info.get("PRETTY_NAME", ""),
        "systemd": os.path.isdir("/run/systemd/system"),
    }


def java():
    """The java on PATH and its version, read from its release file (no JVM start)."""
    found = None
    for directory in os.environ.get("PATH", "").split(":") + ["/usr/bin"]:
        candidate = os.path.join(directory, "java")
        if os.access(candidate, os.X_OK):
            found = os.path.realpath(candidate)
            break
    if found is None:
        return None
    home = os.path.dirname(os.path.dirname(found))
    version = ""
    try:
        with open(os.path.join(home, "release")) as handle:
            for line in handle:
                if line.startswith("JAVA_VERSION="):
                    version = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {"executable": found, "version": version}


def meminfo():
    values = {}
    with open("/proc/meminfo") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            values[key] = int(rest.split()[0]) // 1024
    return {"total_mb": values.get("MemTotal", 0), "available_mb": values.get("MemAvailable", 0)}


def disk(path):
    """Free space of the filesystem that will hold PATH (its nearest existing parent)."""
    probe = path
    while not os.path.exists(probe):
        probe = os.path.dirname(probe) or "/"
    stats = os.statvfs(probe)
    return {"path": path, "checked": probe, "free_mb": stats.f_bavail * stats.f_frsize // 2**20}


def _process(pid):
    def read(name):
        try:
            with open("/proc/%s/%s" % (pid, name), "rb") as handle:
                return handle.read().decode("utf-8", "replace")
        except OSError:
            return ""

    uid, rss_mb = None, 0
    for line in read("status").splitlines():
        if line.startswith("Uid:"):
            uid = int(line.split()[1])
        elif line.startswith("VmRSS:"):
            rss_mb = int(line.split()[1]) // 1024
    try:
        user = pwd.getpwuid(uid).pw_name if uid is not None else "?"
    except KeyError:
        user = str(uid)
    return {
        "pid": int(pid),
        "uid": uid,
        "name": read("comm").strip(),
        "cmdline": read("cmdline").replace("\0", " ").strip()[:200],
        "user": user,
        "rss_mb": rss_mb,
    }


def _hex_address(text):
    """/proc/net/tcp's little-endian hex address as text."""
    if len(text) == 8:
        return socket.inet_ntop(socket.AF_INET, bytes.fromhex(text)[::-1])
    words = bytes.fromhex(text)
    raw = b"".join(words[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, raw)


def listeners(ports):
    """TCP listeners on PORTS with the process that holds each (from /proc, no ss needed)."""
    wanted, sockets = set(ports), {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                rows = handle.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            address, port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(port, 16) in wanted:
                sockets[fields[9]] = {
                    "address": _hex_address(address),
                    "port": int(port, 16),
                    "uid": int(fields[7]),
                }
    holders, by_uid = {}, {}
    for pid in filter(str.isdigit, os.listdir("/proc")) if sockets else ():
        process = _process(pid)
        by_uid.setdefault(process.pop("uid"), []).append(process)
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
        except OSError:
            continue  # without CAP_SYS_PTRACE (containers) other users' fds are hidden
        for fd in fds:
            try:
                target = os.readlink("/proc/%s/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in sockets:
                holders.setdefault(target[8:-1], process)
    found = []
    for inode, listener in sockets.items():
        uid = listener.pop("uid")
        holder = holders.get(inode)
        if holder is None:
            # The socket's owner is certain; among its processes, prefer one naming the port.
            candidates = by_uid.get(uid, [])
            naming = [p for p in candidates if str(listener["port"]) in p["cmdline"]]
            holder = (naming or candidates or [None])[0]
        found.append(dict(listener, process=holder))
    return found


def own_rss_mb(users):
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        process = _process(pid)
        if process["user"] in users:
            total += process["rss_mb"]
    return total


def addresses():
    try:
        out = subprocess.run(
            ["ip", "-o", "addr", "show"], stdout=subprocess.PIPE, check=True
        ).stdout.decode()
        return sorted({line.split()[3].split("/")[0] for line in out.splitlines()})
    except (OSError, subprocess.CalledProcessError):
        out = subprocess.run(["hostname", "-I"], stdout=subprocess.PIPE).stdout.decode()
        return sorted(set(out.split()))


def reach(peers):
    """TCP connect to every peer at once: open, refused (reachable, none listening) or why not.

    A peer with a GUARD port is tried only when nothing listens on the guard: H2O's node-to-node
    port (guarded by its REST port) must never see a bare connection, which stalls the running
    node's accept thread. Such a peer is "in use" when its guard is open.
    """
    results = [None] * len(peers)

    def connect(address, port):
        try:
            socket.create_connection((address, port), timeout=CONNECT_TIMEOUT).close()
            return "open"
        except ConnectionRefusedError:
            return "refused"
        except socket.timeout:
            return "timed out"
        except OSError as error:
            return error.strerror or str(error)

    def check(index, address, port, guard=None):
        if guard is not None:
            answer = connect(address, guard)
            if answer != "refused":
                results[index] = "in use" if answer == "open" else answer
                return
        results[index] = connect(address, port)

    threads = [threading.Thread(target=check, args=(i, *p)) for i, p in enumerate(peers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [{"address": p[0], "port": p[1], "result": r} for p, r in zip(peers, results)]


def main():
    spec = json.loads(sys.argv[1])
    print(
        json.dumps(
            {
                "python": list(sys.version_info[:3]),
                "os": os_release(),
                "java": java(),
                "memory": meminfo(),
                "own_rss_mb": own_rss_mb(spec.get("own_users", [])),
                "disk": [disk(path) for path in spec.get("paths", [])],
                "listeners": listeners(spec.get("ports", [])),
                "addresses": addresses(),
                "peers": reach([tuple(p) for p in spec.get("peers", [])]),
            }
        )
    )


main()
