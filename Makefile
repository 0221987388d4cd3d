# dmlctl: `make demo` shows it working, `make test` proves it. Both set up what is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# Every podman call (dmlctl's and molecule's) uses the project's runtime and ulimits.
export CONTAINERS_CONF := $(CURDIR)/dmlctl/data/containers.conf
# molecule and ansible-runner look for ansible-* on PATH.
export PATH := $(BIN):$(PATH)
# chromium + chromium-driver: the browser test of `dmlctl notebook` (headless).
SYSTEM_PACKAGES := podman runc debootstrap openjdk-17-jre-headless openssh-client curl tar \
  chromium chromium-driver

.PHONY: setup system-packages lab-image lock demo test lint unit bench clean

setup: system-packages $(VENV)/.installed

# As root on Debian/Ubuntu: install what is missing. Otherwise: say exactly what to install.
system-packages:
	@if ! command -v dpkg-query >/dev/null; then \
	  echo "note: not a Debian-family system; make sure these are installed: $(SYSTEM_PACKAGES)"; \
	  exit 0; fi; \
	missing=$$(for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing system packages:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
	  echo "missing system packages:" $$missing; \
	  echo "install them with: sudo apt-get install" $$missing; \
	fi

# Everything installs from requirements.lock (`make lock` refreshes it from pyproject.toml).
$(VENV)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit((3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null; \
	if [ $$? != 1 ]; then found=$$($(PYTHON) --version 2>&1) || found="not found"; \
	  echo "dmlctl needs Python 3.11 to 3.13 ($(PYTHON): $$found): install one, e.g. apt-get install python3.11-venv," \
	  "then run: make setup PYTHON=python3.11"; exit 2; fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	@# setuptools notes that a flat layout's dmlctl/ may shadow the package: it is the package.
	PYTHONWARNINGS="ignore:Editable installation" \
	  $(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

lock:
	@[ -x $(BIN)/uv ] || $(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 \
	  --custom-compile-command "make lock" --quiet --output-file requirements.lock

# The lab's base image (debootstrap, about a minute) builds while pip fills the venv: it needs
# only the system packages (dmlctl.lab.image is standard library only). Should it fail here,
# `dmlctl demo` builds it and says why.
DEMO_LAB ?= demo
demo:
	@$(MAKE) --no-print-directory -j2 setup lab-image
	$(BIN)/dmlctl demo --name $(DEMO_LAB)

lab-image: system-packages
	-@[ "$$(id -u)" != 0 ] || $(PYTHON) -c 'from dmlctl.lab.image import ensure_base_image; 	  ensure_base_image(progress=lambda line: print("lab image:", line))'

lint: setup
	$(BIN)/ruff check dmlctl tests jobs bench setup.py
	$(BIN)/ruff format --check dmlctl tests jobs bench setup.py
	@if [ -d roles ]; then $(BIN)/ansible-lint --profile production roles playbooks; fi

unit: setup
	$(BIN)/pytest tests/unit

# Unit tests, then integration tests on rehearsal labs (and molecule scenarios, run from pytest).
test: setup lint
	$(BIN)/pytest --durations=25 tests

clean:
	rm -rf $(VENV) .pytest_cache

# Benchmarks on labs of their own (bench-*); writes bench/results.json and bench/results.md.
bench: setup
	$(BIN)/python bench/bench.py
