# The two commands: `make run` (preview) and `make test` (every check).
# Each area of the tree adds its own targets in mk/<area>.mk and appends them to
# CHECKS (run by `make test`) and SYSTEM_PACKAGES (Debian packages its tests need).
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080

CHECKS :=
SYSTEM_PACKAGES :=

-include mk/*.mk

.PHONY: help run test install system-deps lint format check-content pytest lock clean

help:  ## List the targets.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | sort

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[site,dev]'
	@touch $@

install: $(STAMP)  ## Create .venv and install the pinned dependencies.

run: $(STAMP)  ## Build the sample site and serve the preview on http://127.0.0.1:8080.
	$(BIN)/flask --app storefront freeze
	$(BIN)/python -m storefront serve --host $(HOST) --port $(PORT)

test: system-deps $(STAMP) lint check-content $(CHECKS) pytest  ## Install what the tests need and run every check.

system-deps:  ## Install the Debian packages the tests need (root; skipped when present).
	@missing=""; for p in $(sort $(SYSTEM_PACKAGES)); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (run make test as root or install them)"; exit 1; fi; \
	  echo "apt-get install$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

lint: $(STAMP)  ## ruff lint and format check; the import layers between the site's stages.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(STAMP)  ## Apply ruff fixes and formatting.
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-content: $(STAMP)  ## Validate the catalog in content/.
	$(BIN)/flask --app storefront check

pytest: $(STAMP)  ## Run the pytest suites.
	$(BIN)/pytest

lock:  ## Re-resolve the newest allowed versions into constraints.txt.
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --disable-pip-version-check -e '.[site,dev]'
	.venv-lock/bin/python -m pip freeze --exclude-editable | sort -f > constraints.txt
	rm -rf .venv-lock

clean:  ## Remove build output and caches (keeps .venv).
	rm -rf build .pytest_cache .ruff_cache
