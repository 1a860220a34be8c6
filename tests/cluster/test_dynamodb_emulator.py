"""The drill's DynamoDB emulator answers transactions exactly as stock moto does, only faster.

The oracle is stock moto's single-threaded server (tests/support/moto_server.py):
the same random transactions go to both, one after the other, and every answer
(success, or the cancellation reasons) and the table's final items must match.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.moto_server import MotoServer, aws_environment, start_moto

from bench.cluster import dynamodb_emulator

KEYS = ["a", "b", "c"]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MotoServer, MotoServer]]:
    logs = tmp_path_factory.mktemp("emulators")
    stock = start_moto(threaded=False, log_dir=logs)
    drill = dynamodb_emulator.start(logs)
    try:
        yield stock, drill
    finally:
        stock.stop()
        drill.stop()


def client(server: MotoServer) -> Any:
    env = aws_environment(server.endpoint_url)
    return boto3.client(
        "dynamodb",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def new_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


CONDITIONS = st.sampled_from(
    [None, "attribute_exists(pk)", "attribute_not_exists(pk)", "v = :one", "v <> :one"]
)


@st.composite
def actions(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Put", "Update", "Delete", "ConditionCheck"]))
    key = draw(st.sampled_from(KEYS))
    condition = draw(CONDITIONS)
    if kind == "ConditionCheck" and condition is None:
        condition = "attribute_exists(pk)"
    action: dict[str, Any] = {}
    if kind == "Put":
        action["Item"] = {"pk": {"S": key}, "v": {"N": str(draw(st.integers(0, 2)))}}
    else:
        action["Key"] = {"pk": {"S": key}}
    if kind == "Update":
        action["UpdateExpression"] = "SET v = :value"
        action["ExpressionAttributeValues"] = {":value": {"N": str(draw(st.integers(0, 2)))}}
    if condition:
        action["ConditionExpression"] = condition
        if ":one" in condition:
            values = action.setdefault("ExpressionAttributeValues", {})
            values[":one"] = {"N": "1"}
    return {kind: action}


TRANSACTIONS = st.lists(st.lists(actions(), min_size=1, max_size=4), min_size=1, max_size=6)


def run(dynamodb: Any, table: str, transactions: list[list[dict[str, Any]]]) -> list[Any]:
    """Every answer, then the table's items."""
    answers = []
    for transaction in transactions:
        items = [
            {kind: {**action, "TableName": table}}
            for entry in transaction
            for kind, action in entry.items()
        ]
        try:
            dynamodb.transact_write_items(TransactItems=items)
            answers.append("ok")
        except ClientError as error:
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            answers.append((error.response["Error"]["Code"], reasons))
    scanned = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    answers.append(sorted((item["pk"]["S"], item.get("v", {}).get("N")) for item in scanned))
    return answers


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(transactions=TRANSACTIONS)
def test_transactions_answer_as_stock_moto_does(
    servers: tuple[MotoServer, MotoServer], transactions: list[list[dict[str, Any]]]
) -> None:
    stock, drill = servers
    table = f"t-{uuid.uuid4().hex[:10]}"
    answers = []
    for server in (stock, drill):
        dynamodb = client(server)
        new_table(dynamodb, table)
        answers.append(run(dynamodb, table, transactions))
    assert answers[1] == answers[0]
