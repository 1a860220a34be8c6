# GitHub Actions workflows (.github/, issue 15): static checks run by `make test`.
#   workflows-actionlint  actionlint, with shellcheck on every run: script (in CHECKS)
#   workflows-zizmor      zizmor, offline, every audit (in CHECKS)
#   workflows-rehearse    the deploy workflows' steps run against local stand-ins
#                         (moto, podman); tests/workflows runs the same rehearsal
#
# Both linters come from PyPI through the dev extra (pinned in constraints.txt).
# zizmor must stay offline: with a GitHub token in the environment it would go
# online, and `--offline` keeps the result the same on every machine.

SYSTEM_PACKAGES += shellcheck jq curl
CHECKS += workflows-actionlint workflows-zizmor

.PHONY: workflows-actionlint workflows-zizmor workflows-rehearse

workflows-actionlint: system-deps $(STAMP)  ## actionlint on .github/workflows (shellcheck included).
	$(BIN)/actionlint -no-color -shellcheck shellcheck

workflows-zizmor: $(STAMP)  ## zizmor --offline on .github/workflows: zero findings.
	$(BIN)/zizmor --offline --no-progress --color never .github/workflows/

workflows-rehearse: system-deps $(STAMP)  ## Run the deploy workflows' steps against moto and podman.
	$(BIN)/python scripts/rehearse_workflows.py
