"""`dmlctl env`: shell exports that point spark-submit, pyspark and python at the cluster."""

import shlex
import sys
from pathlib import Path

from dmlctl.commands.common import Inventory, Json, Profile, connect
from dmlctl.ui.console import print_json


def env(
    inventory_path: Inventory = None, profile_path: Profile = None, as_json: Json = False
) -> None:
    """Print shell exports for running programs by hand: eval "$(dmlctl env)".

    After them, `spark-submit prog.py`, `pyspark` and `python prog.py` reach the cluster's
    Spark master (with the cluster's secret, from a file only you can read), and an H2O
    program's h2o.init() reaches the cloud with your login (DMLCTL_H2O_URL, _USER, _PASSWORD,
    _CACERT; a start-up hook on PYTHONPATH passes them), failing loudly when the cloud is down
    instead of starting a private H2O here.
    """
    from dmlctl.jobs.environment import cluster_environment

    variables = cluster_environment(connect(inventory_path, profile_path))
    if as_json:
        print_json(variables)
        return
    venv_bin = str(Path(sys.executable).parent)
    print('# Spark and H2O of this cluster; use with: eval "$(dmlctl env)"')
    print(f'export PATH={shlex.quote(venv_bin)}:"$PATH"')
    for key, value in variables.items():
        if key == "PYTHONPATH":  # in front of the user's own, if any
            print(f'export PYTHONPATH={shlex.quote(value)}"${{PYTHONPATH:+:$PYTHONPATH}}"')
        else:
            print(f"export {key}={shlex.quote(value)}")
    if "DMLCTL_H2O_PASSWORD_FILE" in variables:
        # Read when the exports run, so the password itself is never printed.
        password_file = shlex.quote(variables["DMLCTL_H2O_PASSWORD_FILE"])
        print(f'export DMLCTL_H2O_PASSWORD="$(cat {password_file})"')
