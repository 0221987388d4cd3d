#!/usr/bin/env python3
"""Watchdog of one H2O node: re-forms the node's cloud when it can no longer run a job.

H2O knows members by ip:port and takes none once its cloud is locked (water/Paxos.java): a
member that restarts is let back in without its data and jobs hang, a dead member stays one,
and one back after the others locked a cloud without it is killed each time it starts. Only a
start as a whole heals. Every CONFIRM checks in a row (every INTERVAL s) this reads GET /3/Cloud
of its node and of every flatfile peer (never /3/Ping, which locks the cloud), then:

  A  locked, a member restarted after this node locked: restart this node's H2O;
  E  unlocked and started LATE s after a member that locked: restart too (with the others);
  B  a member without a heartbeat for a minute (healthy: false): restart, survivors re-form;
  C  unlocked, a member started TOGETHER s after this node: restart (no data is held yet);
  D  peers run this cloud locked without this node: once their jobs end (at most REJOIN_WAIT
     s), POST /3/Shutdown to one of them, so all start again together (once per COOLDOWN).

A to C need GRACE s of uptime, E runs once per COOLDOWN. It restarts only its own node (SIGTERM
to h2o.service's main process; Restart=always starts it) and does nothing while h2o.service is
stopped. It calls GET /3/Jobs only on a locked cloud: that request locks it. See the role's
README.md for the design. Standard library only.
"""

import argparse
import base64
import configparser
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

# A member that started this many seconds after another had locked the cloud restarted after
# the lock (dmlctl status uses the same figure). Members of a cloud formed as one start closer.
LATE = 20


def log(message):
    print(message, flush=True)


class Cloud:
    """The REST API of this cloud's nodes, as a client with the watchdog's login sees it."""

    def __init__(self, config):
        self.scheme = "https" if config.get("ca") else "http"
        self.context = ssl.create_default_context(cafile=config["ca"]) if config.get("ca") else None
        self.auth = None
        if config.get("credentials"):
            with open(config["credentials"], encoding="utf-8") as handle:
                login = handle.read().strip()
            self.auth = "Basic " + base64.b64encode(login.encode()).decode()
        self.timeout = config.get("timeout") or 3
        self.refused = set()

    def call(self, address, path, method="GET"):
        """The JSON answer of ADDRESS (ip:port) to METHOD PATH, or None when it gives none."""
        request = urllib.request.Request(f"{self.scheme}://{address}{path}", method=method)
        if self.auth:
            request.add_header("Authorization", self.auth)
        if method == "POST":
            request.data = b""
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self.context) as r:
                return json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as error:
            if error.code in (401, 403) and address not in self.refused:
                self.refused.add(address)  # said once: the watchdog is blind until redeployed
                log(f"{address} refused the watchdog's login (HTTP {error.code})")
            return None
        except (OSError, ValueError, urllib.error.URLError):
            return None


def addr(text):
    return (text or "").rsplit("/", 1)[-1]


def members(view):
    return {addr(n.get("ip_port")): n for n in (view or {}).get("nodes", [])}


