# The availability API (api/, Dockerfile): container checks and the load benchmark.
# Included by the root Makefile; `make test` runs $(CHECKS) before pytest, and
# the pytest suite tests/api (including the podman image test) does the rest.

SYSTEM_PACKAGES += podman buildah runc debootstrap wrk tini
CHECKS += api-hadolint api-base-image

API_IMAGE ?= localhost/sculpture-store/availability-api:dev
# podman's storage lives in the user's cache dir (see tests/support/podman.py),
# so the base image is bootstrapped once per machine, not once per checkout.
API_PODMAN := PYTHONPATH=tests $(BIN)/python -m support.podman

.PHONY: api-hadolint api-base-image api-image api-bench

api-hadolint: $(STAMP)  ## Lint the Dockerfile with hadolint (settings: .hadolint.yaml).
	$(BIN)/hadolint Dockerfile

api-base-image: $(STAMP)  ## Bootstrap the local Debian base image for podman builds (skipped when present).
	$(API_PODMAN) base

api-image: api-base-image  ## Build the API image with podman on the local base.
	$(API_PODMAN) build $(API_IMAGE)

api-bench: $(STAMP)  ## Load-test GET /api/v1/availability against a bare Flask route (wrk).
	bash bench/api_load.sh
