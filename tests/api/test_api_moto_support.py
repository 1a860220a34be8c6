"""The reusable moto launcher (tests/support/moto_server.py) keeps its promises."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from support.moto_server import aws_environment, start_moto
from support.servers import request


@pytest.mark.parametrize("threaded", [True, False], ids=["stock", "single-threaded"])
def test_a_moto_server_starts_on_loopback_serves_aws_apis_and_stops_by_pid(
    threaded: bool, monkeypatch
) -> None:
    server = start_moto(threaded=threaded)
    try:
        assert server.endpoint_url.startswith("http://127.0.0.1:")
        for name, value in aws_environment(server.endpoint_url).items():
            monkeypatch.setenv(name, value)
        s3 = boto3.client("s3", config=Config(retries={"max_attempts": 1}))
        s3.create_bucket(Bucket="probe")
        assert [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]] == ["probe"]
        server.reset()
        assert s3.list_buckets()["Buckets"] == []
    finally:
        server.stop()
    assert server.process.poll() is not None
    with pytest.raises(OSError):
        request("GET", server.endpoint_url + "/moto-api/", timeout=2)
