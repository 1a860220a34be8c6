"""DynamoDB for the drill: moto, one request at a time, with transactions that do not slow down.

The drill runs the store on moto's single-threaded server (writes serialised,
as DynamoDB serialises writes to an item; see tests/support/moto_server.py).
One fix is needed for a drill of many minutes: moto 5 backs up every table a
``TransactWriteItems`` names, whole, once per action, to roll back on a
failure. That costs time in proportion to the table: measured here, a hold
took 130 ms with an empty table and 480 ms after 600 holds, enough on its own
to fire the p99 latency alarm during a good deployment.

``transact_write_items`` below backs up only the items the transaction names
(the only ones it can change: each action names its item's key) and restores
them if moto's call fails, after turning moto's own whole-table copy into a
no-op for that call. All or nothing, as before; tests/cluster/test_dynamodb_emulator.py
holds it to that.

``python -m bench.cluster.dynamodb_emulator --port N`` serves it in the foreground.
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from unittest import mock

from support.moto_server import MotoServer, free_port

from bench.cluster import ROOT
from bench.cluster.children import started

READY_TIMEOUT_SECONDS = 30.0


def _key(table: Any, op: dict[str, Any]) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    attributes = op["Item"] if "Item" in op else op["Key"]
    hash_value = DynamoType(attributes[table.hash_key_attr])
    range_value = None
    if table.range_key_attr is not None:
        range_value = DynamoType(attributes[table.range_key_attr])
    return hash_value, range_value


def _restore(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    if item is None:
        table.delete_item(hash_value, range_value)
    elif range_value is not None:
        table.items[hash_value][range_value] = item
    else:
        table.items[hash_value] = item


def targeted_rollback(original: Callable[..., Any]) -> Callable[..., Any]:
    """``original`` (moto's transact_write_items), rolling back only the items it names."""
    from moto.dynamodb.models.table import Table

    real_deepcopy = copy.deepcopy

    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else real_deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        saved = []
        for entry in transact_items:
            op = next(iter(entry.values()), {})
            table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            if table is None:
                continue
            try:
                hash_value, range_value = _key(table, op)
            except (KeyError, TypeError):
                continue  # a malformed action: moto refuses it before writing anything
            current = table.get_item(hash_value, range_value)
            saved.append((table, hash_value, range_value, real_deepcopy(current)))
        with mock.patch.object(copy, "deepcopy", deepcopy):
            try:
                return original(self, transact_items)
            except Exception:
                for table, hash_value, range_value, item in saved:
                    _restore(table, hash_value, range_value, item)
                raise

    return transact_write_items


def serve(port: int) -> None:
    """Serve moto's app one request at a time, with the targeted rollback."""
    import signal

    from moto.dynamodb.models import DynamoDBBackend
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    DynamoDBBackend.transact_write_items = targeted_rollback(  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(
        "127.0.0.1",
        port,
        DomainDispatcherApplication(create_backend_app),
        threaded=False,
        request_handler=MotoRequestHandler,
    )


def start(log_dir: Any) -> MotoServer:
    """Start the emulator on a free port of 127.0.0.1; return once it answers."""
    port = free_port()
    log = (log_dir / f"dynamodb-{port}.log").open("wb")
    process = started(
        subprocess.Popen(
            [sys.executable, "-m", "bench.cluster.dynamodb_emulator", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "MOTO_PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    )
    log.close()
    server = MotoServer(f"http://127.0.0.1:{port}", process, threaded=False)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the DynamoDB emulator exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{server.endpoint_url}/moto-api/", timeout=1):
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    server.stop()
    raise TimeoutError("the DynamoDB emulator did not answer in time")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args().port)