def unit_property(unit, name):
    """`systemctl show` of one property of UNIT ("" when it cannot be read)."""
    try:
        return subprocess.run(
            ["systemctl", "show", "--property", name, "--value", unit],
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return ""


def main_pid(unit):
    """The main process of UNIT, 0 when it does not run."""
    value = unit_property(unit, "MainPID")
    return int(value) if value.isdigit() else 0


def unit_state(unit):
    """UNIT's ActiveState: active, activating (also while systemd waits to restart it), ..."""
    return unit_property(unit, "ActiveState")


class Watchdog:
    """What one node's watchdog knows, kept in STATE across its own restarts (systemd restarts
    it with its node's H2O)."""

    def __init__(self, config, cloud):
        self.config, self.cloud = config, cloud
        self.me, self.peers = config["self"], [p for p in config["flatfile"] if p != config["self"]]
        self.pids = {}  # member -> its pid while this node was locked
        self.locked_since = None  # when this watchdog saw its node lock (None: not seen)
        self.seen_unlocked = False  # whether it saw its node unlocked (so locked_since is sure)
        self.strikes = {}  # "rule|text" -> checks in a row that saw it
        self.last_rejoin = self.last_self_restart = 0.0
        self.last_check = 0.0
        self.load()

    def load(self):
        try:
            with open(self.config["state"], encoding="utf-8") as handle:
                saved = json.load(handle)
        except (OSError, ValueError, KeyError):
            return
        # A count of checks in a row holds only if the last check was recent.
        if time.time() - saved.get("last_check", 0) < 3 * self.config["interval"]:
            self.strikes = saved.get("strikes", {})
        self.last_rejoin = saved.get("last_rejoin", 0.0)
        self.last_self_restart = saved.get("last_self_restart", 0.0)

    def save(self):
        path = self.config.get("state")
        if not path:
            return
        data = {
            "strikes": self.strikes,
            "last_rejoin": self.last_rejoin,
            "last_self_restart": self.last_self_restart,
            "last_check": self.last_check,
        }
        try:
            with open(path + ".tmp", "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(path + ".tmp", path)
        except OSError as error:
            log(f"cannot keep state in {path}: {error}")

    def check(self, now):
        """One round: the faults seen now ("rule|text"); acts on one seen CONFIRM times in a row."""
        mine = self.cloud.call(self.me, "/3/Cloud")
        views = {p: self.cloud.call(p, "/3/Cloud") for p in self.peers}
        faults = []
        if mine is not None and mine.get("cloud_name") == self.config["name"]:
            faults += self.member_faults(mine, views, now)
        faults += self.excluded(mine, views)
        faults = ["|".join(f) for f in faults]
        self.strikes = {f: self.strikes.get(f, 0) + 1 for f in dict.fromkeys(faults)}
        self.last_check = now
        due = [f for f in faults if self.strikes[f] >= self.config["confirm"]]
        self.save()
        if due:
            self.act(tuple(due[0].split("|", 1)), mine, views, now)
        return faults

    def member_faults(self, mine, views, now):
        uptime = mine.get("cloud_uptime_millis", 0) / 1000
        locked = bool(mine.get("locked"))
        if not locked:
            self.seen_unlocked, self.locked_since, self.pids = True, None, {}
        elif self.locked_since is None and self.seen_unlocked:
            self.locked_since = now
        faults, my_start = [], now - uptime
        for member, node in members(mine).items():
            view = views.get(member) if member != self.me else None
            start = now - view["cloud_uptime_millis"] / 1000 if view else None
            if view and not locked and view.get("locked") and my_start - start > LATE:
                # Rule E: this node restarted after the cloud locked; it goes with the others.
                faults.append(("E", f"this node started {my_start - start:.0f} s after {member}, "
                                    "which has locked the cloud"))  # fmt: skip
            if member == self.me or uptime < self.config["grace"]:
                continue
            if not node.get("healthy", True):
                faults.append(("B", f"{member} has sent no heartbeat for a minute"))
            elif locked:
                faults += self.restarted_after_lock(member, node, view, start, my_start)
            elif start is not None and start - my_start > self.config["together"]:
                faults.append(("C", f"{member} started {start - my_start:.0f} s after this node"))
        return faults

    def restarted_after_lock(self, member, node, view, start, my_start):
        pid, before = node.get("pid"), self.pids.setdefault(member, node.get("pid"))
        if pid and before and pid != before:
            return [("A", f"{member} restarted after the cloud locked (pid {before} -> {pid})")]
        if start is not None and self.locked_since is not None and start > self.locked_since:
            return [("A", f"{member} started after this node locked")]
        # Not seen locking: an unlocked member that started well after this node restarted.
        # (One that started with it is only not locked yet: a client that connected to one
        # node locks that node alone.)
        late = start is not None and start - my_start > LATE
        if view and not view.get("locked") and self.locked_since is None and late:
            return [("A", f"{member} answers unlocked, started {start - my_start:.0f} s "
                          "after this node")]  # fmt: skip
        return []

    def excluded(self, mine, views):
        """Rule D: peers run this cloud locked, without this node."""
        locked_without_me = [
            p for p, v in views.items()
            if v and v.get("cloud_name") == self.config["name"] and v.get("locked")
            and self.me not in members(v) and not (mine or {}).get("locked")
        ]  # fmt: skip
        if not locked_without_me:
            return []
        return [("D", f"{locked_without_me[0]} runs this cloud locked without this node")]

    def act(self, fault, mine, views, now):
        rule, why = fault
        if unit_state(self.config["unit"]) not in ("active", "activating"):
            log(f"rule {rule}: {why}; {self.config['unit']} is stopped, so nothing is done")
            return
        if rule == "D":
            return self.rejoin(why, views, now)
        if rule == "E" and now - self.last_self_restart < self.config["cooldown"]:
            return
        self.last_self_restart = now
        pid = main_pid(self.config["unit"])
        reported = members(mine).get(self.me, {}).get("pid")
        if not pid or (reported and reported != pid):
            log(f"not restarting: {self.config['unit']} runs pid {pid}, H2O reports {reported}")
            return
        log(f"rule {rule}: {why}; restarting this node's H2O (pid {pid}) to re-form the cloud")
        self.strikes.clear()
        self.save()
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.config["stop_timeout"]
        while time.monotonic() < deadline and main_pid(self.config["unit"]) == pid:
            time.sleep(1)
        if main_pid(self.config["unit"]) == pid:
            os.kill(pid, signal.SIGKILL)

    def rejoin(self, why, views, now):
        if now - self.last_rejoin < self.config["cooldown"]:
            return
        peer = next(p for p, v in views.items() if v and v.get("locked"))
        jobs = self.cloud.call(peer, "/3/Jobs") or {}
        running = [j for j in jobs.get("jobs", []) if j.get("status") == "RUNNING"]
        waited = self.strikes.get("D|" + why, 0) * self.config["interval"]
        if running and waited < self.config["rejoin_wait"]:
            if self.strikes.get("D|" + why) == self.config["confirm"]:
                log(f"rule D: {why}; waiting for {len(running)} running job(s) to end")
            return
        log(f"rule D: {why}; asking {peer} to shut its cloud down so it re-forms with this node")
        self.last_rejoin = now
        self.strikes.clear()
        self.save()
        self.cloud.call(peer, "/3/Shutdown", method="POST")


def load_config(path):
    """The [watchdog] section of PATH (the role's watchdog.conf) and the flatfile it names."""
    parser = configparser.ConfigParser()
    if not parser.read(path, encoding="utf-8"):
        raise SystemExit(f"cannot read {path}")
    section = parser["watchdog"]
    texts = ("name", "self", "flatfile_path", "ca", "credentials", "unit", "state")
    numbers = ("interval", "timeout", "rejoin_wait", "cooldown", "stop_timeout", "grace")
    config = {key: section.get(key) or None for key in texts}
    config.update({key: section.getfloat(key) for key in (*numbers, "together")})
    config["confirm"] = section.getint("confirm")
    with open(config["flatfile_path"], encoding="utf-8") as handle:
        lines = (line.split("#", 1)[0].strip() for line in handle)
        config["flatfile"] = [line for line in lines if line]
    return config


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="/etc/h2o/watchdog.conf")
    config = load_config(parser.parse_args(argv).config)
    dog = Watchdog(config, Cloud(config))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log(f"watching {config['self']} and {len(dog.peers)} peer(s) every {config['interval']} s")
    while True:
        started = time.monotonic()
        try:
            dog.check(time.time())
        except Exception as error:  # a watchdog keeps watching
            log(f"check failed: {error!r}")
        time.sleep(max(0.5, config["interval"] - (time.monotonic() - started)))


if __name__ == "__main__":
    sys.exit(main())
