"""Benchmark `flask --app storefront publish` against `aws s3 sync --delete`, on moto.

On a synthetic catalog (bench/synthetic.py, 1,000 sculptures by default), frozen
for real, against a local moto server over HTTP:

  (a) first publish of an empty bucket;
  (b) publish again after a fresh re-freeze (same content, every file rewritten);
  (c) publish after a one-digit price edit of one sculpture;
  (d) rollback to the previous release (publish only);

each by publish and by `aws s3 sync --delete` (awscli in its own venv,
.venv-awscli, installed on first use), reporting AWS requests (counted by a
botocore hook, see bench/publish_counting.py), bytes uploaded and wall time of
the whole command (process start-up included). `--noop-sculptures N` adds the
no-op publish on an N-sculpture catalog (e.g. 10000); there the re-freeze is a
copy of the build (same bytes, new mtimes), since publish compares content only.

    python bench/publish.py [--sculptures 1000] [--noop-sculptures 10000] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
AWSCLI_VERSION = "1.46.2"
AWSCLI_VENV = ROOT / ".venv-awscli"
COUNTING = ROOT / "bench" / "publish_counting.py"
RESULTS = ROOT / "bench" / "results"

if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve() and PYTHON.exists():
    os.execv(PYTHON, [str(PYTHON), __file__, *sys.argv[1:]])  # run inside the project venv

sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench")]

import boto3  # noqa: E402
from support.moto_server import aws_environment, start_moto  # noqa: E402
from synthetic import generate_catalog  # noqa: E402


@dataclass
class Run:
    scenario: str
    tool: str
    requests: dict[str, int]
    uploaded_bytes: int
    seconds: float
    api_seconds: float
    note: str = ""

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def breakdown(self) -> str:
        top = sorted(self.requests.items(), key=lambda item: -item[1])
        return ", ".join(f"{name} {count}" for name, count in top)


def ensure_awscli() -> Path:
    """awscli pins its own botocore: it lives in .venv-awscli, never in .venv."""
    python = AWSCLI_VENV / "bin" / "python"
    stamp = AWSCLI_VENV / f".installed-{AWSCLI_VERSION}"
    if not stamp.exists():
        shutil.rmtree(AWSCLI_VENV, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)  # not this venv's python
        subprocess.run([base, "-m", "venv", str(AWSCLI_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             f"awscli=={AWSCLI_VERSION}"],
            check=True,
        )  # fmt: skip
        stamp.touch()
    return python


class Bench:
    def __init__(self, work: Path, env: dict[str, str], distribution: str) -> None:
        self.work = work
        self.env = env
        self.distribution = distribution
        self.runs: list[Run] = []

    def freeze(self, content: Path, name: str) -> Path:
        """A fresh freeze into its own folder, as CI does (only images are cached)."""
        build = self.work / name
        started = time.perf_counter()
        subprocess.run(
            [str(PYTHON), "-m", "storefront", "freeze"],
            cwd=ROOT,
            env={**self.env, **self._site_env(content, build)},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        files = sum(1 for path in (build / "site").rglob("*") if path.is_file())
        print(f"  froze {name}: {files} files in {time.perf_counter() - started:.1f} s")
        return build

    def _site_env(self, content: Path, build: Path) -> dict[str, str]:
        return {
            "STOREFRONT_CONTENT_DIR": str(content),
            "STOREFRONT_BUILD_DIR": str(build / "site"),
            "STOREFRONT_CACHE_DIR": str(build / "cache"),
            "STOREFRONT_PARSE_CACHE_FILE": str(build / "cache" / "content.pickle"),
            "STOREFRONT_IMAGE_CACHE_DIR": str(self.work / "images"),
            "STOREFRONT_MOUNT_API": "false",
        }

    def storefront(
        self, scenario: str, content: Path, build: Path, *args: str, bucket: str = "bench-site"
    ) -> Run:
        target = ["--bucket", bucket, "--distribution-id", self.distribution, "--json"]
        env = {**self.env, **self._site_env(content, build)}
        command = ["storefront", *args, *target]
        run, output = self._counted(scenario, "publish", [str(PYTHON)], command, env)
        summary = json.loads(output)
        if args[0] == "publish":
            run.note = (
                f"uploaded {summary['uploaded']}, copied {summary['copied']}, "
                f"invalidated {len(summary['invalidated_paths'])} paths"
            )
        else:
            run.note = f"switched to {summary['release']}"
        return run

    def aws_sync(self, scenario: str, build: Path, python: Path) -> Run:
        args = ["aws", "s3", "sync", str(build / "site"), "s3://bench-sync/", "--delete",
                "--no-progress", "--only-show-errors"]  # fmt: skip
        run, _ = self._counted(scenario, "aws s3 sync --delete", [str(python)], args, self.env)
        run.note = f"uploaded {run.requests.get('PutObject', 0)}"
        return run

    def _counted(
        self, scenario: str, tool: str, python: list[str], args: list[str], env: dict[str, str]
    ) -> tuple[Run, str]:
        out = self.work / "counts.json"
        started = time.perf_counter()
        done = subprocess.run(
            [*python, str(COUNTING), str(out), *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{tool} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        report = json.loads(out.read_text())
        run = Run(
            scenario,
            tool,
            report["requests"],
            report["uploaded_bytes"],
            seconds,
            report["api_seconds"],
        )
        self.runs.append(run)
        print(f"  {scenario:<28} {tool:<22} {run.total:>6} requests {seconds:6.2f} s")
        return run, done.stdout


def edit_one_price(content: Path) -> str:
    """Change one digit of one published sculpture's price: every page keeps its size."""
    paths = sorted((content / "sculptures").glob("*.yaml"))
    for path in paths[len(paths) // 2 :]:
        text = path.read_text(encoding="utf-8")
        match = re.search(r"amount: (\d)(\d)", text)
        if match and "status: published" in text:
            digit = str((int(match[2]) + 1) % 10)
            path.write_text(text[: match.start(2)] + digit + text[match.end(2) :], "utf-8")
            return path.stem
    raise AssertionError("no published sculpture to edit")


def create_site(env: dict[str, str], bucket: str) -> str:
    """A bucket and a distribution whose S3 origin is that bucket."""
    boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"]).create_bucket(Bucket=bucket)
    cloudfront = boto3.client("cloudfront", endpoint_url=env["AWS_ENDPOINT_URL"])
    response = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": f"bench-{bucket}",
            "Comment": "publish bench",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "site",
                        "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "allow-all"},
        }
    )
    return response["Distribution"]["Id"]


