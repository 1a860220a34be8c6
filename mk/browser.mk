# Browser checks of the catalog site (tests/browser, run by the root pytest) and
# the Lighthouse bench. Playwright drives Debian's chromium: it cannot download
# its own browser here. fonts-dejavu-core gives headless chromium a font to lay
# text out with on a minimal system.

SYSTEM_PACKAGES += chromium fonts-dejavu-core

.PHONY: browser-test browser-lighthouse

browser-test: system-deps $(STAMP)  ## Headless-browser tests of the frozen fixture site.
	$(BIN)/pytest -q -p no:cacheprovider tests/browser

browser-lighthouse: system-deps $(STAMP)  ## Lighthouse scores and the home page byte budget (needs node and npm).
	$(BIN)/python bench/lighthouse.py
