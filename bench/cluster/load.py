"""The load generator's process (``loadgen.mjs`` in node) and what its records say.

Each scenario runs one load generator against the production listener; it
writes one JSON line per operation (a read, a hold, a release, a sale) with
every try it made. ``Records`` reads them back and answers the drill's
questions: how many requests, how many tries failed (a network error or a
5xx: what the servers and the balancer failed on), how many operations failed
after the site's retries (what a visitor sees), and whether any answer showed
a piece held or sold beyond its edition.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.cluster import ROOT
from bench.cluster.children import started

LOADGEN = Path(__file__).with_name("loadgen.mjs")
SITE_JS = ROOT / "site" / "pages" / "static" / "site.js"
STAFF_TOKEN = "drill-staff-token-0123456789abcdef"


@dataclass(frozen=True)
class Mix:
    """How the virtual users behave (see loadgen.mjs)."""

    users: int = 16
    staff: int = 1
    think_ms: tuple[float, float] = (50, 300)
    session_ops: tuple[int, int] = (3, 12)
    hold_chance: float = 0.3
    release_chance: float = 0.25
    revisit_chance: float = 0.2
    sale_every_ms: float = 700
    direct_sale_share: float = 0.2


def pages(catalog: Mapping[str, int], per_listing: int = 12) -> list[list[str]]:
    """What visitors open: listing pages (``per_listing`` pieces each) and each piece's page."""
    slugs = list(catalog)
    listings = [slugs[i : i + per_listing] for i in range(0, len(slugs), per_listing)]
    return listings + [[slug] for slug in slugs]


@dataclass
class LoadRun:
    """One load generator process, started against ``base_url``."""

    process: subprocess.Popen[bytes]
    records_path: Path

    @classmethod
    def start(
        cls,
        base_url: str,
        work: Path,
        name: str,
        catalog: Mapping[str, int],
        mix: Mix,
        visitor_net: Sequence[int],
    ) -> LoadRun:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is missing: install the Debian package nodejs")
        records = work / f"load-{name}.jsonl"
        config = {
            "base": base_url,
            "siteJs": str(SITE_JS),
            "out": str(records),
            "users": mix.users,
            "staff": mix.staff,
            "staffToken": STAFF_TOKEN,
            "visitorNet": list(visitor_net),
            "catalog": dict(catalog),
            "pages": pages(catalog),
            "thinkMs": list(mix.think_ms),
            "sessionOps": list(mix.session_ops),
            "holdChance": mix.hold_chance,
            "releaseChance": mix.release_chance,
            "revisitChance": mix.revisit_chance,
            "saleEveryMs": mix.sale_every_ms,
            "directSaleShare": mix.direct_sale_share,
        }
        config_path = work / f"load-{name}.json"
        config_path.write_text(json.dumps(config))
        log = (work / f"load-{name}.log").open("wb")
        process = started(
            subprocess.Popen(
                [node, str(LOADGEN), str(config_path)],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        log.close()
        return cls(process, records)

    def stop(self, timeout: float = 60) -> Records:
        """Let in-flight operations finish (their retries included), then read the records."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            try:
                self.process.stdin.write(b"stop\n")
                self.process.stdin.close()
            except BrokenPipeError:
                pass
        code = self.process.wait(timeout=timeout)
        if code != 0:
            log = self.records_path.with_suffix(".log").read_text(errors="replace")
            raise RuntimeError(f"load generator exited with {code}: {log[-2000:]}")
        return Records.read(self.records_path)


def _failed_try(attempt: Mapping[str, Any]) -> bool:
    return "error" in attempt or attempt.get("status", 0) >= 500


@dataclass
class Records:
    """Operations of one or more load runs."""

    operations: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True  # every run wrote its end line

    @classmethod
    def read(cls, path: Path) -> Records:
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        operations = [line for line in lines if line.get("type") == "op"]
        return cls(operations, any(line.get("type") == "end" for line in lines))

    @classmethod
    def merged(cls, runs: Iterable[Records]) -> Records:
        runs = list(runs)
        return cls([op for run in runs for op in run.operations], all(r.complete for r in runs))

    @property
    def attempts(self) -> list[dict[str, Any]]:
        return [attempt for op in self.operations for attempt in op["attempts"]]

    def failed_tries(self) -> int:
        """Tries that got no answer or a 5xx (before the site's retries)."""
        return sum(_failed_try(attempt) for attempt in self.attempts)

    def try_errors(self) -> Counter[str]:
        return Counter(
            attempt.get("error") or str(attempt["status"])
            for attempt in self.attempts
            if _failed_try(attempt)
        )

    def client_failures(self) -> list[dict[str, Any]]:
        """Operations whose final outcome was not an answer the visitor or staff expects."""
        return [op for op in self.operations if not op.get("ok")]

    def oversold_reads(self) -> list[dict[str, Any]]:
        return [op for op in self.operations if op["op"] == "read" and op.get("oversold")]

    def outcomes(self) -> Counter[tuple[str, str]]:
        return Counter((op["op"], op.get("outcome", "?")) for op in self.operations)

    def served_5xx(self, since: float = 0, until: float = 1e18) -> int:
        """5xx answers the clients received (each try), between two times (seconds)."""
        return sum(
            1
            for attempt in self.attempts
            if attempt.get("status", 0) >= 500 and since <= attempt["end"] / 1000 < until
        )
