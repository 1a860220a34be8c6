"""What an anonymous client can send, and what it must never cause: a 500, a 403,
a log it wrote itself, or a cleared cache. On both stores (the client fixture).

A 5xx counts towards the alarm that rolls deployments back and pages the
operator, so no request body, header or path may produce one.
"""

from __future__ import annotations

import json
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support.api_client import HOLDS, SALES, assert_problem, place_hold, staff
from support.availability import SPEC_PATH, STAFF_TOKEN, FakeClock


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# --------------------------------------------------------------------------- deep JSON


@pytest.mark.parametrize("depth", [1_000, 2_000])
@pytest.mark.parametrize("where", ["body", "field"])
def test_deeply_nested_json_is_a_400_problem_not_a_500(
    client: FlaskClient, depth: int, where: str
) -> None:
    raw = (
        nested(depth)
        if where == "body"
        else f'{{"sculpture": "unique-piece", "email": {nested(depth)}}}'
    )
    for path, headers in ((HOLDS, {"Idempotency-Key": str(uuid.uuid4())}), (SALES, staff())):
        response = client.post(path, data=raw, content_type="application/json", headers=headers)
        body = assert_problem(response, 400, "malformed-json")
        assert "nested" in body["detail"]


def test_json_nested_a_little_is_still_judged_on_its_fields(client: FlaskClient) -> None:
    raw = '{"sculpture": "unique-piece", "email": [[["a@b.co"]]]}'
    response = client.post(
        HOLDS,
        data=raw,
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert_problem(response, 422, "invalid-body")


# --------------------------------------------------------------------------- trailing newlines


def test_an_email_with_a_trailing_newline_is_refused(client: FlaskClient) -> None:
    response = place_hold(client, email="a@b.co\n")
    problem = assert_problem(response, 422, "invalid-body")
    assert [error["pointer"] for error in problem["errors"]] == ["/email"]


def test_a_hold_id_with_a_trailing_newline_is_not_a_hold_id(client: FlaskClient) -> None:
    hold = place_hold(client).get_json()
    response = client.post(SALES, json={"hold": hold["id"] + "\n"}, headers=staff())
    problem = assert_problem(response, 422, "invalid-body")
    assert [error["pointer"] for error in problem["errors"]] == ["/hold"]
    released = client.delete(f"{HOLDS}/{hold['id']}%0A", headers=staff())
    assert_problem(released, 404, "unknown-hold")
    assert client.get("/api/v1/sculptures/unique-piece/availability").get_json()["held"] == 1


def test_an_idempotency_key_with_a_trailing_newline_is_refused(client: FlaskClient) -> None:
    key = str(uuid.uuid4())
    response = client.post(
        HOLDS,
        json={"sculpture": "unique-piece"},
        environ_overrides={"HTTP_IDEMPOTENCY_KEY": key + "\n"},
    )
    assert_problem(response, 400, "idempotency-key-invalid")


@pytest.mark.parametrize("key", ["k", "short-key-15-ch", " " + "a" * 20, "a" * 256])
def test_an_idempotency_key_must_be_long_enough_to_be_unguessable(
    client: FlaskClient, key: str
) -> None:
    response = client.post(
        HOLDS, json={"sculpture": "unique-piece"}, headers={"Idempotency-Key": key}
    )
    assert_problem(response, 400, "idempotency-key-invalid")
    assert client.get("/api/v1/sculptures/unique-piece/availability").get_json()["held"] == 0


# --------------------------------------------------------------------------- request ids


def test_the_clients_request_id_is_never_taken_as_ours(
    client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    chosen = "abc-123"
    response = client.get("/api/v1/availability?ids=unique-piece", headers={"X-Request-Id": chosen})
    ours = response.headers["X-Request-Id"]
    assert ours != chosen and len(ours) == 32
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines() if text]
    assert line["request_id"] == ours
    assert line["client_request_id"] == chosen  # kept apart, for matching a client's report


@pytest.mark.parametrize("sent", ["abc\n", "<script>", "x" * 129, "a b"])
def test_an_odd_client_request_id_is_dropped(
    client: FlaskClient, capsys: pytest.CaptureFixture[str], sent: str
) -> None:
    capsys.readouterr()
    response = client.get(
        "/api/v1/availability?ids=unique-piece", environ_overrides={"HTTP_X_REQUEST_ID": sent}
    )
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines() if text]
    assert "client_request_id" not in line
    assert line["request_id"] == response.headers["X-Request-Id"] != sent


# --------------------------------------------------------------------------- never 403


def test_a_wrong_release_token_is_401_not_403(client: FlaskClient) -> None:
    hold = place_hold(client).get_json()
    wrong = client.delete(f"{HOLDS}/{hold['id']}", headers={"Authorization": "Bearer not-it"})
    assert_problem(wrong, 401, "wrong-release-token")
    assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    unknown = client.delete(f"{HOLDS}/{uuid.uuid4()}", headers={"Authorization": "Bearer not-it"})
    assert_problem(unknown, 404, "unknown-hold")


def test_sales_without_a_configured_staff_token_are_401(store_url: str, clock: FakeClock) -> None:
    from api import create_app

    app = create_app({"STORE_URL": store_url, "CLOCK": clock, "STAFF_TOKEN": None})
    response = app.test_client().post(
        SALES,
        json={"sculpture": "unique-piece"},
        headers={**staff(STAFF_TOKEN), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert_problem(response, 401, "staff-disabled")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_contract_documents_no_403_anywhere() -> None:
    document = json.loads(SPEC_PATH.read_text())
    statuses = {
        status
        for item in document["paths"].values()
        for operation in item.values()
        for status in operation["responses"]
    }
    assert "403" not in statuses
    assert "Forbidden" not in document["components"]["responses"]


# --------------------------------------------------------------------------- the cache


def refused_writes(client: FlaskClient) -> list:
    """Writes the API refuses before it asks the store anything."""
    hold_key = {"Idempotency-Key": str(uuid.uuid4())}
    return [
        client.post(HOLDS, data="{", content_type="application/json", headers=hold_key),  # 400
        client.post(HOLDS, json={"sculpture": "unique-piece"}),  # 400: no key
        client.post(HOLDS, data="x", content_type="text/plain", headers=hold_key),  # 415
        client.post(HOLDS, json={"sculpture": "Not A Slug"}, headers=hold_key),  # 422
        client.post(SALES, json={"sculpture": "unique-piece"}),  # 401
        client.delete(f"{HOLDS}/{uuid.uuid4()}"),  # 401
    ]


def test_refused_writes_leave_the_availability_cache_alone(app: Flask, client: FlaskClient) -> None:
    from api.views import CACHE_EXTENSION

    cache = app.extensions[CACHE_EXTENSION]
    client.get("/api/v1/availability?ids=unique-piece")
    generation, entries = cache.generation, len(cache)
    assert entries == 1
    statuses = [response.status_code for response in refused_writes(client)]
    assert statuses == [400, 400, 415, 422, 401, 401]
    assert (cache.generation, len(cache)) == (generation, entries)
    assert place_hold(client).status_code == 201  # a write that reached the store does clear it
    assert cache.generation > generation and len(cache) == 0


def test_no_store_refusal_maps_to_403() -> None:
    from api.views import STORE_PROBLEMS

    assert 403 not in {status for status, _kind, _detail in STORE_PROBLEMS.values()}
