"""The metrics the nodes emit: CloudWatch Embedded Metric Format documents in their log lines.

CloudWatch Logs extracts a metric from a JSON log line when the line's
``_aws.CloudWatchMetrics`` directive names it: the directive gives the
namespace, the dimension names (whose values are top-level fields of the line)
and the metric names (whose values are top-level fields too), and
``_aws.Timestamp`` (milliseconds) dates them. ``LogTail`` does the same for the
nodes' log files, reading what was appended since the last call, so the
deployment controller sees the metrics a few moments after the requests, as
an alarm would. Lines that are not JSON, or not EMF, are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.cluster.alarms import MetricKey


def metrics_of(line: dict[str, Any]) -> Iterator[tuple[MetricKey, float, float]]:
    """(metric key, timestamp in seconds, value) of every metric an EMF line declares."""
    aws = line.get("_aws")
    if not isinstance(aws, dict) or "Timestamp" not in aws:
        return
    timestamp = aws["Timestamp"] / 1000
    for directive in aws.get("CloudWatchMetrics", []):
        namespace = directive["Namespace"]
        for dimension_set in directive.get("Dimensions", [[]]):
            dimensions = tuple(sorted((name, str(line[name])) for name in dimension_set))
            for metric in directive.get("Metrics", []):
                value = line.get(metric["Name"])
                if isinstance(value, int | float):
                    yield (namespace, metric["Name"], dimensions), timestamp, float(value)


@dataclass
class Samples:
    """Every metric sample seen so far: key -> [(timestamp seconds, value)]."""

    by_key: dict[MetricKey, list[tuple[float, float]]] = field(default_factory=dict)

    def add_line(self, text: str) -> None:
        try:
            line = json.loads(text)
        except ValueError:
            return
        if isinstance(line, dict):
            for key, timestamp, value in metrics_of(line):
                self.by_key.setdefault(key, []).append((timestamp, value))

    def forget_before(self, timestamp: float) -> None:
        """Drop samples older than ``timestamp`` (seconds): no evaluation will look at them."""
        for key, points in self.by_key.items():
            self.by_key[key] = [point for point in points if point[0] >= timestamp]

    def total(self, namespace: str, metric: str, since: float = 0, until: float = 1e18) -> float:
        """Sum of one metric over every dimension set, between two times (seconds)."""
        return sum(
            value
            for (space, name, _dims), points in self.by_key.items()
            if (space, name) == (namespace, metric)
            for timestamp, value in points
            if since <= timestamp < until
        )


@dataclass
class LogTail:
    """New whole lines of a set of log files since the last read (files may appear later)."""

    offsets: dict[Path, int] = field(default_factory=dict)
    partial: dict[Path, bytes] = field(default_factory=dict)

    def read(self, paths: Iterable[Path]) -> list[str]:
        lines: list[str] = []
        for path in paths:
            if not path.exists():
                continue
            with path.open("rb") as handle:
                handle.seek(self.offsets.get(path, 0))
                chunk = self.partial.pop(path, b"") + handle.read()
                self.offsets[path] = handle.tell()
            *whole, rest = chunk.split(b"\n")
            if rest:
                self.partial[path] = rest
            lines += [line.decode("utf-8", "replace") for line in whole if line]
        return lines
