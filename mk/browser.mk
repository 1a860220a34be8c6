# Browser checks of the catalog site (tests/browser, run by the root pytest: the
# frozen site, and the live one under `flask run --debug`) and the Lighthouse
# bench. Playwright drives Debian's chromium: it cannot download its own browser
# here. fonts-dejavu-core gives headless chromium a font to lay text out with on
# a minimal system.

SYSTEM_PACKAGES += chromium fonts-dejavu-core

.PHONY: browser-test browser-lighthouse

browser-test: system-deps $(STAMP)  ## Headless-browser tests of the fixture site (frozen, and live under flask run --debug).
	$(BIN)/pytest -q -p no:cacheprovider tests/browser

browser-lighthouse: system-deps $(STAMP)  ## Lighthouse on the home, a sculpture and the search page, and the home page byte budget (needs node and npm).
	$(BIN)/python bench/lighthouse.py
