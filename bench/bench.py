"""dmlctl benchmarks: each figure measured side by side with its floor, medians over repeats.

Run with `make bench` (root, podman). It creates its own labs (named bench-*), removes them at
the end, and writes bench/results.json plus bench/results.md (the table the README shows).
`--only help,status` re-measures a subset and keeps the other figures of results.json.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
DMLCTL = str(Path(sys.executable).parent / "dmlctl")
STATE_DIR = Path(tempfile.mkdtemp(prefix="dmlctl-bench-state-"))
# Bytecode as an installed tool has it (pip compiles it; an editable install writes it on the
# first run): a shell that forbids writing it would time the compiler, not dmlctl.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["DMLCTL_STATE_DIR"] = str(STATE_DIR)
# Labs are named after this (bench, bench-up, ...); DMLCTL_BENCH_LAB renames them.
LAB = os.environ.get("DMLCTL_BENCH_LAB", "bench")


def dmlctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([DMLCTL, *args], capture_output=True, text=True, env=ENV, check=False)
    if check and proc.returncode != 0:
        raise SystemExit(f"dmlctl {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return proc


def timed(action: Callable[..., object], *args, **kwargs) -> float:
    started = time.perf_counter()
    action(*args, **kwargs)
    return time.perf_counter() - started


def summary(samples: list[float]) -> dict:
    """Median and spread of repeated measurements (seconds)."""
    return {
        "median_s": round(statistics.median(samples), 3),
        "min_s": round(min(samples), 3),
        "max_s": round(max(samples), 3),
        "runs": len(samples),
    }


def inventory(lab: str = LAB) -> str:
    return str(STATE_DIR / "labs" / lab / "inventory.ini")


# ---------------------------------------------------------------- figures


# A bare typer app of dmlctl's shape: the same command names, a one-line help each, printed as
# plain text as dmlctl prints it.
BARE_TYPER = """
import typer
app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)
for name in {names!r}:
    app.command(name, help="one line")(lambda: None)
app()
"""


def bench_help(results: dict) -> None:
    """`dmlctl --help` against a bare typer app with the same commands (its floor)."""
    sys.path.insert(0, str(PROJECT_DIR))
    from dmlctl.cli import COMMANDS

    bare = Path(tempfile.mkdtemp()) / "bare.py"
    bare.write_text(BARE_TYPER.format(names=list(COMMANDS)))
    dmlctl("--help")  # warm the file cache
    samples = [timed(lambda: dmlctl("--help")) for _ in range(10)]
    floor = [timed(subprocess.run, [sys.executable, str(bare), "--help"], capture_output=True,
                   env=ENV, check=True) for _ in range(10)]  # fmt: skip
    results["help_floor"] = summary(floor)
    results["help"] = {**summary(samples), "target_s": 0.12}
    results["help"]["ratio_to_floor"] = round(
        results["help"]["median_s"] / results["help_floor"]["median_s"], 2
    )
    results["help"]["target_ratio"] = round(0.12 / results["help_floor"]["median_s"], 2)


def bench_lab_up(results: dict) -> None:
    dmlctl("lab", "image")  # the base image is cached; this measures warm lab up
    samples = []
    for _ in range(3):
        samples.append(timed(lambda: dmlctl("lab", "up", "--nodes", "3", "--name", "bench-up")))
        dmlctl("lab", "down", "--yes", "--name", "bench-up")
    results["lab_up_warm"] = summary(samples)


def bench_status(results: dict) -> None:
    """`dmlctl status` against a deployed 3-node lab (deploys one if needed)."""
    _ensure_deployed()
    dmlctl("status", "-i", inventory(), check=False)  # warm the inventory cache
    # A cloud just deployed is still compiling its REST handlers: the first calls warm it up.
    for _ in range(20):
        dmlctl("status", "--json", "-i", inventory(), check=False)
    samples = [timed(lambda: dmlctl("status", "--json", "-i", inventory())) for _ in range(20)]
    # The floor: the same REST calls made directly by a fresh Python, in parallel, with the
    # cluster's login (what status cannot do with less).
    direct = Path(tempfile.mkdtemp()) / "direct.py"
    direct.write_text(DIRECT_STATUS)
    model = json.loads(dmlctl("status", "--json", "-i", inventory()).stdout)
    urls = [model["spark"]["ui"] + "/json/"] + [
        f"{model['h2o']['url'].split('://')[0]}://{n['ip_port']}/3/Cloud"
        for n in model["h2o"]["nodes"]
    ]
    env = {**ENV, **_h2o_login(), "URLS": " ".join(urls)}
    floor = [timed(subprocess.run, [sys.executable, str(direct)], env=env, capture_output=True,
                   check=True) for _ in range(20)]  # fmt: skip
    results["status_direct"] = summary(floor)
    results["status"] = {**summary(samples), "target_s": 0.2}
    results["status"]["ratio_to_floor"] = round(
        results["status"]["median_s"] / results["status_direct"]["median_s"], 2
    )
    results["status"]["target_ratio"] = round(0.2 / results["status_direct"]["median_s"], 2)


DIRECT_STATUS = """
import base64, json, os, ssl, urllib.request
from concurrent.futures import ThreadPoolExecutor
headers, context = {}, None
if os.environ.get("DMLCTL_H2O_USER"):
    login = os.environ["DMLCTL_H2O_USER"] + ":" + os.environ["DMLCTL_H2O_PASSWORD"]
    headers["Authorization"] = "Basic " + base64.b64encode(login.encode()).decode()
    context = ssl.create_default_context(cafile=os.environ["DMLCTL_H2O_CACERT"])
