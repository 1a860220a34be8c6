"""The HTTP contract, through the Flask test client, on both stores.

Every response here is also checked against api/openapi.json by the client fixture.
"""

from __future__ import annotations

import json
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support.api_client import HOLDS, PROBLEM, assert_problem, place_hold, staff
from support.availability import STAFF_TOKEN, FakeClock

KEY = "6b1e3c8e-0d5f-4a47-9a37-2f2d3f1c9e10"

# --------------------------------------------------------------------------- availability


def test_availability_lists_pieces_in_the_order_asked_and_names_unknown_ones(
    client: FlaskClient,
) -> None:
    response = client.get("/api/v1/availability?ids=large-edition,nope,unique-piece,large-edition")
    assert response.status_code == 200
    assert response.get_json() == {
        "items": [
            {
                "sculpture": "large-edition",
                "edition_size": 10,
                "available": 10,
                "held": 0,
                "sold": 0,
                "status": "available",
            },
            {
                "sculpture": "unique-piece",
                "edition_size": 1,
                "available": 1,
                "held": 0,
                "sold": 0,
                "status": "available",
            },
        ],
        "unknown": ["nope"],
    }


def test_availability_may_be_cached_by_the_cdn_for_a_few_seconds(client: FlaskClient) -> None:
    cache = client.get("/api/v1/availability?ids=unique-piece").headers["Cache-Control"]
    assert "public" in cache and "max-age=5" in cache
    single = client.get("/api/v1/sculptures/unique-piece/availability")
    assert single.headers["Cache-Control"] == cache


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?ids=",
        "?ids=a,,b",
        "?ids=Not-A-Slug",
        "?ids=trailing-",
        "?ids=" + "x" * 101,
        "?ids=" + ",".join(f"piece-{n}" for n in range(51)),
    ],
    ids=["missing", "empty", "empty-item", "uppercase", "bad-hyphen", "too-long", "too-many"],
)
def test_availability_rejects_a_bad_id_list(client: FlaskClient, query: str) -> None:
    assert_problem(client.get(f"/api/v1/availability{query}"), 400, "invalid-query")


def test_availability_is_encoded_as_json_dumps_would_for_every_status(
    client: FlaskClient,
) -> None:
    """The route writes its JSON by hand (hot path); it must equal the documented shape."""
    from api.stores.interface import Availability
    from api.views import encode_availability

    found = {
        "a": Availability("a", 3, 1, 0),
        "r": Availability("r", 2, 1, 1),
        "s": Availability("s", 1, 0, 1),
        "over": Availability("over", 1, 1, 1),  # shrunk below held + sold: never negative
    }
    ids = ["s", "nope", "a", "over", "r", "gone"]
    expected = {
        "items": [found[slug].to_json() for slug in ids if slug in found],
        "unknown": ["nope", "gone"],
    }
    body = encode_availability(ids, found)
    assert body == json.dumps(expected, separators=(",", ":")).encode()
    assert [item["status"] for item in expected["items"]] == [
        "sold_out",
        "available",
        "reserved",
        "reserved",
    ]
    assert encode_availability([], {}) == b'{"items":[],"unknown":[]}'


