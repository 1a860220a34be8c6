# Terraform checks (issue 6), see terraform/README.md:
#   terraform-checkov    checkov on terraform/, offline, in its own venv (in CHECKS)
#   terraform-structure  parse, `terraform fmt` style and structure tests (tests/terraform;
#                        the root `pytest` of `make test` runs them too)
#   terraform-check      both
#
# checkov pins an older boto3 than the project's, so it gets its own venv. The
# install stamp carries the version (bumping CHECKOV_VERSION reinstalls); the
# result stamp makes a rerun free until a .tf file changes.

CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .venv-checkov
CHECKOV_INSTALLED := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
CHECKOV_PASSED := $(CHECKOV_VENV)/.passed
TERRAFORM_FILES := $(shell find terraform -name '*.tf' 2>/dev/null)

CHECKS += terraform-checkov

.PHONY: terraform-check terraform-checkov terraform-structure

$(CHECKOV_INSTALLED):
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "checkov==$(CHECKOV_VERSION)"
	@touch $@

# --skip-download keeps checkov offline; it exits non-zero on any failed check.
$(CHECKOV_PASSED): $(CHECKOV_INSTALLED) $(TERRAFORM_FILES) mk/terraform.mk
	@# No parse timeout: under load a slow parse would silently drop a file from the scan.
	HCL_PARSE_TIMEOUT_SEC=0 $(CHECKOV_VENV)/bin/checkov -d terraform --compact --quiet --skip-download
	@touch $@

terraform-checkov: $(CHECKOV_PASSED)  ## checkov on terraform/ (offline, inline skips only).

terraform-structure: $(STAMP)  ## Parse, format and structure tests of terraform/.
	$(BIN)/pytest -q -p no:cacheprovider tests/terraform

terraform-check: terraform-checkov terraform-structure  ## All Terraform checks.
