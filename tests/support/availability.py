"""Constants and fakes shared by the availability API suites (tests/api)."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

from support.servers import ServerProcess, free_port

REPO = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO / "api" / "openapi.json"
GUNICORN_CONF = REPO / "api" / "gunicorn.conf.py"
STAFF_TOKEN = "staff-token-for-tests"
START = 1_800_000_000  # a fixed "now" for the fake clock (2027-01-15)
#: The catalog every store-backed test starts from: slug -> edition size.
CATALOG = {"unique-piece": 1, "edition-of-three": 3, "large-edition": 10}


class FakeClock:
    """A clock the test moves by hand: expiry is tested without sleeping."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def new_table(prefix: str = "availability") -> str:
    """Create a fresh DynamoDB table (as Terraform would) on the emulator in the environment."""
    from api.stores.dynamodb import DynamoDBStore

    table = f"{prefix}-{uuid.uuid4().hex[:12]}"
    DynamoDBStore(table).initialize()
    return table


def gunicorn_env(store_url: str, **extra: str) -> dict[str, str]:
    """The environment of an API node in tests: 2 workers, as the issue asks."""
    return {
        "API_STORE_URL": store_url,
        "API_STAFF_TOKEN": STAFF_TOKEN,
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "8",
        # As behind CloudFront: the visitor is the last X-Forwarded-For entry.
        "API_TRUSTED_PROXY_HOPS": "1",
        "HOME": os.environ.get("HOME", "/tmp"),
        **extra,
    }


def launch_node(
    store_url: str, log_dir: Path, app: str = "api.wsgi:app", **env: str
) -> ServerProcess:
    """Launch gunicorn with the production config on a free loopback port (not yet ready).

    ``--chdir tests/api`` lets ``app`` name a test-only module there.
    """
    port = free_port()
    return ServerProcess.launch(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(GUNICORN_CONF),
            "--chdir",
            str(REPO / "tests" / "api"),
            app,
        ],
        port=port,
        env=gunicorn_env(store_url, GUNICORN_BIND=f"127.0.0.1:{port}", **env),
        cwd=REPO,
        log_path=log_dir / f"gunicorn-{port}.log",
    )