def get(url):
    secure = url.startswith("https")
    request = urllib.request.Request(url, headers=headers if secure else {})
    with urllib.request.urlopen(request, timeout=5, context=context if secure else None) as r:
        return json.loads(r.read())
with ThreadPoolExecutor() as pool:
    print(json.dumps(list(pool.map(get, os.environ["URLS"].split()))))
"""


def bench_doctor(results: dict) -> None:
    """`dmlctl doctor` against the deployed 3-node lab: every check of every host, in parallel."""
    _ensure_deployed()
    dmlctl("doctor", "-i", inventory())  # warm the inventory cache and SSH connections
    samples = [timed(lambda: dmlctl("doctor", "-i", inventory())) for _ in range(10)]
    results["doctor"] = {**summary(samples), "target_s": 5}


_deployed = False


def _fresh_deploy() -> float:
    """A new 3-node bench lab, deployed to healthy; it stays up for the figures after it."""
    global _deployed
    dmlctl("lab", "down", "--yes", "--name", LAB, check=False)
    dmlctl("lab", "up", "--nodes", "3", "--name", LAB)
    seconds = timed(lambda: dmlctl("deploy", "-i", inventory()))
    _deployed = True
    return seconds


def _ensure_deployed() -> None:
    """The deployed 3-node bench lab the later figures run on (made once, unless `deploy` ran)."""
    if not _deployed:
        _fresh_deploy()


def bench_deploy(results: dict) -> None:
    """Fresh deploy to healthy on 3 new nodes against its floor, three rounds each. They
    alternate, each going first every other round, since the Debian mirror's speed drifts."""
    deploys, floors = [], []
    for i in range(3):
        for measure in (_fresh_deploy, deploy_floor)[:: 1 if i % 2 == 0 else -1]:
            (deploys if measure is _fresh_deploy else floors).append(measure())
    results["deploy"] = {**summary(deploys), "nodes": 3}
    results["floor"] = {**summary(floors), "nodes": 3}
    results["deploy"]["ratio_to_floor"] = round(
        results["deploy"]["median_s"] / results["floor"]["median_s"], 2
    )
    results["deploy"]["target_ratio"] = 1.2