def test_a_slug_with_a_trailing_newline_is_refused(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/availability?ids=unique-piece%0A"), 400, "invalid-query")
    assert_problem(place_hold(client, "unique-piece\n"), 422, "invalid-body")


def test_one_piece_availability_shows_holds(client: FlaskClient) -> None:
    place_hold(client, "edition-of-three")
    body = client.get("/api/v1/sculptures/edition-of-three/availability").get_json()
    assert (body["available"], body["held"], body["status"]) == (2, 1, "available")


@pytest.mark.parametrize("slug", ["no-such-piece", "UPPER", "x" * 200])
def test_an_unknown_piece_is_404(client: FlaskClient, slug: str) -> None:
    assert_problem(client.get(f"/api/v1/sculptures/{slug}/availability"), 404, "unknown-sculpture")


# --------------------------------------------------------------------------- holds


def test_a_hold_is_created_with_expiry_location_and_release_token(
    client: FlaskClient, clock: FakeClock
) -> None:
    response = place_hold(client, email="visitor@example.com")
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"{HOLDS}/{body['id']}"
    assert response.headers["Cache-Control"] == "no-store"
    assert body["sculpture"] == "unique-piece"
    assert body["email"] == "visitor@example.com"
    assert body["created_at"] == "2027-01-15T08:00:00Z"
    assert body["expires_at"] == "2027-01-15T08:30:00Z"  # default: 30 minutes
    assert len(body["release_token"]) >= 32


def test_the_hold_ttl_comes_from_configuration(store_url: str, clock: FakeClock) -> None:
    from api import create_app

    app = create_app({"STORE_URL": store_url, "CLOCK": clock, "HOLD_TTL_SECONDS": 60})
    app.extensions["availability_store"].sync_inventory({"unique-piece": 1}, now=int(clock()))
    body = place_hold(app.test_client()).get_json()
    assert body["expires_at"] == "2027-01-15T08:01:00Z"


def test_a_second_hold_on_a_unique_piece_is_409_until_the_first_expires(
    client: FlaskClient, clock: FakeClock
) -> None:
    place_hold(client)
    body = assert_problem(place_hold(client), 409, "no-unit-free")
    assert body["sculpture"] == "unique-piece"
    clock.advance(30 * 60)
    assert place_hold(client).status_code == 201


def test_a_replayed_request_returns_the_first_response_and_creates_nothing(
    client: FlaskClient,
) -> None:
    first = place_hold(client, "edition-of-three", key=KEY)
    again = place_hold(client, "edition-of-three", key=KEY)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    held = client.get("/api/v1/sculptures/edition-of-three/availability").get_json()["held"]
    assert held == 1


def test_a_replay_matches_on_content_not_on_formatting(client: FlaskClient) -> None:
    first = place_hold(client, "edition-of-three", key=KEY, email="a@example.com")
    reordered = client.post(
        HOLDS,
        data='{ "email": "a@example.com",\n  "sculpture": "edition-of-three" }',
        content_type="application/json",
        headers={"Idempotency-Key": f'"{KEY}"'},  # the draft's structured-field form
    )
    assert reordered.get_json()["id"] == first.get_json()["id"]


def test_the_same_key_with_another_body_is_422(client: FlaskClient) -> None:
    place_hold(client, "edition-of-three", key=KEY)
    assert_problem(place_hold(client, "large-edition", key=KEY), 422, "idempotency-key-reused")


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ({}, "idempotency-key-missing"),
        ({"Idempotency-Key": "has space"}, "idempotency-key-invalid"),
    ],
    ids=["missing", "invalid"],
)
def test_a_hold_needs_a_usable_idempotency_key(client: FlaskClient, headers, kind: str) -> None:
    response = client.post(HOLDS, json={"sculpture": "unique-piece"}, headers=headers)
    assert_problem(response, 400, kind)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "/sculpture"),
        ({"sculpture": 7}, "/sculpture"),
        ({"sculpture": "Bad Slug"}, "/sculpture"),
        ({"sculpture": "unique-piece", "email": "not-an-email"}, "/email"),
        ({"sculpture": "unique-piece", "email": 12}, "/email"),
        ({"sculpture": "unique-piece", "price": 0}, "/price"),
    ],
    ids=["missing", "number", "bad-slug", "bad-email", "email-number", "unknown-field"],
)
def test_an_invalid_hold_body_is_422_naming_the_field(
    client: FlaskClient, body: dict, pointer: str
) -> None:
    response = client.post(HOLDS, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    problem = assert_problem(response, 422, "invalid-body")
    assert [error["pointer"] for error in problem["errors"]] == [pointer]


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "null"])
def test_a_hold_body_must_be_a_json_object(client: FlaskClient, raw: str) -> None:
    response = client.post(
        HOLDS,
        data=raw,
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert_problem(response, 422, "invalid-body")


def test_malformed_json_is_400(client: FlaskClient) -> None:
    response = client.post(
        HOLDS,
        data="{not json",
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert_problem(response, 400, "malformed-json")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_415(client: FlaskClient, content_type: str | None) -> None:
    response = client.post(
        HOLDS,
        data='{"sculpture": "unique-piece"}',
        content_type=content_type,
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert_problem(response, 415, "unsupported-media-type")


def test_an_oversized_body_is_413(client: FlaskClient) -> None:
    body = json.dumps({"sculpture": "unique-piece", "email": "a" * 10_000 + "@example.com"})
    response = client.post(
        HOLDS,
        data=body,
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert_problem(response, 413)


def test_a_hold_on_an_unknown_piece_is_404(client: FlaskClient) -> None:
    assert_problem(place_hold(client, "no-such-piece"), 404, "unknown-sculpture")


# --------------------------------------------------------------------------- release


def test_the_release_token_releases_the_hold(client: FlaskClient) -> None:
    hold = place_hold(client).get_json()
    response = client.delete(
        f"{HOLDS}/{hold['id']}", headers={"Authorization": f"Bearer {hold['release_token']}"}
    )
    assert response.status_code == 204
    assert place_hold(client).status_code == 201


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Basic dXNlcjpwYXNz", 401), ("Bearer ", 401), ("Bearer wrong-token", 401)],
    ids=["none", "basic", "empty", "wrong"],
)
def test_releasing_needs_the_holds_token(
    client: FlaskClient, authorization: str | None, status: int
) -> None:
    hold = place_hold(client).get_json()
    headers = {"Authorization": authorization} if authorization else {}
    response = client.delete(f"{HOLDS}/{hold['id']}", headers=headers)
    assert_problem(response, status)
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert assert_problem(place_hold(client), 409)


def test_staff_can_release_any_hold(client: FlaskClient) -> None:
    hold = place_hold(client).get_json()
    assert client.delete(f"{HOLDS}/{hold['id']}", headers=staff()).status_code == 204


@pytest.mark.parametrize("hold_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_releasing_an_unknown_hold_is_404(client: FlaskClient, hold_id: str) -> None:
    assert_problem(client.delete(f"{HOLDS}/{hold_id}", headers=staff()), 404, "unknown-hold")


def test_releasing_a_sold_hold_is_409(client: FlaskClient) -> None:
    hold = place_hold(client).get_json()
    client.post("/api/v1/sales", json={"hold": hold["id"]}, headers=staff())
    response = client.delete(
        f"{HOLDS}/{hold['id']}", headers={"Authorization": f"Bearer {hold['release_token']}"}
    )
    assert_problem(response, 409, "hold-sold")


# --------------------------------------------------------------------------- staff sales


def test_staff_record_a_sale_from_a_hold(client: FlaskClient) -> None:
    hold = place_hold(client, "edition-of-three").get_json()
    response = client.post("/api/v1/sales", json={"hold": hold["id"]}, headers=staff())
    assert response.status_code == 201
    sale = response.get_json()
    assert (sale["sculpture"], sale["hold"]) == ("edition-of-three", hold["id"])
    counts = client.get("/api/v1/sculptures/edition-of-three/availability").get_json()
    assert (counts["held"], counts["sold"]) == (0, 1)


def test_staff_record_a_direct_sale(client: FlaskClient) -> None:
    response = client.post("/api/v1/sales", json={"sculpture": "unique-piece"}, headers=staff())
    assert response.status_code == 201
    status = client.get("/api/v1/sculptures/unique-piece/availability").get_json()["status"]
    assert status == "sold_out"
    assert_problem(place_hold(client), 409, "no-unit-free")


def test_a_sale_from_an_expired_hold_is_409(client: FlaskClient, clock: FakeClock) -> None:
    hold = place_hold(client).get_json()
    clock.advance(30 * 60)
    response = client.post("/api/v1/sales", json={"hold": hold["id"]}, headers=staff())
    body = assert_problem(response, 409, "hold-not-active")
    assert body["detail"] == "The hold is expired."


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Bearer not-the-staff-token", 401), ("Token " + STAFF_TOKEN, 401)],
    ids=["none", "wrong", "wrong-scheme"],
)
def test_sales_need_the_staff_token(
    client: FlaskClient, authorization: str | None, status: int
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post("/api/v1/sales", json={"sculpture": "unique-piece"}, headers=headers)
    assert_problem(response, status, "unauthorized")
    assert place_hold(client).status_code == 201  # nothing was sold


def test_without_a_configured_staff_token_every_sale_is_refused(
    store_url: str, clock: FakeClock
) -> None:
    from api import create_app

    app = create_app({"STORE_URL": store_url, "CLOCK": clock, "STAFF_TOKEN": None})
    app.extensions["availability_store"].sync_inventory({"unique-piece": 1}, now=int(clock()))
    for token in ("", "None", "null", STAFF_TOKEN):
        response = app.test_client().post(
            "/api/v1/sales", json={"sculpture": "unique-piece"}, headers=staff(token)
        )
        assert response.status_code in (401, 403)
        assert response.mimetype == PROBLEM


@pytest.mark.parametrize(
    "body",
    [{}, {"hold": "x", "sculpture": "unique-piece"}, {"hold": "not-a-uuid"}, {"sculpture": 3}],
    ids=["neither", "both", "bad-hold", "bad-sculpture"],
)
def test_a_sale_needs_exactly_one_valid_target(client: FlaskClient, body: dict) -> None:
    assert_problem(client.post("/api/v1/sales", json=body, headers=staff()), 422, "invalid-body")


def test_a_direct_sale_of_a_held_out_piece_is_409(client: FlaskClient) -> None:
    place_hold(client)
    response = client.post("/api/v1/sales", json={"sculpture": "unique-piece"}, headers=staff())
    assert_problem(response, 409, "no-unit-free")


# --------------------------------------------------------------------------- errors in general


def test_a_wrong_method_is_405_with_allow(client: FlaskClient) -> None:
    response = client.put(HOLDS)
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_an_unknown_path_is_a_404_problem(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404)


def test_an_unexpected_error_is_a_500_problem_without_internals(app: Flask) -> None:
    def explode() -> None:
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/api/v1/explode", "explode", explode)
    response = app.test_client().get("/api/v1/explode")
    body = assert_problem(response, 500)
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert body["request_id"] == response.headers["X-Request-Id"]


def test_every_response_carries_a_request_id_of_the_apis_own(client: FlaskClient) -> None:
    generated = client.get("/healthz").headers["X-Request-Id"]
    assert len(generated) == 32
    chosen = client.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"]
    assert chosen != "abc-123" and len(chosen) == 32  # see test_api_hostile_input
    assert chosen != generated


# --------------------------------------------------------------------------- probes and spec


def test_healthz_and_readyz_answer_when_all_is_well(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_readyz_fails_as_soon_as_shutdown_begins(client: FlaskClient, monkeypatch) -> None:
    from api import health

    monkeypatch.setattr(health, "_shutting_down", type(health._shutting_down)())
    health.begin_shutdown()
    assert_problem(client.get("/readyz"), 503, "shutting-down")
    assert client.get("/healthz").status_code == 200  # alive, just not taking new work


def test_readyz_fails_when_the_store_is_unreachable(tmp_path, openapi) -> None:
    from api import create_app

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    app = create_app({"STORE_URL": f"sqlite:///{blocker}/db.sqlite3"})
    response = app.test_client().get("/readyz")
    assert_problem(response, 503, "store-unavailable")
    openapi.check("GET", "/readyz", 503, response.headers, response.data)


def test_the_openapi_document_is_served_as_committed(client: FlaskClient) -> None:
    from support.availability import SPEC_PATH

    response = client.get("/api/v1/openapi.json")
    assert response.get_json() == json.loads(SPEC_PATH.read_text())


def test_an_overlong_url_is_a_414_problem(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/availability?ids=" + "a" * 9000), 414, "uri-too-long")
