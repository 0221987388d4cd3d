"""`dmlctl env`: shell exports that point spark-submit, pyspark and python at the cluster."""

import shlex
import sys
from pathlib import Path

from dmlctl.commands.options import Inventory, Json
from dmlctl.console import print_json


def cluster_environment(inventory_path: Path | None) -> dict[str, str]:
    """What a program started by hand needs to reach the cluster, as environment variables.

    Worked out from the inventory alone: it works while the cluster is down too.
    """
    from dmlctl import cluster_target, inventory, jobs
    from dmlctl import status as cluster_status

    inv = inventory.load_cached(inventory.resolve(inventory_path))
    inv.require_cluster_groups()
    ends = cluster_status.endpoints(inv)
    driver = cluster_target.driver_address(ends.spark_master_address)
    env = {
        # The pinned pyspark's Spark: `.venv/bin/spark-submit` works without an activated venv.
        "SPARK_HOME": jobs.spark_home() or "",
        "PYSPARK_PYTHON": ends.spark_python,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        # spark-submit and pyspark read MASTER; executors connect back to SPARK_LOCAL_IP.
        "MASTER": ends.spark_master_url,
        "SPARK_LOCAL_IP": driver,
        # A plain `python prog.py` whose SparkSession.builder.getOrCreate() reaches the master.
        "PYSPARK_SUBMIT_ARGS": shlex.join(
            [
                "--master",
                ends.spark_master_url,
                "--conf",
                f"spark.driver.host={driver}",
                "pyspark-shell",
            ]
        ),
        "DMLCTL_H2O_URL": ends.h2o_url,
    }
    return {key: value for key, value in env.items() if value}


def env(inventory_path: Inventory = None, as_json: Json = False) -> None:
    """Print shell exports for running programs by hand: eval "$(dmlctl env)".

    After them, `spark-submit prog.py`, `pyspark` and `python prog.py` reach the cluster's
    Spark master, and an H2O program finds the cloud in DMLCTL_H2O_URL:
    h2o.connect(url=os.environ["DMLCTL_H2O_URL"]) fails loudly when the cloud is down, where
    h2o.init() would quietly start a private H2O here.
    """
    variables = cluster_environment(inventory_path)
    if as_json:
        print_json(variables)
        return
    venv_bin = str(Path(sys.executable).parent)
    print('# Spark and H2O of this cluster; use with: eval "$(dmlctl env)"')
    print(f'export PATH={shlex.quote(venv_bin)}:"$PATH"')
    for key, value in variables.items():
        print(f"export {key}={shlex.quote(value)}")
