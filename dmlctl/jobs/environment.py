"""The environment of programs that reach the cluster outside `dmlctl submit`: a program run by
hand after `eval "$(dmlctl env)"`, and the kernels of `dmlctl notebook`."""

import sys

from dmlctl.jobs import cluster_target, target


def cluster_environment(conn) -> dict[str, str]:
    """What a program started by hand needs to reach the cluster, as environment variables.

    Worked out from the inventory or profile alone: it works while the cluster is down too.
    No secret is ever a value here: on a secure cluster SPARK_CONF_DIR names a directory only
    this user can read (its spark-defaults.conf holds the Spark secret), and
    DMLCTL_H2O_PASSWORD_FILE a file with the H2O password. PYTHONPATH's sitecustomize makes an
    unchanged h2o.init() reach the cloud with them (dmlctl.jobs.program_hooks).
    """
    from dmlctl.cluster import endpoints
    from dmlctl.security import credentials

    ends = endpoints.with_h2o_scheme(conn.ends, conn.creds)
    driver = cluster_target.driver_address(ends.spark_master_address)
    env = {
        # The pinned pyspark's Spark: `.venv/bin/spark-submit` works without an activated venv.
        "SPARK_HOME": target.spark_home() or "",
        "PYSPARK_PYTHON": ends.spark_python,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        # spark-submit and pyspark read MASTER; executors connect back to SPARK_LOCAL_IP.
        "MASTER": ends.spark_master_url,
        "SPARK_LOCAL_IP": driver,
        # A plain `python prog.py` whose SparkSession.builder.getOrCreate() reaches the master.
        "PYSPARK_SUBMIT_ARGS": target.spark_submit_args(
            ends.spark_master_url, {"spark.driver.host": driver}
        ),
        "DMLCTL_H2O_URL": ends.h2o_url,
        "DMLCTL_H2O_NODES": ",".join(ends.h2o_nodes),
        "PYTHONPATH": str(target.STARTUP_DIR),
    }
    files = credentials.private_files(conn.creds, conn.source)
    if files is not None:
        conf_file, password_file = files
        env["SPARK_CONF_DIR"] = str(conf_file.parent)
        env["DMLCTL_H2O_USER"] = conn.creds.h2o_user or ""
        env["DMLCTL_H2O_PASSWORD_FILE"] = str(password_file)
        env["DMLCTL_H2O_CACERT"] = str(conn.creds.ca_file or "")
    return {key: value for key, value in env.items() if value}
