"""Property-based conformance: schemathesis (``st run``) against the API under gunicorn.

Every check schemathesis has (no server errors, status codes, content types,
headers and bodies conforming to the spec, auth and missing-header handling,
negative data rejected, ...) must pass with zero failures.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from support.availability import SPEC_PATH, STAFF_TOKEN

from api.stores import open_store


def test_schemathesis_finds_no_failure(tmp_path: Path, start_gunicorn) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    store = open_store(url)
    # The slugs the spec's examples use, so examples reach real pieces, not only 404s.
    store.sync_inventory({"curva-de-congonhas": 3, "moringa": 2}, now=int(time.time()))
    store.close()
    node = start_gunicorn(url)
    st = Path(sys.executable).with_name("st")
    result = subprocess.run(
        [
            str(st),
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            str(SPEC_PATH),
            "--url",
            node.base_url,
            "--checks",
            "all",
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--header",
            f"Authorization: Bearer {STAFF_TOKEN}",
            "--no-color",
        ],
        cwd=tmp_path,  # schemathesis keeps its state in ./.schemathesis
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout or " passed" in result.stdout
    # The server logged no 5xx either (a crash would show up as a Status5xx of 1).
    log = node.log_path.read_text()  # all of it (node.log() is only its tail)
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(record.get("Status2xx") == 1 for record in records)  # the lines are there
    assert [record for record in records if record.get("Status5xx") == 1] == []
