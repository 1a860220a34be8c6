"""The drill reads the metrics from the nodes' log lines as CloudWatch Logs would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api import metrics
from bench.cluster.emf import LogTail, Samples, metrics_of


def access_line(status: int, counters: dict[str, int] | None = None) -> str:
    """An access line as the API writes it (api.logs.write_line's shape)."""
    members = metrics.encode_request_document(
        service="svc",
        timestamp_ms=1_800_000_000_123,
        latency_ms=12.5,
        status=status,
        counters=counters,
        method="POST",
        path="/api/v1/holds",
    )
    return '{"time":"2027-01-15T08:00:00.123Z","level":"info","message":"request",' + members + "}"


@pytest.mark.parametrize("status", [201, 409, 503])
def test_every_metric_the_api_declares_is_read_with_its_value(status: int) -> None:
    counters = {metrics.HOLDS_CREATED: 1} if status == 201 else None
    found = {
        key: (at, value) for key, at, value in metrics_of(json.loads(access_line(status, counters)))
    }
    # The oracle: the EMF document api.metrics builds for the same request.
    document = metrics.emf_document(
        service="svc", timestamp_ms=0, latency_ms=12.5, status=status, counters=counters
    )
    declared = document["_aws"]["CloudWatchMetrics"][0]
    expected = {
        (declared["Namespace"], m["Name"], (("Service", "svc"),)): document[m["Name"]]
        for m in declared["Metrics"]
    }
    assert {key: value for key, (_at, value) in found.items()} == expected
    assert [at for at, _value in found.values()] == [pytest.approx(1_800_000_000.123)] * len(found)


def test_lines_that_are_not_emf_are_ignored() -> None:
    samples = Samples()
    for text in ["not json", "[1, 2]", '{"message": "Booting worker"}', '{"_aws": {}}']:
        samples.add_line(text)
    assert samples.by_key == {}


def test_the_tail_returns_whole_lines_once_even_from_files_that_appear_later(
    tmp_path: Path,
) -> None:
    tail = LogTail()
    first, second = tmp_path / "a.log", tmp_path / "b.log"
    assert tail.read([first, second]) == []
    first.write_text('{"n": 1}\n{"n": ')
    assert tail.read([first, second]) == ['{"n": 1}']
    with first.open("a") as handle:
        handle.write("2}\n")
    second.write_text('{"n": 3}\n')
    assert tail.read([first, second]) == ['{"n": 2}', '{"n": 3}']
    assert tail.read([first, second]) == []


def test_totals_add_up_one_metric_between_two_times() -> None:
    samples = Samples()
    for status in (200, 503, 503, 201):
        samples.add_line(access_line(status))
    assert samples.total(metrics.NAMESPACE, "Status5xx") == 2
    assert samples.total(metrics.NAMESPACE, "Status2xx") == 2
    assert samples.total(metrics.NAMESPACE, "Status5xx", since=1_800_000_001) == 0
