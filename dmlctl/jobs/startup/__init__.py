"""Not imported as a package: this directory goes on a program's PYTHONPATH so that its
sitecustomize runs at start-up (see dmlctl.jobs.target.STARTUP_DIR)."""
