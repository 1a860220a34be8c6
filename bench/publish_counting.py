"""Run a publish command, or the AWS CLI, with every AWS request counted.

Used by bench/publish.py, once per measured run, in a child process so that the
wall time includes start-up as CI sees it. Counting is a botocore `before-send`
hook (one count per HTTP request, retries included); uploaded bytes are the
bodies of PutObject and UploadPart requests; API time runs from the first request
sent to the last response received.

    python bench/publish_counting.py OUT.json storefront publish --bucket B ...
    .venv-awscli/bin/python bench/publish_counting.py OUT.json aws s3 sync DIR s3://B/
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

COUNTS: Counter[str] = Counter()
UPLOADED = [0]
SPAN: list[float] = []  # first request sent, last response received


def on_response(**_: Any) -> None:
    SPAN[1:] = [time.perf_counter()]


def on_send(request: Any, event_name: str, **_: Any) -> None:
    operation = event_name.rsplit(".", 1)[-1]
    COUNTS[operation] += 1
    if not SPAN:
        SPAN.append(time.perf_counter())
    if operation in {"PutObject", "UploadPart"}:
        headers = request.headers
        size = headers.get("x-amz-decoded-content-length") or headers.get("Content-Length")
        UPLOADED[0] += int(size or 0)


def run_aws(args: list[str]) -> int:
    from awscli.clidriver import create_clidriver

    driver = create_clidriver()
    driver.session.register("before-send", on_send)
    driver.session.register("after-call", on_response)
    return driver.main(args)


def run_storefront(args: list[str]) -> int:
    import boto3
    import click
    import storefront.publish.commands
    from flask.cli import FlaskGroup
    from storefront import create_app
    from storefront.publish.remote import make_clients

    def counting_clients(**kwargs: Any) -> tuple[Any, Any]:
        session = boto3.Session()
        session.events.register("before-send", on_send)
        session.events.register("after-call", on_response)
        return make_clients(session=session, **kwargs)

    storefront.publish.commands.make_clients = counting_clients  # type: ignore[attr-defined]
    try:
        FlaskGroup(create_app=create_app).main(args, "storefront", standalone_mode=False)
    except click.ClickException as error:
        error.show()
        return 1
    return 0


def main() -> None:
    out, tool, *args = sys.argv[1:]
    started = time.perf_counter()
    code = run_aws(args) if tool == "aws" else run_storefront(args)
    seconds = time.perf_counter() - started
    api = SPAN[-1] - SPAN[0] if len(SPAN) == 2 else 0.0
    report = {
        "requests": dict(COUNTS),
        "uploaded_bytes": UPLOADED[0],
        "seconds": seconds,
        "api_seconds": api,
    }
    Path(out).write_text(json.dumps(report), encoding="utf-8")
    sys.exit(code)


if __name__ == "__main__":
    main()