def bench_redeploy(results: dict) -> None:
    _ensure_deployed()
    samples, changed = [], []
    for _ in range(3):
        started = time.perf_counter()
        recap = json.loads(dmlctl("deploy", "--json", "-i", inventory()).stdout)
        samples.append(time.perf_counter() - started)
        changed.append(sum(host["changed"] for host in recap["hosts"].values()))
    results["redeploy"] = {**summary(samples), "changed": max(changed), "target_s": 10}


def bench_ready(results: dict) -> None:
    """`dmlctl start` after `dmlctl stop`: until H2O is N/N and every Spark worker registered."""
    _ensure_deployed()
    samples = []
    for _ in range(3):
        dmlctl("stop", "-i", inventory())
        samples.append(timed(lambda: dmlctl("start", "-i", inventory())))
        dmlctl("status", "-i", inventory())  # start returns only once healthy; prove it
    results["ready"] = {**summary(samples), "target_s": 10}


def bench_submit(results: dict) -> None:
    """`dmlctl submit h2o-rf` against running jobs/h2o_rf.py directly on the same cloud.

    One unmeasured run first (the cloud's first model is slower: JIT, first parse), then the two
    alternate, each going first every other round, so neither gets the warmer cloud.
    """
    _ensure_deployed()
    model = json.loads(dmlctl("status", "--json", "-i", inventory()).stdout)
    direct_env = {**ENV, "DMLCTL_H2O_URL": model["h2o"]["url"], **_h2o_login()}
    samples: dict[str, list[float]] = {"submit": [], "direct": []}
    with tempfile.TemporaryDirectory() as scratch:

        def submit(name: str) -> None:
            dmlctl("submit", "h2o-rf", "-i", inventory(), "--out", str(Path(scratch) / name))

        def direct(name: str) -> None:
            run_dir = Path(scratch) / name
            run_dir.mkdir()
            subprocess.run(
                [sys.executable, str(PROJECT_DIR / "jobs" / "h2o_rf.py")],
                env={**direct_env, "DMLCTL_RUN_DIR": str(run_dir)},
                capture_output=True,
                check=True,
            )

        submit("warm-up")
        for i in range(5):
            order = [("submit", submit), ("direct", direct)]
            for kind, action in order if i % 2 == 0 else reversed(order):
                samples[kind].append(timed(action, f"{kind}-{i}"))
    results["submit"] = {**summary(samples["submit"]), "target_ratio": 1.1}
    results["submit_direct"] = summary(samples["direct"])
    results["submit"]["ratio_to_direct"] = round(
        results["submit"]["median_s"] / results["submit_direct"]["median_s"], 2
    )


def _h2o_login() -> dict[str, str]:
    """What a program needs to log in to the bench lab's H2O (nothing when it runs insecure)."""
    sys.path.insert(0, str(PROJECT_DIR))
    os.environ["DMLCTL_STATE_DIR"] = str(STATE_DIR)
    from dmlctl.security import credentials
    from dmlctl.security.cluster_secrets import ClusterSecrets

    box = ClusterSecrets.for_inventory(Path(inventory()))
    return credentials.from_secrets(box, secure=not box.insecure).h2o_env()


def bench_security(results: dict) -> None:
    """Security on (the default) against `deploy --insecure`: a fresh 3-node deploy to healthy
    and `submit h2o-rf` (one warm-up, then three), two rounds per mode, alternating which goes
    first."""
    global _deployed
    deploys: dict[str, list[float]] = {"secure": [], "insecure": []}
    submits: dict[str, list[float]] = {"secure": [], "insecure": []}
    with tempfile.TemporaryDirectory() as scratch:
        for i in range(2):
            for mode in ("secure", "insecure")[:: 1 if i % 2 == 0 else -1]:
                dmlctl("lab", "down", "--yes", "--name", LAB, check=False)
                dmlctl("lab", "up", "--nodes", "3", "--name", LAB)
                flags = ["--insecure"] if mode == "insecure" else []
                deploys[mode].append(timed(dmlctl, "deploy", "-i", inventory(), *flags))
                for n in range(4):
                    out = str(Path(scratch) / f"{mode}-{i}-{n}")
                    seconds = timed(dmlctl, "submit", "h2o-rf", "-i", inventory(), "--out", out)
                    if n:  # the first model of a fresh cloud is slower (JIT, first parse)
                        submits[mode].append(seconds)
    _deployed = False  # the lab was last deployed in either mode; the next figure redeploys
    for kind, samples in (("deploy", deploys), ("submit", submits)):
        secure, insecure = summary(samples["secure"]), summary(samples["insecure"])
        results[f"{kind}_secure"] = {
            **secure,
            "ratio_to_insecure": round(secure["median_s"] / insecure["median_s"], 2),
        }
        results[f"{kind}_insecure"] = insecure


