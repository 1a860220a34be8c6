"""Build and run container images with podman, with no Docker daemon and no registry.

The recipe of TOOLING.md, in one place for make and for tests:

* podman is configured through ``CONTAINERS_CONF`` / ``CONTAINERS_STORAGE_CONF``
  files written into a per-user cache directory (overlay storage, runc,
  cgroupfs, file event log), so nothing in /etc is touched and images survive
  between runs on the same machine;
* the base image is bootstrapped from Debian packages (debootstrap, from the
  mirror apt already uses) and imported as ``BASE_IMAGE``, once;
* pip inside a build gets the host's CA bundle as a build secret.

Command line (run from the repository root with ``PYTHONPATH=tests``)::

    python -m support.podman base                 # bootstrap the base image if missing
    python -m support.podman build TAG [CONTEXT]  # build the Dockerfile on that base
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

BASE_IMAGE = "localhost/sculpture-store/python-base:bookworm"
SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def cache_root() -> Path:
    """Where podman keeps images: ``$SCULPTURE_PODMAN_ROOT`` or the user's cache dir."""
    configured = os.environ.get("SCULPTURE_PODMAN_ROOT")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "sculpture-store" / "podman"


def podman_env() -> dict[str, str]:
    """The environment for podman: config files (written if missing) and a temp dir."""
    root = cache_root()
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    containers_conf = root / "containers.conf"
    storage_conf = root / "storage.conf"
    containers_conf.write_text(
        "[containers]\n"
        'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n'
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
    )
    storage_conf.write_text(
        "[storage]\n"
        'driver = "overlay"\n'
        f'graphroot = "{root / "storage"}"\n'
        f'runroot = "{root / "run"}"\n'
    )
    return {
        **os.environ,
        "CONTAINERS_CONF": str(containers_conf),
        "CONTAINERS_STORAGE_CONF": str(storage_conf),
        "TMPDIR": str(root / "tmp"),
    }


def podman(
    *args: str, check: bool = True, capture: bool = True, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run one podman command with the project's configuration."""
    if shutil.which("podman") is None:
        raise RuntimeError("podman is not installed (make test installs it: see mk/api.mk)")
    return subprocess.run(
        ["podman", *args],
        env=podman_env(),
        check=check,
        capture_output=capture,
        text=True,
        timeout=timeout,
    )


def image_exists(name: str) -> bool:
    return podman("image", "exists", name, check=False).returncode == 0


def debian_mirror() -> str:
    """The Debian mirror apt on this machine uses (debootstrap needs one)."""
    sources = [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]
    for source in sources:
        try:
            text = source.read_text()
        except OSError:
            continue
        for match in re.finditer(r"(https?://\S+/debian)/?(?:\s|$)", text):
            return match.group(1)
    return DEFAULT_MIRROR


def ensure_base_image(name: str = BASE_IMAGE) -> str:
    """Bootstrap a minimal Debian with python3 and import it as ``name`` (skipped if present)."""
    if image_exists(name):
        return name
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is not installed (make test installs it: see mk/api.mk)")
    work = Path(tempfile.mkdtemp(dir=cache_root() / "tmp", prefix="rootfs-"))
    rootfs = work / "rootfs"
    try:
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=" + ",".join(BASE_PACKAGES),
                SUITE,
                str(rootfs),
                debian_mirror(),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=900,
        )
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (rootfs / leftover).glob("*"):
                if path.is_file():
                    path.unlink()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(
            [
                "podman",
                "import",
                "--quiet",
                "--change",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--change",
                'CMD ["python3"]',
                "-",
                name,
            ],
            stdin=tar.stdout,
            env=podman_env(),
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=600,
        )
        tar.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return name


def build_image(
    tag: str, context: str | os.PathLike[str] = ".", base: str = BASE_IMAGE, quiet: bool = True
) -> subprocess.CompletedProcess[str]:
    """``podman build`` the context's Dockerfile on ``base`` (layer cache makes reruns quick)."""
    # Docker format keeps HEALTHCHECK (OCI has no field for it), as docker build would.
    args = ["build", "--format", "docker", "--build-arg", f"PYTHON_IMAGE={base}"]
    args += ["--tag", tag, "--layers"]
    if HOST_CA_BUNDLE.exists():
        args += ["--secret", f"id=pipca,src={HOST_CA_BUNDLE}"]
    if quiet:
        args.append("--quiet")
    return podman(*args, str(context), capture=quiet)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="podman helpers for this repository")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("base", help="bootstrap the local base image if missing")
    build = commands.add_parser("build", help="build the Dockerfile on the local base")
    build.add_argument("tag")
    build.add_argument("context", nargs="?", default=".")
    args = parser.parse_args(argv)
    if args.command == "base":
        print(ensure_base_image())
    else:
        ensure_base_image()
        build_image(args.tag, args.context, quiet=False)
        print(args.tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
