"""A publish killed at any point leaves a whole release serving; the next run converges.

The child process is `python -m storefront publish`, made to SIGKILL itself at a
named point by STOREFRONT_PUBLISH_FAULT (see storefront.publish.releases._checkpoint).
"""

from __future__ import annotations

import json
import signal

import pytest
from publish.harness import (
    BUCKET,
    Edge,
    Publisher,
    Site,
    changed_keys,
    client,
    live_pointer,
    url_paths,
)

KEEP = ("--keep-releases", "2")


def release_prefixes() -> set[str]:
    listed = client("s3").list_objects_v2(Bucket=BUCKET, Prefix="releases/", Delimiter="/")
    return {p["Prefix"].split("/")[1] for p in listed.get("CommonPrefixes", [])}


def manifests() -> set[str]:
    listed = client("s3").list_objects_v2(Bucket=BUCKET, Prefix="_releases/")
    return {o["Key"].split(".")[1] for o in listed["Contents"] if o["Key"].endswith(".json.gz")}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "switched"),
    [
        ("transfers:3", False),  # some objects of the new release uploaded or copied
        ("manifest", False),  # new release complete, nothing switched
        ("intent", False),  # the bucket says a switch is starting
        ("switch", True),  # origin switched, stale paths not yet invalidated
        ("invalidate", True),  # invalidated, the bucket still says "switching"
        ("gc", True),  # an old release half garbage-collected
    ],
)
def test_a_killed_publish_never_breaks_the_site_and_the_next_run_converges(
    publisher: Publisher, site: Site, edge: Edge, fault: str, switched: bool
) -> None:
    oldest = publisher.publish(*KEEP)["release"]
    site.edit("onda", "amount: 1200.00", "amount: 1300.00")
    live = publisher.publish(*KEEP)["release"]
    old = site.files()
    site.edit("onda", "amount: 1300.00", "amount: 1400.00")
    new = site.files()

    earlier = len(edge.invalidations())
    killed = publisher.subprocess(*KEEP, fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    edge.assert_serves(new if switched else old)  # whole releases only, never a mix

    rerun = publisher.subprocess(*KEEP, "--json")
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    release = summary["release"]
    edge.assert_serves(new)
    assert live_pointer() == {**live_pointer(), "release": release, "state": "live"}
    if fault == "transfers:3":
        assert summary["resumed"] >= 3  # what the killed run wrote is not sent again
    stale = url_paths(changed_keys(old, new) & set(old))
    assert any(set(paths) == stale for paths in edge.invalidations()[earlier:])

    # Converged: nothing left to do, and only the newest two releases remain.
    assert publisher.publish(*KEEP)["noop"]
    assert release_prefixes() == manifests() == {live, release}
    assert oldest not in release_prefixes()