def bench_nodes(results: dict) -> None:
    """Deploy time on fresh labs of 1, 3 and 6 nodes: how the cost grows with the cluster.
    The hand-made floor at 1 and 6 nodes shows how much of that growth the shared machine
    itself imposes (every lab node draws on the same cores, disk and mirror)."""
    scaling = {}
    for count in (1, 3, 6):
        name = f"bench-n{count}"
        dmlctl("lab", "up", "--nodes", str(count), "--name", name)
        try:
            scaling[str(count)] = round(timed(dmlctl, "deploy", "-i", inventory(name)), 1)
        finally:
            dmlctl("lab", "down", "--yes", "--name", name, check=False)
    floors = {str(count): round(deploy_floor(count), 1) for count in (1, 6)}
    results["nodes_scaling"] = {
        "deploy_s": scaling,
        "ratio_6_to_1": round(scaling["6"] / scaling["1"], 2),
        "floor_s": floors,
        "floor_ratio_6_to_1": round(floors["6"] / floors["1"], 2),
        "target_ratio": 1.5,
    }


def _submit_together(job: str, count: int, scratch: Path, tag: str) -> float:
    """COUNT `dmlctl submit JOB` started at once; the seconds until the last one ends."""
    started = time.perf_counter()
    command = [DMLCTL, "submit", job, "-i", inventory(), "--out"]
    runs = [
        subprocess.Popen(
            [*command, str(scratch / f"{tag}-{n}")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        for n in range(count)
    ]
    for run in runs:
        _, stderr = run.communicate()
        if run.returncode != 0:
            raise SystemExit(f"concurrent {job} failed:\n{stderr[-2000:]}")
    return time.perf_counter() - started


def _pair_with_core_gap(scratch: Path, tag: str) -> tuple[float, float]:
    """Two spark-kmeans at once: the makespan, and the seconds between the two applications
    first holding cores (the master's /json/, polled twice a second)."""
    import threading

    model = json.loads(dmlctl("status", "--json", "-i", inventory()).stdout)
    master_json = model["spark"]["ui"] + "/json/"
    holding_since: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                with urllib.request.urlopen(master_json, timeout=3) as response:
                    apps = json.loads(response.read())["activeapps"]
            except (OSError, ValueError):
                apps = []
            for app in apps:
                if app["state"] == "RUNNING" and app["cores"] > 0:
                    holding_since.setdefault(app["id"], time.monotonic())
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        makespan = _submit_together("spark-kmeans", 2, scratch, tag)
    finally:
        done.set()
        watcher.join()
    results = [json.loads((scratch / f"{tag}-{n}" / "result.json").read_text()) for n in (0, 1)]
    ids = [result["app_id"] for result in results]
    starts = sorted(holding_since[i] for i in ids)
    return makespan, starts[1] - starts[0]


def bench_concurrent(results: dict) -> None:
    """Jobs side by side: two spark-kmeans against one, three h2o-rf against one (makespan).

    On a 2-core machine one spark-kmeans keeps both cores ~90% busy, so two cannot finish in
    much less than twice one: that ratio shows fairness (both progress), the start gap shows
    that the second application got cores at once instead of waiting for the first.
    """
    _ensure_deployed()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        _submit_together("h2o-rf", 1, scratch, "warm-rf")
        _submit_together("spark-kmeans", 1, scratch, "warm-km")
        alone = [_submit_together("spark-kmeans", 1, scratch, f"km1-{i}") for i in range(2)]
        pairs, gaps = [], []
        for i in range(2):
            makespan, gap = _pair_with_core_gap(scratch, f"km2-{i}")
            pairs.append(makespan)
            gaps.append(gap)
        rf_alone = [_submit_together("h2o-rf", 1, scratch, f"rf1-{i}") for i in range(2)]
        rf_trio = [_submit_together("h2o-rf", 3, scratch, f"rf3-{i}") for i in range(2)]
    results["kmeans_alone"] = summary(alone)
    results["kmeans_pair"] = {**summary(pairs), "start_gap_s": round(max(gaps), 1)}
    results["kmeans_pair"]["ratio_to_alone"] = round(
        results["kmeans_pair"]["median_s"] / results["kmeans_alone"]["median_s"], 2
    )
    results["rf_alone"] = summary(rf_alone)
    results["rf_trio"] = {**summary(rf_trio), "target_ratio": 2.0}
    results["rf_trio"]["ratio_to_alone"] = round(
        results["rf_trio"]["median_s"] / results["rf_alone"]["median_s"], 2
    )


def bench_roster(results: dict) -> None:
    """`access grant` of a roster of thirty against one grant: seconds, and H2O restarts (one
    each: H2O reads its logins only when it starts)."""
    _ensure_deployed()
    scratch = Path(tempfile.mkdtemp(prefix="dmlctl-bench-roster-"))
    one = timed(lambda: dmlctl("access", "grant", "solo", "--out-dir", str(scratch),
                               "-i", inventory()))  # fmt: skip
    roster = scratch / "class.txt"
    roster.write_text("".join(f"stu{n:02d}\n" for n in range(30)))
    granted = {}

    def grant_roster():
        granted["run"] = dmlctl("access", "grant", "--roster", str(roster), "--out-dir",
                                str(scratch), "-i", inventory())  # fmt: skip

    thirty = timed(grant_roster)
    restarts = granted["run"].stdout.count("restarted once")
    results["grant_one"] = summary([one])
    results["grant_roster_30"] = {**summary([thirty]), "h2o_restarts": restarts,
                                  "ratio_to_one": round(thirty / one, 2)}  # fmt: skip


def bench_heal(results: dict) -> None:
    """A program's h2o.cluster().shutdown() until the cloud is whole again, with no command."""
    _ensure_deployed()
    url = json.loads(dmlctl("status", "--json", "-i", inventory()).stdout)["h2o"]["url"]
    samples = []
    for _ in range(2):
        before = _cloud(url)
        if before is None:
            raise SystemExit("the H2O cloud is down before the heal figure")
        subprocess.run(
            [sys.executable, "-c", "import h2o,sys; h2o.connect(url=sys.argv[1], verbose=False); "
             "h2o.cluster().shutdown()", url],
            capture_output=True, check=True,
        )  # fmt: skip
        started = time.perf_counter()
        # Still the old cloud until it stops answering or answers younger than it was.
        old_uptime = before["cloud_uptime_millis"]
        while (cloud := _cloud(url)) and cloud["cloud_uptime_millis"] >= old_uptime:
            time.sleep(0.2)
        deadline = time.monotonic() + 300
        while not ((cloud := _cloud(url)) and cloud["cloud_size"] == 3 and cloud["consensus"]):
            if time.monotonic() > deadline:
                raise SystemExit("the H2O cloud did not heal within 300 s")
            time.sleep(0.2)
        samples.append(time.perf_counter() - started)
    results["heal"] = {**summary(samples), "target_s": 60}


FAULT_RUNS = 2


def _h2o_verdict() -> str:
    result = dmlctl("status", "--json", "-i", inventory(), check=False)
    try:
        return json.loads(result.stdout)["h2o"]["verdict"]
    except (ValueError, KeyError):
        return "unknown"


def _served_after(fault_at: float, scratch: Path) -> tuple[float, float]:
    """Seconds from FAULT_AT until `status` calls the H2O cloud healthy again, and until an
    h2o-rf started then has given its matrix. No command but status and submit."""
    time.sleep(1)  # the fault takes effect (systemd notices the killed JVM)
    deadline = time.monotonic() + 300
    while _h2o_verdict() != "healthy":
        if time.monotonic() > deadline:
            raise SystemExit("the H2O cloud did not heal within 300 s of the fault")
        time.sleep(1)
    healed = time.time() - fault_at
    out = scratch / f"rf-{time.monotonic_ns()}"
    dmlctl("submit", "h2o-rf", "-i", inventory(), "--out", str(out))
    return healed, time.time() - fault_at


def bench_faults(results: dict) -> None:
    """Seconds from a fault of one node, after a job locked the cloud, to a cloud that serves a
    job again: kill -9 of its H2O JVM, and a reboot of the machine (`lab restart`)."""
    _ensure_deployed()
    scratch = Path(tempfile.mkdtemp(prefix="dmlctl-bench-faults-"))
    dmlctl("submit", "h2o-rf", "-i", inventory(), "--out", str(scratch / "first"))  # locks it
    kill = "sudo sh -c 'kill -9 $(systemctl show -p MainPID --value h2o.service)'"
    faults = {
        "fault_kill9": lambda: dmlctl("lab", "ssh", "node2", "--name", LAB, "--", kill),
        "fault_reboot": lambda: dmlctl("lab", "restart", "node3", "--name", LAB),
    }
    for figure, make_fault in faults.items():
        healed, served = [], []
        for _ in range(FAULT_RUNS):  # each run's job locks the cloud for the next fault
            fault_at = time.time()
            make_fault()
            heal_s, served_s = _served_after(fault_at, scratch)
            healed.append(heal_s)
            served.append(served_s)
        results[figure] = {
            **summary(healed), "target_s": 60, "job_served_s": round(statistics.median(served), 1)
        }  # fmt: skip


# The hand-made cluster runs on the engines' own default ports.
FLOOR_SPARK_UI_PORT, FLOOR_H2O_PORT = 8080, 54321


def _floor_ready(nodes: list[dict]) -> bool:
    """The hand-made cluster is open (no secret, no login), so its readiness is read from the
    engines directly, with the same test as the deploy's wait: every worker ALIVE at the
    master, every H2O node in one cloud of all, with consensus."""
    workers = {n["ip"] for n in nodes[1:]} or {nodes[0]["ip"]}
    try:
        master_url = f"http://{nodes[0]['ip']}:{FLOOR_SPARK_UI_PORT}/json/"
        with urllib.request.urlopen(master_url, timeout=2) as r:
            master = json.loads(r.read())
    except (OSError, ValueError):
        return False
    alive = {w["host"] for w in master.get("workers", []) if w["state"] == "ALIVE"}
    clouds = [_cloud(f"http://{n['ip']}:{FLOOR_H2O_PORT}") for n in nodes]
    return workers <= alive and all(
        c and c["cloud_size"] == len(nodes) and c["consensus"] for c in clouds
    )


def _cloud(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url + "/3/Cloud", timeout=2) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------- the floor


def deploy_floor(count: int = 3) -> float:
    """The same artifacts on `count` fresh nodes by hand: podman cp, apt-get, engines started
    with plain commands, until `dmlctl status` says healthy. Nothing here is dmlctl's own work."""
    from concurrent.futures import ThreadPoolExecutor

    from dmlctl import store

    name = "bench-floor"
    dmlctl("lab", "up", "--nodes", str(count), "--name", name)
    nodes = store.load(STATE_DIR / "labs" / name / "lab.json")["nodes"]
    spark_tar = next((Path.home() / ".cache/dmlctl/artifacts").glob("spark-*-bin-dmlctl.tar"))
    h2o_jar = (
        Path(sys.executable).parent.parent / "lib/python3.11/site-packages/h2o/backend/bin/h2o.jar"
    )
    master_ip = nodes[0]["ip"]
    flatfile = "".join(f"{n['ip']}:{FLOOR_H2O_PORT}\n" for n in nodes)

    def podman(*args: str) -> None:
        subprocess.run(["podman", *args], check=True, capture_output=True, env=_podman_env())

    def install(node: dict) -> None:
        c = node["container"]
        podman("exec", c, "sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
               "apt-get install -y -qq openjdk-17-jre-headless python3 >/dev/null")  # fmt: skip
        podman("cp", str(spark_tar), f"{c}:/opt/spark.tar")
        podman(
            "exec",
            c,
            "sh",
            "-c",
            "tar -C /opt -xf /opt/spark.tar && ln -sfn /opt/spark-* /opt/spark",
        )
        podman("cp", str(h2o_jar), f"{c}:/opt/h2o.jar")
        podman("exec", c, "sh", "-c", f"printf '{flatfile}' > /opt/flatfile")

    def start(index: int, node: dict) -> None:
        c, ip = node["container"], node["ip"]
        if index == 0:
            podman("exec", "-d", c, "/opt/spark/bin/spark-class",
                   "org.apache.spark.deploy.master.Master", "--host", ip)  # fmt: skip
        if index > 0 or len(nodes) == 1:
            podman("exec", "-d", c, "/opt/spark/bin/spark-class",
                   "org.apache.spark.deploy.worker.Worker", f"spark://{master_ip}:7077",
                   "--host", ip, "--memory", "2g")  # fmt: skip
        podman("exec", "-d", c, "java", "-Xmx1g", "-jar", "/opt/h2o.jar", "-name", "dmlctl",
               "-flatfile", "/opt/flatfile", "-ip", ip, "-port", str(FLOOR_H2O_PORT))  # fmt: skip

    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
            list(pool.map(install, nodes))
            list(pool.map(start, range(len(nodes)), nodes))
        deadline = time.monotonic() + 300
        while not _floor_ready(nodes):
            if time.monotonic() > deadline:
                raise SystemExit("the hand-made floor cluster never became healthy")
            time.sleep(0.5)
        return time.perf_counter() - started
    finally:
        dmlctl("lab", "down", "--yes", "--name", name, check=False)


def bench_demo(results: dict) -> None:
    """`make demo` in a fresh clone (a new venv; pip's cache and the lab image as this machine
    has them, said beside the figure): set-up, a lab, a deploy and both sample jobs."""
    name = f"{LAB}-demo"
    with tempfile.TemporaryDirectory(prefix="dmlctl-bench-demo-") as scratch:
        clone = Path(scratch) / "dmlctl"
        subprocess.run(["git", "clone", "-q", str(PROJECT_DIR), str(clone)], check=True)
        image = subprocess.run(["podman", "image", "exists", "localhost/dmlctl-base:bookworm"],
                               env=_podman_env(), check=False)  # fmt: skip
        try:
            started = time.perf_counter()
            subprocess.run(["make", "-C", str(clone), "demo", f"DEMO_LAB={name}"], env=ENV,
                           check=True, capture_output=True)  # fmt: skip
            seconds = time.perf_counter() - started
        finally:
            dmlctl("lab", "down", "--yes", "--name", name, check=False)
    results["make_demo"] = {**summary([seconds]), "target_s": 300,
                            "image_cached": image.returncode == 0}  # fmt: skip


def _podman_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(PROJECT_DIR / "dmlctl/data/containers.conf")}


FIGURES: dict[str, Callable[[dict], None]] = {
    "lab": bench_lab_up,
    "deploy": bench_deploy,
    "redeploy": bench_redeploy,
    "ready": bench_ready,
    "status": bench_status,
    "doctor": bench_doctor,
    "help": bench_help,
    "submit": bench_submit,
    "concurrent": bench_concurrent,
    "heal": bench_heal,
    "roster": bench_roster,
    "faults": bench_faults,
    "nodes": bench_nodes,
    "security": bench_security,
    "demo": bench_demo,
}


# ---------------------------------------------------------------- report


def machine() -> str:
    cpus = os.cpu_count()
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpus} cores, {mem_gib:.0f} GiB, {platform.system()} {platform.release()}"