def table(runs: list[Run]) -> str:
    lines = [
        "| scenario | tool | requests | bytes uploaded | wall s | API s | detail |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run.scenario} | {run.tool} | {run.total} | {run.uploaded_bytes:,} | "
            f"{run.seconds:.2f} | {run.api_seconds:.2f} | {run.note}; {run.breakdown()} |"
        )
    return "\n".join(lines)


def bench_main(args: argparse.Namespace, work: Path) -> list[Run]:
    awscli = ensure_awscli()
    with start_moto(threaded=True, log_dir=work) as moto:
        env = {**os.environ, **aws_environment(moto.endpoint_url)}
        os.environ.update(aws_environment(moto.endpoint_url))
        boto3.client("s3").create_bucket(Bucket="bench-sync")
        bench = Bench(work, env, create_site(env, "bench-site"))
        if args.sculptures:
            bench_scenarios(bench, work, args.sculptures, awscli)
        if args.noop_sculptures:
            bench_large_noop(bench, work, args.noop_sculptures)
        return bench.runs


def bench_scenarios(bench: Bench, work: Path, sculptures: int, awscli: Path) -> None:
    print(f"catalog: {sculptures} sculptures")
    content = work / "content"
    generate_catalog(content, sculptures)
    first = bench.freeze(content, "build-a")
    bench.storefront("(a) first publish", content, first, "publish")
    bench.aws_sync("(a) first publish", first, awscli)
    again = bench.freeze(content, "build-b")
    bench.storefront("(b) no-op after re-freeze", content, again, "publish")
    bench.aws_sync("(b) no-op after re-freeze", again, awscli)
    print(f"  edited the price of {edit_one_price(content)}")
    edited = bench.freeze(content, "build-c")
    bench.storefront("(c) one-sculpture price edit", content, edited, "publish")
    bench.aws_sync("(c) one-sculpture price edit", edited, awscli)
    bench.storefront("(d) rollback", content, edited, "rollback")


def bench_large_noop(bench: Bench, work: Path, sculptures: int) -> None:
    print(f"catalog: {sculptures} sculptures (no-op publish)")
    content = work / f"content-{sculptures}"
    generate_catalog(content, sculptures)
    build = bench.freeze(content, f"build-{sculptures}")
    bench.distribution = create_site(bench.env, "bench-large")
    label = f"{sculptures:,} sculptures"
    bench.storefront(f"first publish, {label}", content, build, "publish", bucket="bench-large")
    copy = work / f"build-{sculptures}-copy"
    shutil.copytree(build, copy)  # same bytes, every file rewritten
    bench.storefront(f"(b) no-op, {label}", content, copy, "publish", bucket="bench-large")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sculptures", type=int, default=1000, help="0: skip (a)-(d).")
    parser.add_argument("--noop-sculptures", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="Keep the work folder.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="publish-bench-"))
    try:
        runs = bench_main(args, work)
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report = table(runs)
    print()
    print(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "publish.md").write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
