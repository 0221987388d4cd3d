"""Random forest on the iris flowers with H2O-3 (the lecture's sample program).

Connects to the H2O cloud at $DMLCTL_H2O_URL (or --url), as `dmlctl submit` arranges; with no
URL it starts an embedded H2O of its own (what `dmlctl submit h2o-rf --local` does) and shuts
it down at the end. A shared cloud is never shut down. Keys are global to a cloud, so every
frame and model of a run is named after the run (h2o_rf_<id>_...) and removed when it ends,
failed or not: any number of runs share the cloud at once. Steps, as in the lecture:

  connect -> cluster status -> load iris -> species as factor -> split 80/20 (seed 1234)
  -> H2ORandomForestEstimator(ntrees=50, max_depth=10, nfolds=5) on the four measures
  -> model_performance(test_data=test) with its confusion matrix

Writes result.json into the output directory (--out, else $DMLCTL_RUN_DIR, else the current
directory).

    python jobs/h2o_rf.py [--url http://HOST:54321] [--data CSV | --node-path PATH] [--out DIR]
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import uuid
from pathlib import Path

import h2o
from h2o.estimators import H2ORandomForestEstimator

DEFAULT_DATA = Path(__file__).resolve().parent / "data" / "iris.csv"
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
TARGET = "species"
SPLIT_SEED = 1234
MODEL_SEED = 1234


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--url",
        default=os.environ.get("DMLCTL_H2O_URL") or None,
        help="H2O cloud to connect to (default: $DMLCTL_H2O_URL; none: start a local H2O)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--data",
        default=str(DEFAULT_DATA),
        help="CSV on this machine, uploaded to the cloud (default: %(default)s)",
    )
    source.add_argument(
        "--node-path",
        default=None,
        help="CSV path (or URL) as the H2O nodes see it; the cloud imports it itself",
    )
    parser.add_argument(
        "--out",
        default=os.environ.get("DMLCTL_RUN_DIR") or ".",
        help="directory for result.json (default: $DMLCTL_RUN_DIR or .)",
    )
    parser.add_argument("--max-mem", default="1g", help="heap of a local H2O (1g)")
    parser.add_argument("--nthreads", type=int, default=2, help="threads of a local H2O (2)")
    return parser.parse_args()


def heap_bytes(size: str) -> int:
    """'1g', '512m' or a plain number of bytes, as h2o.init() would take it."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    size = size.strip().lower()
    if size and size[-1] in units:
        return int(float(size[:-1]) * units[size[-1]])
    return int(size)


def connect(args: argparse.Namespace):
    """Connect to the shared cloud, or start a local H2O. Returns the local server or None."""
    if args.url:
        # The cloud runs exactly the H2O that this client library expects. A secure cloud wants
        # a login and trusts its own CA (dmlctl submit puts both in the environment).
        user = os.environ.get("DMLCTL_H2O_USER")
        h2o.connect(
            url=args.url,
            auth=(user, os.environ.get("DMLCTL_H2O_PASSWORD", "")) if user else None,
            cacert=os.environ.get("DMLCTL_H2O_CACERT") or None,
            strict_version_check=True,
            verbose=True,
        )
        return None
    from h2o.backend import H2OLocalServer

    # Started explicitly rather than with h2o.init(), which would first attach to any H2O
    # already listening on localhost:54321 -- and this job shuts its own H2O down at the end.
    # The H2O JVM runs in a session of its own, so Ctrl-C reaches only this process: hold it
    # until the server is up and known, or its JVM would be left running.
    interrupted: list[int] = []
    deferred = (signal.SIGINT, signal.SIGTERM)
    previous = {
        s: signal.signal(s, lambda signum, frame: interrupted.append(signum)) for s in deferred
    }
    try:
        server = H2OLocalServer.start(
            nthreads=args.nthreads,
            max_mem_size=heap_bytes(args.max_mem),
            port="54321+",
            verbose=True,
        )
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if interrupted:
        server.shutdown()
        raise KeyboardInterrupt
    h2o.connect(server=server, verbose=True)
    return server


