"""A publish killed at any point leaves a whole site serving; the next run converges.

The child process is `python -m storefront publish`, made to SIGKILL itself at a
named point by STOREFRONT_PUBLISH_FAULT (see storefront.publish.releases._checkpoint).
"Whole" for an in-place site: every URL of the old or the new build answers with
the bytes of one of the two builds, and every asset a served page links to is
served (no page ever misses its stylesheet, script, image or search chunk).
"""

from __future__ import annotations

import json
import re
import signal

import pytest
from publish.harness import (
    ROOT,
    Edge,
    Publisher,
    Site,
    changed_keys,
    live_pointer,
    url_paths,
)

KEEP = ("--keep-releases", "2")
LINK = re.compile(rb'(?:href|src)="(/[^"#?]*)"|srcset="(/[^" ]*) ')


def assert_whole(edge: Edge, old: dict[str, bytes], new: dict[str, bytes]) -> None:
    served = edge.served({**old, **new})
    for key, body in served.items():
        if key not in old or key not in new:  # added or removed: there or not, never other bytes
            assert body in (None, old.get(key), new.get(key)), f"{key}: other bytes"
            continue
        assert body in {old[key], new[key]}, f"{key}: a broken or missing page"
    for key, body in served.items():
        if body is None or not key.endswith(".html"):
            continue
        for match in LINK.finditer(body):
            target = (match.group(1) or match.group(2)).decode()
            if target.startswith(f"/{ROOT}") and "." in target.rsplit("/", 1)[-1]:
                assert edge.get(target) is not None, f"{key} links to {target}, not served"


@pytest.mark.slow
@pytest.mark.parametrize(
    "fault",
    [
        "intent",  # the pointer says a change is starting; nothing written yet
        "transfers:3",  # some new assets written
        "transfers:12",  # every asset and some pages written
        "deletes",  # everything written and deleted, no manifest yet
        "manifest",  # the new release recorded, nothing invalidated
        "invalidate",  # invalidated, the pointer still says "changing"
        "gc",  # an old release half collected
    ],
)
def test_a_killed_publish_never_breaks_the_site_and_the_next_run_converges(
    publisher: Publisher, site: Site, edge: Edge, fault: str
) -> None:
    oldest = publisher.publish(*KEEP)["release"]
    site.edit("onda", "amount: 1200.00", "amount: 1300.00")
    live = publisher.publish(*KEEP)["release"]
    old = site.files()
    (site.content / "sculptures" / "raiz.yaml").unlink()  # pages go, chunks are renamed
    site.edit("onda", "amount: 1300.00", "amount: 1400.00")
    new = site.files()

    earlier = len(edge.invalidations())
    killed = publisher.subprocess(*KEEP, fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert_whole(edge, old, new)

    rerun = publisher.subprocess(*KEEP, "--json")
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    release = summary["release"]
    edge.assert_serves(new)
    assert edge.get(f"/{ROOT}esculturas/raiz/") is None
    pointer = live_pointer()
    assert (pointer["release"], pointer["state"], pointer["collect"]) == (release, "live", [])
    if fault.startswith("transfers:"):
        written = int(fault.partition(":")[2])
        assert summary["resumed"] >= written  # what the killed run wrote is not sent again
        assert summary["uploaded"] <= len(changed_keys(old, new)) - written
    stale = url_paths(changed_keys(old, new) & set(old)) | url_paths(set(old) - set(new))
    stale = {path for path in stale if "/pagefind/" not in path and "/img/" not in path}
    invalidated = set().union(*edge.invalidations()[earlier:])
    assert stale <= invalidated

    # Converged: nothing left to do, and only the newest two releases remain.
    assert publisher.publish(*KEEP)["noop"]
    assert [ref[1] for ref in live_pointer()["history"]] == [live, release]
    assert oldest != release


@pytest.mark.slow
def test_a_killed_rollback_is_finished_by_the_next_rollback(
    publisher: Publisher, site: Site, edge: Edge
) -> None:
    publisher.publish()
    old = site.files()
    site.edit("onda", "amount: 1200.00", "amount: 1300.00")
    publisher.publish()
    new = site.files()
    env_fault = {"STOREFRONT_PUBLISH_FAULT": "transfers:1"}
    killed = publisher.subprocess_command("rollback", env=env_fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert_whole(edge, old, new)
    assert live_pointer()["state"] == "changing"
    done = publisher.run("rollback")
    assert done.exit_code == 0, done.output
    edge.assert_serves(old)
    assert live_pointer()["state"] == "live"


@pytest.mark.slow
def test_rollback_after_a_killed_publish_restores_the_last_whole_release(
    publisher: Publisher, site: Site, edge: Edge
) -> None:
    publisher.publish()
    site.edit("onda", "amount: 1200.00", "amount: 1300.00")
    publisher.publish()
    whole = site.files()
    site.edit("onda", "amount: 1300.00", "amount: 1400.00")
    killed = publisher.subprocess(fault="transfers:3")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    back = publisher.run("rollback")
    assert back.exit_code == 0, back.output
    edge.assert_serves(whole)
    assert live_pointer()["state"] == "live"
