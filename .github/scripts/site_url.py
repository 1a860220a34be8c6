"""Print the published site's URL, read from content/site.yaml's base_url.

``site_url.py`` prints the base URL (``https://host/`` or ``https://host/loja/``);
``site_url.py --at-host-root previews/pr-12/`` prints that path on the same host
(pull-request previews are served at ``/previews/pr-N/`` whatever the site's path).
The workflows ask here rather than keep a copy of the URL in a variable.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import yaml

SITE_FILE = Path("content/site.yaml")


def base_url(site_file: Path = SITE_FILE) -> str:
    """The catalog's base_url, checked to be an absolute https URL ending in '/'."""
    try:
        document = yaml.safe_load(site_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise SystemExit(f"{site_file}: cannot read base_url ({error})") from None
    url = document.get("base_url") if isinstance(document, dict) else None
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme != "https" or not parts.netloc or not url.endswith("/"):
        raise SystemExit(f"{site_file}: base_url must be an https URL ending in '/', got {url!r}")
    return url


def at_host_root(url: str, path: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/{path.lstrip('/')}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at-host-root", metavar="PATH", help="a path on the site's host")
    parser.add_argument("--site-file", type=Path, default=SITE_FILE)
    args = parser.parse_args(argv)
    url = base_url(args.site_file)
    print(at_host_root(url, args.at_host_root) if args.at_host_root is not None else url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
