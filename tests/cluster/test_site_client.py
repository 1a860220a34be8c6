"""site.js's client, run in node exactly as the cluster drill runs it, against a scripted server.

The server plays a load balancer in front of dying or failing nodes: it closes
connections without answering, answers errors, asks for patience. The oracle
is what the server saw (how many tries, with which Idempotency-Key, when) and
the rules site.js publishes, read back from the running script.
"""

from __future__ import annotations

import math

import pytest
from cluster.scripted import CLOSE, Answer, ScriptedServer, run_client
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bench.cluster.terraform_values import target_group

PIECE = {"sculpture": "onda", "edition_size": 1, "available": 1, "held": 0, "sold": 0}
HOLD = {
    "id": "0b0e4b55-6a0a-4d1d-9a5b-0b5f1d6b9d10",
    "sculpture": "onda",
    "created_at": "2027-01-15T08:00:00Z",
    "expires_at": "2027-01-15T08:30:00Z",
    "release_token": "token",
}
KEY = "6f1c2d4e-3b5a-4c7d-8e9f-0a1b2c3d4e5f"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def retry() -> dict:
    return run_client("http://127.0.0.1:9", "rules")["result"]["RETRY"]


def test_a_read_without_an_answer_is_tried_until_one_comes(server: ScriptedServer) -> None:
    server.script = [CLOSE, CLOSE, Answer(200, {"items": [PIECE], "unknown": []})]
    answer = run_client(server.base_url, "readAvailability", ["onda"])
    assert answer["result"] == {"onda": PIECE}
    assert ["error" in t for t in answer["tries"]] == [True, True, False]
    assert len(server.seen) == 3


def test_an_error_answer_is_tried_a_few_times_only(server: ScriptedServer, retry: dict) -> None:
    server.script = [Answer(503, {"type": "busy"})]
    answer = run_client(server.base_url, "readAvailability", ["onda"])
    assert "HTTP 503" in answer["result"]["thrown"]
    assert len(server.seen) == retry["attempts"]


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_a_refusal_is_never_tried_again(server: ScriptedServer, status: int) -> None:
    server.script = [Answer(status, {"type": "x"}, content_type=PROBLEM)]
    run_client(server.base_url, "placeHold", "onda", KEY)
    assert len(server.seen) == 1


def test_a_hold_whose_answer_was_lost_is_sent_again_with_the_same_key(
    server: ScriptedServer,
) -> None:
    server.script = [CLOSE, Answer(503, {}, content_type=PROBLEM), Answer(201, HOLD)]
    answer = run_client(server.base_url, "placeHold", "onda", KEY)
    assert answer["result"] == {"outcome": "held", "hold": HOLD, "status": 201}
    assert [seen.headers["Idempotency-Key"] for seen in server.seen] == [KEY, KEY, KEY]
    assert {seen.body for seen in server.seen} == {b'{"sculpture":"onda"}'}


@pytest.mark.parametrize(
    ("content_type", "body", "outcome"),
    [
        (PROBLEM, {"type": "tag:sculpture-store,2025:problem:too-many-holds"}, "too-many-holds"),
        (
            PROBLEM,
            {"type": "tag:sculpture-store,2025:problem:piece-held-recently"},
            "piece-held-recently",
        ),
        # The CDN's own 429 (the WAF's rate rule): plain JSON, no problem type.
        ("application/json", {"message": "Too many requests"}, "rate-limited"),
        (
            "application/json",
            {"type": "tag:sculpture-store,2025:problem:too-many-holds"},
            "rate-limited",
        ),
        (PROBLEM, {"type": "tag:sculpture-store,2025:problem:something-else"}, "rate-limited"),
    ],
)
def test_a_429_says_which_limit_was_met(
    server: ScriptedServer, content_type: str, body: dict, outcome: str
) -> None:
    server.script = [Answer(429, body, {"Retry-After": "60"}, content_type)]
    answer = run_client(server.base_url, "placeHold", "onda", KEY)
    assert answer["result"] == {"outcome": outcome, "status": 429}
    assert len(server.seen) == 1


