# Publishing the site (site/publish, issue 13): the CloudFront function tests run
# it in node, the publish tests against moto (IAM-enforced too); both are part
# of the root `pytest` of `make test`. The benchmark compares publish with
# `hugo deploy` (installed on first use in .venv-hugo) on a synthetic catalog.

SYSTEM_PACKAGES += nodejs

.PHONY: publish-test publish-bench

publish-test: system-deps $(STAMP)  ## Publish, IAM, preview and CloudFront function tests.
	$(BIN)/pytest -q -p no:cacheprovider tests/publish tests/cloudfront

publish-bench: $(STAMP)  ## publish vs hugo deploy on moto: 1,000 and 10,000 sculptures.
	$(BIN)/python bench/publish.py --sculptures 1000 --large-sculptures 10000
