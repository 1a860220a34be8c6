"""Freeze benchmark: full build, no-op rebuild and one-edit rebuild of a synthetic catalog.

Generates the deterministic synthetic catalog (bench/synthetic.py), then runs
`python -m storefront freeze` as a user would, sampling the proportional memory
(PSS) of the whole process tree (the freeze forks workers) every 250 ms.
Reading a process's PSS makes the kernel walk its page tables: about 35 ms of
CPU per sample of the whole tree here, so sampling every 50 ms took a quarter
of a core from the freeze it measured. The freeze's memory rises and falls
over seconds, and sampling a run every 20 ms and every 250 ms found the same
peak within 2 MB.

Old build folders are moved aside and deleted only when every run is done.
On a file system without a journal (this machine's root is ext4 with none),
ext4 will not reuse an inode deleted in the last minutes, and finding a free
one means stepping over each recently deleted inode of the block group: for
several minutes after deleting 20,000 files, every file created costs several
times more. The row "right after deleting the previous build/" shows that
case; the other full-freeze rows start from an empty build/ whose previous
contents were not just deleted, as after a fresh clone or a `make clean` done
a while ago.

The one-edit rebuild is short enough for this VM's swings in speed (a
single-threaded loop's time varies by a third from minute to minute) to decide
a single run, so it is run --edits times, each editing another sculpture
(another search shard, as often as not), and the median and the slowest are
reported with every run's time.

Usage: python bench/freeze.py [--sculptures 10000] [--edits 7] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import generate_catalog

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE_SECONDS = 0.25


def tree_pss_kib(root: int) -> int:
    """Proportional memory (PSS) of a process and all its descendants, in KiB.

    The freeze forks workers that share the parent's pages copy-on-write; summing
    their RSS would count each shared page once per process. PSS splits a shared
    page between the processes that map it, so the sum is the memory really used.
    The tree is followed through /proc/<pid>/task/<tid>/children rather than by
    scanning every process, to keep the sampler's own CPU use small.
    """
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _pss(str(pid))
        stack.extend(_children(pid))
    return total


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found.extend(int(child) for child in text.split())
    except OSError:
        pass
    return found


def _pss(pid: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_freeze(env: dict[str, str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "storefront", "freeze"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT,
    )
    peak = 0
    while True:
        peak = max(peak, tree_pss_kib(process.pid))
        try:  # returns as soon as the freeze ends, so its time is not rounded up to a sample
            process.wait(timeout=SAMPLE_SECONDS)
            break
        except subprocess.TimeoutExpired:
            continue
    seconds = time.perf_counter() - started
    out, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"freeze failed:\n{out}\n{err}")
    return seconds, peak, out.strip()


def edit_one(content: Path, n: int = 0) -> None:
    """Change one digit of the price of the n-th sculpture picked: same file size, other bytes."""
    paths = sorted((content / "sculptures").glob("*.yaml"))
    path = paths[(len(paths) // 2 + n * 997) % len(paths)]
    text = path.read_text(encoding="utf-8")
    head, _, tail = text.partition("amount: ")
    digit = tail[0]
    path.write_text(head + "amount: " + str((int(digit) % 9) + 1) + tail[1:], encoding="utf-8")


class Trash:
    """Folders moved aside now and deleted at the end, so no run pays for a mass deletion."""

    def __init__(self, work: Path) -> None:
        self.root = work / "trash"
        self.count = 0

    def discard(self, folder: Path) -> None:
        if folder.exists():
            self.root.mkdir(exist_ok=True)
            self.count += 1
            folder.rename(self.root / f"{self.count}-{folder.name}")

    def empty(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sculptures", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=7, help="one-edit rebuilds to time")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="freeze-bench-"))
    content, build, cache, images = (work / n for n in ("content", "build", "cache", "images"))
    trash = Trash(work)
    trash.empty()  # a previous run's, deleted long enough ago or now, before any timing
    for folder in (build, cache, images):
        trash.discard(folder)
    # Content and image caches live outside build/ (as in a project, under .cache/).
    generate_catalog(content, args.sculptures)
    env = {
        **os.environ,
        "STOREFRONT_CONTENT_DIR": str(content),
        "STOREFRONT_BUILD_DIR": str(build / "site"),
        "STOREFRONT_CACHE_DIR": str(build / "cache"),
        "STOREFRONT_IMAGE_CACHE_DIR": str(images),
        "STOREFRONT_PARSE_CACHE_FILE": str(cache / "content.pickle"),
    }
    rows = []
    seconds, peak, out = run_freeze(env)
    rows.append(("full freeze, empty build/ and empty caches", seconds, peak, out))
    trash.discard(build)
    seconds, peak, out = run_freeze(env)
    rows.append(("full freeze, empty build/ (caches warm)", seconds, peak, out))
    seconds, peak, out = run_freeze(env)
    rows.append(("rebuild, nothing changed", seconds, peak, out))
    edits = []
    for n in range(args.edits):
        edit_one(content, n)
        edits.append(run_freeze(env))
    times = sorted(seconds for seconds, _, _ in edits)
    peak = max(peak for _, peak, _ in edits)
    median = statistics.median(times)
    rows.append((f"rebuild after editing one sculpture (median of {args.edits})", median, peak, ""))
    rows.append(
        (
            f"rebuild after editing one sculpture (slowest of {args.edits})",
            times[-1],
            peak,
            max(edits, key=lambda run: run[0])[2],  # the slowest run's own phases
        )
    )
    # Last, as its deletion slows whatever creates files in the next minutes.
    shutil.rmtree(build)
    seconds, peak, out = run_freeze(env)
    rows.append(("full freeze right after deleting the previous build/", seconds, peak, out))
    files = sum(1 for p in (build / "site").rglob("*") if p.is_file())
    html = sum(1 for p in (build / "site").rglob("*.html") if "pagefind" not in p.parts)
    print(
        f"catalog: {args.sculptures} sculptures, {html} HTML pages, {files} files, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'run':<53} {'seconds':>8} {'pages/s':>8} {'peak PSS':>9}")
    for name, seconds, peak, _ in rows:
        print(f"{name:<53} {seconds:8.2f} {html / seconds:8.0f} {peak / 1024:6.0f} MB")
    print("  one-edit rebuilds, in order: " + ", ".join(f"{s:.2f}" for s, _, _ in edits) + " s")
    for name, _, _, out in rows:
        if not out:
            continue
        print(f"  {name}:")
        for line in out.splitlines():
            print(f"    {line.split(' -> ')[0]}")
    trash.empty()
    if args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