def _row(key: str, value: dict) -> str:
    spread = f"{value['min_s']} to {value['max_s']} s ({value['runs']} runs)"
    notes = []
    if "ratio_to_floor" in value:
        notes.append(f"{value['ratio_to_floor']}x the floor (target <= {value['target_ratio']}x)")
    if "ratio_to_alone" in value:
        target = f" (target <= {value['target_ratio']}x)" if "target_ratio" in value else ""
        notes.append(f"{value['ratio_to_alone']}x one alone{target}")
    if "start_gap_s" in value:
        notes.append(f"second app got cores {value['start_gap_s']} s after the first")
    if "ratio_to_direct" in value:
        notes.append(f"{value['ratio_to_direct']}x direct (target <= {value['target_ratio']}x)")
    if "ratio_to_insecure" in value:
        notes.append(f"{value['ratio_to_insecure']}x security off")
    if "ratio_to_one" in value:
        notes.append(f"{value['ratio_to_one']}x one grant, {value['h2o_restarts']} H2O restart(s)")
    if "changed" in value:
        notes.append(f"changed={value['changed']}")
    if "target_s" in value:
        notes.append(f"target <= {value['target_s']} s")
    if "image_cached" in value:
        notes.append("lab image " + ("cached" if value["image_cached"] else "built"))
    if "job_served_s" in value:
        notes.append(f"a job's matrix {value['job_served_s']} s after the fault")
    return f"| {key} | {value['median_s']} s | {spread} | {'; '.join(notes)} |"


