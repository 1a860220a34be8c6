"""Where published objects live in the bucket, and which URL serves each one.

One bucket holds the production site and every pull-request preview, each in
an *area* of its own; what publish keeps for itself is under a private prefix
that CloudFront may not read::

    site/<url path>                    production, served by the S3 origin whose
                                       origin_path is /site (URL /x/ -> site/x/index.html)
    previews/<name>/<rest of the path> preview <name>, served at /previews/<name>/ by the
                                       preview origin (no origin path)
    _publish/<area>/live.json          the live release of an area, and any change in
                                       progress (see releases)
    _publish/<area>/releases/<id>.json.gz   each retained release's manifest

These names cross into the infrastructure (the distribution's origin path and
behaviours, the bucket policy, the IAM policies); the Terraform tests read them
from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storefront.publish.errors import PublishError

#: Production objects: the S3 origin's origin path is "/" + LIVE_PREFIX without its slash.
LIVE_PREFIX = "site/"
#: Previews, served at the same path on the distribution's host.
PREVIEWS_PREFIX = "previews/"
#: Manifests and live pointers: never served.
META_PREFIX = "_publish/"

_PREVIEW_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Bucket naming rules (general purpose buckets): 3-63 characters of lower-case
# letters, digits, dots and hyphens, starting and ending with a letter or digit,
# no two adjacent dots, not an IP address.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def check_bucket_name(name: str) -> str:
    """Return the name, or raise PublishError when S3 would reject it."""
    if not _BUCKET.match(name) or ".." in name or _IP_ADDRESS.match(name):
        raise PublishError(
            f"invalid bucket name {name!r}: use 3-63 lower-case letters, digits, dots and "
            "hyphens, starting and ending with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class Area:
    """The production site (`preview` None) or one preview, e.g. `pr-12`."""

    preview: str | None = None

    @classmethod
    def from_prefix(cls, prefix: str | None) -> Area:
        """`""` -> production; `previews/pr-12` -> preview pr-12; anything else is refused."""
        text = (prefix or "").strip().strip("/")
        if not text:
            return cls()
        head, _, name = text.partition("/")
        if head + "/" != PREVIEWS_PREFIX or not _PREVIEW_NAME.match(name):
            raise PublishError(
                f"invalid --prefix {prefix!r}: use previews/<name> (lower-case letters, digits "
                "and hyphens, e.g. previews/pr-12), or no prefix for the production site"
            )
        return cls(name)

    @property
    def name(self) -> str:
        return f"{PREVIEWS_PREFIX}{self.preview}" if self.preview else LIVE_PREFIX.rstrip("/")

    @property
    def object_prefix(self) -> str:
        """Every object of this area starts with this."""
        return self.name + "/"

    @property
    def url_base(self) -> str:
        """The URL path this area's objects are served under."""
        return f"/{self.name}/" if self.preview else "/"

    @property
    def meta_prefix(self) -> str:
        return f"{META_PREFIX}{self.name}/"

    def object_key(self, key: str) -> str:
        """Bucket key of a published key (a key is relative to url_base)."""
        return self.object_prefix + key

    def key_root(self, url_root: str) -> str:
        """The key prefix of a build served at `url_root`, or PublishError if it does not fit.

        A build frozen for production (`/` or `/loja/`) must not land in a preview, nor a
        preview's build (frozen at `/previews/pr-12/`) in production: its links would point
        at the other one's pages.
        """
        if self.preview:
            if not url_root.startswith(self.url_base):
                raise PublishError(
                    f"the build is frozen for {url_root}, not for the preview's path "
                    f"{self.url_base}: freeze it with that base URL first"
                )
        elif url_root.startswith("/" + PREVIEWS_PREFIX):
            raise PublishError(
                f"the build is frozen for a preview ({url_root}): refusing to publish it as "
                "the production site (pass --prefix to publish a preview)"
            )
        return url_root[len(self.url_base) :]