def load_iris(args: argparse.Namespace, key: str) -> h2o.H2OFrame:
    """Iris as an H2OFrame: uploaded from this machine, or imported by the nodes themselves."""
    if args.node_path:
        return h2o.import_file(args.node_path, destination_frame=f"{key}_iris")
    return h2o.upload_file(args.data, destination_frame=f"{key}_iris")


def remove_run_keys(key: str, made: list) -> None:
    """Take away everything this run made on a shared cloud: its model (with the CV models
    and predictions), the frames it holds, and any other key named after the run."""
    for thing in made:
        with contextlib.suppress(Exception):
            if isinstance(thing, h2o.H2OFrame):
                h2o.remove(thing)
            else:
                h2o.remove(thing, cascade=True)
    with contextlib.suppress(Exception):
        for name in h2o.ls()["key"].tolist():
            if str(name).startswith(key):
                with contextlib.suppress(Exception):
                    h2o.remove(name)


def confusion_matrix(performance) -> dict:
    """Counts, actual (rows) x predicted (columns), without the Error/Rate columns and totals."""
    table = performance.confusion_matrix()
    table = getattr(table, "table", table)  # a ConfusionMatrix wraps an H2OTwoDimTable
    header = [str(h) for h in table.col_header]
    columns = [i for i, h in enumerate(header) if h not in ("", "Error", "Rate")]
    labels = [header[i] for i in columns]
    rows = [[round(float(row[i])) for i in columns] for row in table.cell_values[: len(labels)]]
    return {"labels": labels, "rows": rows}


def main() -> None:
    args = parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # Stopped with SIGTERM: still run the clean-up below (shut down our own H2O).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    server = None
    failed = True
    key = f"h2o_rf_{uuid.uuid4().hex[:12]}"  # this run's keys on the cloud
    made: list = []  # this run's frames and model on a shared cloud
    try:
        server = connect(args)
        cluster = h2o.cluster()
        cluster.show_status(True)
        info = {
            "cloud_size": int(cluster.cloud_size),
            "version": cluster.version,
            "name": cluster.cloud_name,
            "url": h2o.connection().base_url,
            "local": server is not None,
        }

        df = load_iris(args, key)
        df[TARGET] = df[TARGET].asfactor()  # a new frame (a temporary key) for df
        made.append(df)
        train, test = df.split_frame(
            ratios=[0.8], seed=SPLIT_SEED, destination_frames=[f"{key}_train", f"{key}_test"]
        )
        print(f"train rows: {train.nrows}, test rows: {test.nrows}")

        rf_model = H2ORandomForestEstimator(
            model_id=f"{key}_rf", ntrees=50, max_depth=10, nfolds=5, seed=MODEL_SEED
        )
        made.append(rf_model)
        rf_model.train(x=FEATURES, y=TARGET, training_frame=train)
        performance = rf_model.model_performance(test_data=test)
        print(performance)

        result = {
            "job": "h2o-rf",
            "train_rows": int(train.nrows),
            "test_rows": int(test.nrows),
            "mse": performance.mse(),
            "rmse": performance.rmse(),
            "logloss": performance.logloss(),
            "mean_per_class_error": performance.mean_per_class_error(),
            "confusion_matrix": confusion_matrix(performance),
            "cluster": info,
            "model": {"ntrees": 50, "max_depth": 10, "nfolds": 5, "seed": MODEL_SEED},
            "split_seed": SPLIT_SEED,
            "data": args.node_path or args.data,
        }
        tmp = out / "result.json.tmp"
        tmp.write_text(json.dumps(result, indent=2) + "\n")
        tmp.replace(out / "result.json")
        print(f"wrote {out / 'result.json'}")

        failed = False
    finally:
        if server is None:
            # A shared cloud stays up for everyone else: take away only what this run made.
            remove_run_keys(key, made)
        else:
            # This job's own H2O: shut it down (the lecture's last step).
            with contextlib.suppress(Exception):
                h2o.cluster().shutdown()
            server.shutdown()
            # Its scratch space and logs (a temporary directory): kept only when the job failed.
            scratch = getattr(server, "_tempdir", None)
            if scratch and failed:
                print(f"the local H2O's own logs: {scratch}")
            elif scratch:
                shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
