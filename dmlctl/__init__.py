"""dmlctl: deploy Spark and H2O clusters with Ansible, check them, submit ML jobs."""

__version__ = "0.1.0"
