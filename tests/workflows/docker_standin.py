"""The ``docker`` command of a rehearsal: podman builds, moto's ECR receives pushes.

Only what the deploy workflows call is understood, and anything else is refused
with exit status 2, so a new docker call in a workflow cannot pass unrehearsed:

- ``docker build --tag IMAGE CONTEXT``: podman builds the Dockerfile on the local
  Debian base (tests/support/podman.py), as ``make api-image`` does;
- ``docker login --username AWS --password-stdin REGISTRY``: the password read
  from stdin must be there (``aws ecr get-login-password`` printed it);
- ``docker push IMAGE``: the image must exist; its manifest is written into
  moto's ECR with PutImage under the image's repository and tag. moto has ECR's
  API but no registry, so the layers stay here.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Sequence

from support.podman import build_image, ensure_base_image, podman


def _build(args: list[str]) -> int:
    tags, context = [], None
    words = iter(args)
    for word in words:
        if word in ("--tag", "-t"):
            tags.append(next(words))
        elif word.startswith("--tag="):
            tags.append(word.split("=", 1)[1])
        elif word.startswith("-"):
            print(f"docker stand-in: build option {word} is not rehearsed", file=sys.stderr)
            return 2
        elif context is None:
            context = word
        else:
            print(f"docker stand-in: unexpected argument {word}", file=sys.stderr)
            return 2
    if not tags or context is None:
        print("docker stand-in: build needs --tag and a context", file=sys.stderr)
        return 2
    ensure_base_image()
    build_image(tags[0], context, quiet=False)
    for tag in tags[1:]:
        podman("tag", tags[0], tag)
    return 0


def _login(args: list[str]) -> int:
    if "--password-stdin" not in args or "--username" not in args or args[-1].startswith("-"):
        print(
            "docker stand-in: login needs --username, --password-stdin and a registry",
            file=sys.stderr,
        )
        return 2
    if not sys.stdin.read().strip():
        print("docker stand-in: no password on stdin", file=sys.stderr)
        return 1
    print(f"Login Succeeded (stand-in for {args[-1]})")
    return 0


def _push(args: list[str]) -> int:
    import boto3

    if len(args) != 1:
        print("docker stand-in: push takes one image", file=sys.stderr)
        return 2
    image = args[0]
    registry, _, rest = image.partition("/")
    repository, _, tag = rest.rpartition(":")
    if ".dkr.ecr." not in registry or not repository or not tag:
        print(f"docker stand-in: {image} is not an ECR image with a tag", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        podman("push", "--quiet", "--format", "v2s2", image, f"dir:{folder}")
        with open(f"{folder}/manifest.json", encoding="utf-8") as handle:
            manifest = handle.read()
    media_type = json.loads(manifest)["mediaType"]
    boto3.client("ecr").put_image(
        repositoryName=repository,
        imageTag=tag,
        imageManifest=manifest,
        imageManifestMediaType=media_type,
    )
    print(f"{tag}: pushed the manifest to {registry}/{repository} (stand-in: layers stay local)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    commands = {"build": _build, "login": _login, "push": _push}
    if not args or args[0] not in commands:
        print(f"docker stand-in: `docker {' '.join(args[:1])}` is not rehearsed", file=sys.stderr)
        return 2
    return commands[args[0]](args[1:])


if __name__ == "__main__":
    sys.exit(main())