def write_report(results: dict) -> None:
    results["machine"] = machine()
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    rows = ["| figure | median | spread | against |", "|---|---|---|---|"]
    rows += [_row(k, v) for k, v in results.items() if isinstance(v, dict) and "median_s" in v]
    if scaling := results.get("nodes_scaling"):
        times = ", ".join(f"{n} nodes {s} s" for n, s in scaling["deploy_s"].items())
        rows.append(
            f"| deploy by cluster size | {times} | | 6 nodes = {scaling['ratio_6_to_1']}x "
            f"1 node (target <= {scaling['target_ratio']}x) |"
        )
        if floors := scaling.get("floor_s"):
            times = ", ".join(f"{n} nodes {s} s" for n, s in floors.items())
            rows.append(
                f"| floor by cluster size | {times} | | 6 nodes = "
                f"{scaling['floor_ratio_6_to_1']}x 1 node |"
            )
    text = f"Measured on {results['machine']}.\n\n" + "\n".join(rows) + "\n"
    (BENCH_DIR / "results.md").write_text(text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(FIGURES)}")
    options = parser.parse_args()
    chosen = options.only.split(",") if options.only else list(FIGURES)
    unknown = set(chosen) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figures: {', '.join(sorted(unknown))}")
    # A partial run (--only) updates the figures it measured and keeps the others.
    results_file = BENCH_DIR / "results.json"
    results: dict = (
        json.loads(results_file.read_text()) if options.only and results_file.exists() else {}
    )
    try:
        for name in chosen:
            print(f"· {name}", file=sys.stderr)
            FIGURES[name](results)
    finally:
        for lab in (LAB, *(f"{LAB}-{tail}" for tail in ("up", "floor", "n1", "n3", "n6", "demo"))):
            dmlctl("lab", "down", "--yes", "--name", lab, check=False)
        write_report(results)  # what was measured before a failure is kept


if __name__ == "__main__":
    main()
