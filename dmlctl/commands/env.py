"""`dmlctl env`: shell exports that point spark-submit, pyspark and python at the cluster."""

import shlex
import sys
from pathlib import Path

from dmlctl.commands.common import Inventory, Json, Profile
from dmlctl.ui.console import print_json


def cluster_environment(conn) -> dict[str, str]:
    """What a program started by hand needs to reach the cluster, as environment variables.

    Worked out from the inventory or profile alone: it works while the cluster is down too.
    No secret is ever a value here: on a secure cluster SPARK_CONF_DIR names a directory only
    this user can read (its spark-defaults.conf holds the Spark secret), and
    DMLCTL_H2O_PASSWORD_FILE a file with the H2O password.
    """
    from dmlctl import jobs
    from dmlctl.cluster import status
    from dmlctl.jobs import cluster_target
    from dmlctl.security import credentials

    ends = status.with_h2o_scheme(conn.ends, conn.creds)
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
    files = credentials.private_files(conn.creds, conn.source)
    if files is not None:
        conf_file, password_file = files
        env["SPARK_CONF_DIR"] = str(conf_file.parent)
        env["DMLCTL_H2O_USER"] = conn.creds.h2o_user or ""
        env["DMLCTL_H2O_PASSWORD_FILE"] = str(password_file)
        env["DMLCTL_H2O_CACERT"] = str(conn.creds.ca_file or "")
    return {key: value for key, value in env.items() if value}


def env(
    inventory_path: Inventory = None, profile_path: Profile = None, as_json: Json = False
) -> None:
    """Print shell exports for running programs by hand: eval "$(dmlctl env)".

    After them, `spark-submit prog.py`, `pyspark` and `python prog.py` reach the cluster's
    Spark master (with the cluster's secret, from a file only you can read), and an H2O program
    finds the cloud and its login in DMLCTL_H2O_URL, _USER, _PASSWORD and _CACERT:
    h2o.connect(...) fails loudly when the cloud is down, where h2o.init() would quietly start
    a private H2O here.
    """
    from dmlctl.cluster.connection import connect

    variables = cluster_environment(connect(inventory_path, profile_path))
    if as_json:
        print_json(variables)
        return
    venv_bin = str(Path(sys.executable).parent)
    print('# Spark and H2O of this cluster; use with: eval "$(dmlctl env)"')
    print(f'export PATH={shlex.quote(venv_bin)}:"$PATH"')
    for key, value in variables.items():
        print(f"export {key}={shlex.quote(value)}")
    if "DMLCTL_H2O_PASSWORD_FILE" in variables:
        # Read when the exports run, so the password itself is never printed.
        password_file = shlex.quote(variables["DMLCTL_H2O_PASSWORD_FILE"])
        print(f'export DMLCTL_H2O_PASSWORD="$(cat {password_file})"')
