"""Lighthouse (desktop preset) on the frozen sample catalog, plus the home page's byte budget.

Freezes content/ into build/site (incremental: nothing is rendered when nothing
changed), serves it with `python -m storefront serve` on a free port of
127.0.0.1 (API mounted, on a throw-away SQLite store), and runs Lighthouse on
the home page, one sculpture page and the search page with a query
(`/busca/?q=bronze`: results, filters and their images) with Debian's chromium.
Prints the four category scores (target: 100 each, except the search page's
SEO: it is `noindex` on purpose, which Lighthouse scores 69) and the title of
every audit that did not pass, then the gzip size of the home page's HTML + CSS
+ JS (budget: 30 KB).

Lighthouse comes from npm (pinned below) into .cache/node/ (git-ignored), on
first use; it needs node >= 18.16 and npm (Debian: `apt-get install nodejs npm`).
Reports are kept in bench/results/lighthouse-*.json.

    python bench/lighthouse.py [--fail-under SCORE]

Exit status 1 when the byte budget is exceeded or a score is below --fail-under
(default 0: scores are printed, not enforced, because performance depends on
the machine's load).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urljoin
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
LIGHTHOUSE_VERSION = "12.8.2"
NODE_DIR = ROOT / ".cache" / "node"
LIGHTHOUSE = NODE_DIR / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking"
    " --disable-component-update --disable-sync --no-first-run"
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
BUDGET_BYTES = 30 * 1024
SEARCH_PATH = "/busca/?q=bronze"  # results, filters and their images: the heaviest page
# Audits failed on purpose: search results are kept out of search engines' indexes.
EXPECTED_FAILURES = {("search", "is-crawlable")}
RESULTS = ROOT / "bench" / "results"

if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve() and PYTHON.exists():
    os.execv(PYTHON, [str(PYTHON), __file__, *sys.argv[1:]])  # run inside the project venv

sys.path[:0] = [str(ROOT / "tests")]

from support.servers import ServerProcess, free_port  # noqa: E402


def ensure_lighthouse() -> Path:
    """Install the pinned lighthouse into .cache/node/ unless it is already there."""
    installed = NODE_DIR / "node_modules" / "lighthouse" / "package.json"
    if (
        LIGHTHOUSE.exists()
        and installed.is_file()
        and json.loads(installed.read_text())["version"] == LIGHTHOUSE_VERSION
    ):
        return LIGHTHOUSE
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is missing: apt-get install nodejs npm")
    print(f"installing lighthouse@{LIGHTHOUSE_VERSION} into {NODE_DIR.relative_to(ROOT)}/")
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    options = ["--no-audit", "--no-fund", "--loglevel=error", "--save-exact"]
    package = f"lighthouse@{LIGHTHOUSE_VERSION}"
    subprocess.run([npm, "install", "--prefix", str(NODE_DIR), *options, package], check=True)
    return LIGHTHOUSE


def freeze() -> Path:
    subprocess.run([str(PYTHON), "-m", "storefront", "freeze"], cwd=ROOT, check=True)
    return ROOT / "build" / "site"


def sculpture_path(build: Path) -> str:
    slugs = sorted(json.loads((build / "inventory.json").read_text())["sculptures"])
    return f"/esculturas/{slugs[0]}/"


def run_lighthouse(lighthouse: Path, url: str, report: Path) -> dict:
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    options = ["--preset=desktop", f"--chrome-flags={CHROME_FLAGS}", "--output=json", "--quiet"]
    subprocess.run([str(lighthouse), url, *options, f"--output-path={report}"], env=env, check=True)
    return json.loads(report.read_text())


def failed_audits(result: dict, expected: set[str] = frozenset()) -> list[str]:
    """Audits below a full score: scored ones first, then the visible diagnostics (weight 0)."""
    lines = []
    refs = [ref for c in result["categories"].values() for ref in c["auditRefs"]]
    for ref in sorted(refs, key=lambda r: -r["weight"]):
        audit = result["audits"][ref["id"]]
        mode, score = audit["scoreDisplayMode"], audit["score"]
        if mode in ("informative", "notApplicable", "manual") or ref.get("group") == "hidden":
            continue
        if mode != "error" and (score is None or score >= (1 if ref["weight"] else 0.9)):
            continue
        if ref["id"] in expected:
            kind = "expected"
        elif not ref["weight"]:
            kind = "diagnostic"
        else:
            kind = "failed" if mode == "error" or score < 0.9 else "short of full marks"
        value = f", {audit['displayValue']}" if audit.get("displayValue") else ""
        lines.append(f"{kind}: {audit['title']} (score {score}{value})")
    return lines


def page_weight(base_url: str) -> list[tuple[str, int, int]]:
    """(url, raw bytes, gzip bytes) of the home page's HTML and the CSS and JS it loads."""
    html = urlopen(base_url + "/").read()
    urls = [base_url + "/"]
    text = html.decode()
    urls += [
        urljoin(base_url, h) for h in re.findall(r'<link rel="stylesheet" href="([^"]+)"', text)
    ]
    urls += [urljoin(base_url, s) for s in re.findall(r'<script src="([^"]+)"', text)]
    sizes = []
    for url in urls:
        body = html if url == urls[0] else urlopen(url).read()
        sizes.append((url[len(base_url) :], len(body), len(gzip.compress(body, 6, mtime=0))))
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fail-under", type=int, default=0, help="lowest acceptable score")
    args = parser.parse_args()

    lighthouse = ensure_lighthouse()
    build = freeze()
    RESULTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as tmp:
        env = {"API_STORE_URL": f"sqlite:///{Path(tmp) / 'availability.sqlite3'}"}
        argv = [str(PYTHON), "-m", "storefront", "serve", "--host", "127.0.0.1"]
        server = ServerProcess.start(
            [*argv, "--port", str(port)], port=port, env=env, cwd=ROOT, ready_path="/"
        )
        try:
            pages = {"home": "/", "sculpture": sculpture_path(build), "search": SEARCH_PATH}
            results = {
                name: run_lighthouse(
                    lighthouse, server.url(path), RESULTS / f"lighthouse-{name}.json"
                )
                for name, path in pages.items()
            }
            weight = page_weight(server.base_url)
        finally:
            server.stop(timeout=10)

    print(f"\nLighthouse {LIGHTHOUSE_VERSION}, --preset=desktop, {CHROMIUM}")
    print(f"{'page':<34}" + "".join(f"{c:>16}" for c in CATEGORIES))
    lowest = 100
    for name, result in results.items():
        scores = [round((result["categories"][c]["score"] or 0) * 100) for c in CATEGORIES]
        lowest = min(lowest, *scores)
        print(f"{pages[name]:<34}" + "".join(f"{s:>16}" for s in scores))
    for name, result in results.items():
        expected = {audit for page, audit in EXPECTED_FAILURES if page == name}
        for line in failed_audits(result, expected):
            print(f"  {pages[name]} {line}")

    total_raw = sum(raw for _, raw, _ in weight)
    total_gz = sum(gz for _, _, gz in weight)
    print("\nhome page HTML + CSS + JS (gzip -6):")
    for url, raw, gz in weight:
        print(f"  {url:<40} {raw:>8,} B {gz:>8,} B gzip")
    verdict = "within" if total_gz <= BUDGET_BYTES else "OVER"
    print(
        f"  {'total':<40} {total_raw:>8,} B {total_gz:>8,} B gzip: "
        f"{verdict} the {BUDGET_BYTES // 1024} KB budget"
    )
    return int(total_gz > BUDGET_BYTES or lowest < args.fail_under)


if __name__ == "__main__":
    sys.exit(main())
