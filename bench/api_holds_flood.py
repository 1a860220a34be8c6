"""One client floods holds; the hold policy gives it its cap and no more, others still hold.

Starts the API under gunicorn (the production settings file, 2 workers) on a
store stocked like the shop the issue describes (11 pieces, 55 units), behind
a pretend CloudFront: every request carries ``X-Forwarded-For`` and the node
trusts one hop (``API_TRUSTED_PROXY_HOPS=1``). Then, at the same time:

* the flooder sends ``--flood`` hold requests over every piece from one
  connection, writing a fresh made-up address in front of its ``X-Forwarded-For``
  each time and a new address inside its IPv6 /64 (what a script would try; a
  dual-stack client has an IPv4 address too, and is a second visitor with it);
* ``--visitors`` other visitors each hold one piece (spread over the pieces).

It prints what each side got and the units held at the end. On the SQLite
store by default; ``--store dynamodb`` runs the same against DynamoDB on the
single-threaded moto server.

Usage: .venv/bin/python bench/api_holds_flood.py [--flood 300] [--visitors 40] [--store sqlite]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from support.availability import launch_node, new_table  # noqa: E402
from support.moto_server import aws_environment, start_moto  # noqa: E402
from support.servers import request  # noqa: E402

from api.config import DEFAULTS  # noqa: E402
from api.stores import open_store  # noqa: E402

PIECES = {f"peca-{n:02d}": 5 for n in range(1, 12)}  # 11 pieces, 55 units


def hold(base_url: str, slug: str, forwarded: str) -> int:
    response = request(
        "POST",
        f"{base_url}/api/v1/holds",
        json_body={"sculpture": slug},
        headers={"Idempotency-Key": str(uuid.uuid4()), "X-Forwarded-For": forwarded},
    )
    return response.status


def flooder_addresses() -> str:
    """A made-up address in front (CloudFront keeps what the client sent), then the one
    CloudFront appends: always in the flooder's IPv6 /64, with a new interface id each time."""
    spoofed = f"{random.randrange(1, 224)}.{random.randrange(256)}.{random.randrange(256)}.7"
    interface = ":".join(f"{random.randrange(1 << 16):x}" for _ in range(4))
    return f"{spoofed}, 2001:db8:66:1:{interface}"


def run(base_url: str, flood: int, visitors: int) -> dict:
    slugs = list(PIECES)
    flood_statuses: list[int] = []
    visitor_statuses: list[int] = []
    lock = threading.Lock()

    def flood_one(index: int) -> None:
        status = hold(base_url, slugs[index % len(slugs)], flooder_addresses())
        with lock:
            flood_statuses.append(status)

    def visit(index: int) -> None:
        status = hold(base_url, slugs[index % len(slugs)], f"198.51.100.{index + 1}")
        with lock:
            visitor_statuses.append(status)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=24) as pool:
        jobs = [("flood", i) for i in range(flood)] + [("visit", i) for i in range(visitors)]
        random.shuffle(jobs)
        for kind, index in jobs:
            pool.submit(flood_one if kind == "flood" else visit, index)
    elapsed = time.perf_counter() - started
    ids = ",".join(slugs)
    items = request("GET", f"{base_url}/api/v1/availability?ids={ids}").json()["items"]
    return {
        "flood": collections.Counter(flood_statuses),
        "visitors": collections.Counter(visitor_statuses),
        "held": sum(item["held"] for item in items),
        "units": sum(item["edition_size"] for item in items),
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=300, help="hold requests from the flooder")
    parser.add_argument("--visitors", type=int, default=40, help="other visitors, one hold each")
    parser.add_argument("--store", choices=["sqlite", "dynamodb"], default="sqlite")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="holds-flood-"))
    env: dict[str, str] = {}
    moto = None
    if args.store == "dynamodb":
        moto = start_moto(threaded=False)
        env = aws_environment(moto.endpoint_url)
        with mock.patch.dict(os.environ, env):
            url = f"dynamodb://{new_table()}"
    else:
        url = f"sqlite:///{work / 'store.sqlite3'}"
    node = None
    try:
        with mock.patch.dict(os.environ, env):
            open_store(url).sync_inventory(PIECES, now=int(time.time()))
        node = launch_node(url, work, **env).wait_ready()
        result = run(node.base_url, args.flood, args.visitors)
    finally:
        if node is not None:
            node.stop()
        if moto is not None:
            moto.stop()
    cap = DEFAULTS["HOLDS_PER_VISITOR"]
    flood, visitors = result["flood"], result["visitors"]
    print(
        f"store {args.store}; {len(PIECES)} pieces, {result['units']} units; hold policy:"
        f" {cap} holds at once per visitor, one hold per piece a day"
    )
    print(
        f"flooder   ({args.flood} requests): {dict(sorted(flood.items()))}"
        f"  -> held {flood.get(201, 0)} (cap {cap})"
    )
    print(
        f"visitors  ({args.visitors}, one each): {dict(sorted(visitors.items()))}"
        f"  -> held {visitors.get(201, 0)}"
    )
    print(
        f"units held at the end: {result['held']} of {result['units']}; {result['seconds']:.1f} s"
    )
    verdict = (
        flood.get(201, 0) <= cap and visitors.get(201, 0) + visitors.get(409, 0) == args.visitors
    )
    print(
        json.dumps(
            {
                "flooder_held": flood.get(201, 0),
                "cap": cap,
                "visitors_held": visitors.get(201, 0),
                "policy_held": verdict,
            }
        )
    )


if __name__ == "__main__":
    main()