def test_a_short_retry_after_is_waited_for(server: ScriptedServer) -> None:
    server.script = [Answer(503, {}, {"Retry-After": "1"}, PROBLEM), Answer(201, HOLD)]
    answer = run_client(server.base_url, "placeHold", "onda", KEY)
    assert answer["result"]["outcome"] == "held"
    first, second = server.seen
    assert second.at - first.at >= 1.0


def test_a_long_retry_after_is_not_waited_for(server: ScriptedServer) -> None:
    server.script = [Answer(503, {}, {"Retry-After": "120"}, PROBLEM), Answer(201, HOLD)]
    answer = run_client(server.base_url, "placeHold", "onda", KEY)
    assert answer["result"] == {"outcome": "failed", "status": 503}
    assert len(server.seen) == 1


def test_reads_ask_for_a_fresh_copy_only_when_told(server: ScriptedServer) -> None:
    server.script = [Answer(200, {"items": [PIECE], "unknown": []})]
    run_client(server.base_url, "readAvailability", ["onda", "vela"])
    run_client(server.base_url, "readAvailability", ["onda"], {"fresh": True})
    plain, fresh = server.seen
    # Literal commas: the API's fast path takes only an unescaped id list.
    assert plain.path == "/api/v1/availability?ids=onda,vela"
    assert "Cache-Control" not in plain.headers
    assert fresh.headers["Cache-Control"] == "max-age=0"


CASES = st.fixed_dictionaries(
    {
        "tries": st.integers(1, 12),
        "status": st.sampled_from([None, 500, 502, 503, 504]),
        "retryAfter": st.sampled_from([None, "0", "1", "3", "5", "6", "60", "soon"]),
        "elapsedMs": st.integers(0, 40_000),
        "random": st.floats(0, 0.999999),
    }
)


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(cases=st.lists(CASES, min_size=20, max_size=20))
@example(  # a wait of exactly n + 0.5 ms: JavaScript rounds it up, Python's round() to even
    cases=[{"tries": 1, "status": None, "retryAfter": None, "elapsedMs": 0, "random": 0.25}] * 20
)
def test_every_wait_follows_the_published_rules(cases: list[dict], retry: dict) -> None:
    """Each case against the rules as documented in site.js: full jitter under a doubling cap;
    no answer: until the patience runs out; an error answer: a few tries, Retry-After heeded."""
    waits = run_client("http://127.0.0.1:9", "retryDelays", cases)["result"]
    for case, wait in zip(cases, waits, strict=True):
        cap = min(retry["maxDelayMs"], retry["baseDelayMs"] * 2 ** (case["tries"] - 1))
        backoff = math.floor(case["random"] * cap + 0.5)  # JavaScript's Math.round: .5 goes up
        if case["status"] is None:
            expected = backoff if case["elapsedMs"] + backoff < retry["patienceMs"] else None
        elif case["tries"] >= retry["attempts"]:
            expected = None
        elif case["retryAfter"] is None or not case["retryAfter"].isdigit():
            expected = backoff
        elif int(case["retryAfter"]) > retry["maxRetryAfterSeconds"]:
            expected = None
        else:
            expected = max(backoff, int(case["retryAfter"]) * 1000)
        assert wait == expected, case


def test_no_answer_is_tried_for_longer_than_a_dead_target_stays_in_rotation(retry: dict) -> None:
    """The load balancer stops sending to a dead target after its health checks fail it
    (terraform/modules/load_balancer): until then, a third of new connections meet it."""
    check = target_group().health_check
    worst = check.unhealthy_threshold * (check.interval + check.timeout)
    assert retry["patienceMs"] / 1000 >= worst
    assert retry["maxDelayMs"] / 1000 <= check.interval  # so tries keep coming within it
    assert math.isfinite(retry["timeoutMs"]) and retry["timeoutMs"] < retry["patienceMs"]
