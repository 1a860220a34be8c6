"""The availability shortcut (api.availability_fast_path) answers exactly as the Flask view.

The oracle is the view itself: every generated request goes to the app with
the shortcut in front and to the Flask app behind it, and both answers must
match in status, body and headers (each with its own request id). On both stores.
"""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.availability import CATALOG, START, FakeClock
from werkzeug.test import Client

from api import create_app
from api.availability_fast_path import AvailabilityFastPath

SLUGS = st.sampled_from([*CATALOG, "no-such-piece", "a", "x" * 101, "Upper", "trailing-"])
QUERIES = st.one_of(
    st.lists(SLUGS, max_size=55).map(lambda ids: "ids=" + ",".join(ids)),
    st.text(alphabet="ids=,&%2Cabcque-", max_size=40),
    st.just("ids=unique-piece&ids=large-edition"),
    st.just("ids=unique-piece%2Clarge-edition"),
    st.just("ids=" + "a" * 9000),
)


@pytest.fixture
def uncached(store_url: str, clock: FakeClock) -> Flask:
    app = create_app({"STORE_URL": store_url, "CLOCK": clock, "AVAILABILITY_CACHE_SECONDS": 0})
    app.extensions["availability_store"].sync_inventory(CATALOG, now=START)
    return app


def answer(wsgi_app, query: str, method: str = "GET", **headers: str):
    response = Client(wsgi_app).open(
        f"/api/v1/availability?{query}", method=method, headers=headers
    )
    seen = dict(response.headers)
    request_id = seen.pop("X-Request-Id")
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    body = response.get_data()
    if response.mimetype == "application/problem+json":  # a problem names its request
        problem = json.loads(body)
        assert problem.pop("request_id") == request_id
        body = json.dumps(problem).encode()
    return response.status_code, body, seen


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(query=QUERIES)
def test_the_shortcut_answers_every_query_as_the_view_does(uncached: Flask, query: str) -> None:
    shortcut = uncached.wsgi_app
    assert isinstance(shortcut, AvailabilityFastPath)
    assert answer(shortcut, query) == answer(shortcut.wsgi_app, query)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("cache_control", [None, "no-cache", "max-age=0"])
def test_methods_and_cache_directives_get_the_same_answer(
    uncached: Flask, method: str, cache_control: str | None
) -> None:
    headers = {"Cache-Control": cache_control} if cache_control else {}
    query = "ids=unique-piece,nope,unique-piece"
    shortcut = uncached.wsgi_app
    assert answer(shortcut, query, method, **headers) == answer(
        shortcut.wsgi_app, query, method, **headers
    )


def test_the_shortcut_shares_the_views_cache_and_the_writes_that_clear_it(app: Flask) -> None:
    from api.views import CACHE_EXTENSION

    cache = app.extensions[CACHE_EXTENSION]
    query = "ids=unique-piece,edition-of-three"
    Client(app.wsgi_app.wsgi_app).get(f"/api/v1/availability?{query}")  # the view fills it
    assert cache.get(query.encode()) is not None
    cache.put(query.encode(), b'{"items":[],"unknown":["from-the-cache"]}', cache.generation)
    assert b"from-the-cache" in Client(app.wsgi_app).get(f"/api/v1/availability?{query}").data
    cache.invalidate()
    fresh = Client(app.wsgi_app).get(f"/api/v1/availability?{query}").get_json()
    assert [item["sculpture"] for item in fresh["items"]] == ["unique-piece", "edition-of-three"]
    assert cache.get(query.encode()) is not None  # ... and the shortcut filled it again


def test_the_shortcut_writes_the_same_access_line_as_the_view(
    uncached: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    query = "ids=unique-piece"
    capsys.readouterr()
    Client(uncached.wsgi_app).get(f"/api/v1/availability?{query}", headers={"X-Request-Id": "mine"})
    Client(uncached.wsgi_app.wsgi_app).get(
        f"/api/v1/availability?{query}", headers={"X-Request-Id": "mine"}
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    varying = {"time", "request_id", "Latency", "_aws"}
    fast, flask = ({k: v for k, v in line.items() if k not in varying} for line in lines)
    assert fast == flask
    assert fast["client_request_id"] == "mine" and fast["Status2xx"] == 1
    assert lines[0]["_aws"]["CloudWatchMetrics"] == lines[1]["_aws"]["CloudWatchMetrics"]


def test_a_store_outage_is_answered_by_the_view_as_a_problem(tmp_path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    app = create_app({"STORE_URL": f"sqlite:///{blocker}/db.sqlite3"})
    response = Client(app.wsgi_app).get("/api/v1/availability?ids=unique-piece")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"


class DefectiveStore:
    """A store whose reads hit a bug: an exception that is none of the store's refusals."""

    def __init__(self, store) -> None:
        self.store = store

    def __getattr__(self, name: str):
        return getattr(self.store, name)

    def availability(self, *args, **kwargs):
        raise KeyError("a bug in the read path")


def test_a_defect_in_the_store_is_a_500_problem_counted_in_the_metrics(
    uncached: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not gunicorn's HTML page without an access line: the 5xx alarm must see it.

    The cluster drill (bench/cluster) found a release with such a bug answering
    5xx to many reads while the metrics counted almost none: no alarm fired.
    """
    uncached.extensions["availability_store"] = DefectiveStore(
        uncached.extensions["availability_store"]
    )
    capsys.readouterr()
    response = Client(uncached.wsgi_app).get("/api/v1/availability?ids=unique-piece")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    access = [line for line in lines if "_aws" in line]
    assert [(line["status"], line["Status5xx"]) for line in access] == [(500, 1)]
