"""The planning core: what is served + what should be -> changes, with plain data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from storefront.publish.headers import is_document, is_fingerprinted
from storefront.publish.plan import (
    FileEntry,
    Manifest,
    ReleaseRef,
    collapse_paths,
    deletes_refused,
    plan_change,
    previous_release,
    release_id,
    releases_to_collect,
    served_now,
    stale_paths,
    unreferenced_files,
    url_paths,
)

HTML = "text/html; charset=utf-8"
CSS = "text/css; charset=utf-8"
SHORT = "public, max-age=0, s-maxage=300, must-revalidate"
LONG = "public, max-age=31536000, immutable"


def page(sha: str, size: int = 100, cache: str = SHORT, version: str | None = None) -> FileEntry:
    return FileEntry(sha * 64 if len(sha) == 1 else sha, size, HTML, cache, version)


def asset(sha: str, size: int = 100) -> FileEntry:
    return FileEntry(sha * 64, size, CSS, LONG)


SITE = {
    "index.html": page("a", version="v1"),
    "esculturas/onda/index.html": page("b", version="v2"),
    "esculturas/raiz/index.html": page("c", version="v3"),
    "static/site.0a1b2c3d4e.css": asset("d"),
    "feed.atom": FileEntry("e" * 64, 50, "application/atom+xml; charset=utf-8", SHORT, "v5"),
}


def build(files: dict[str, FileEntry]) -> dict[str, FileEntry]:
    """What a local scan gives: no S3 versions yet."""
    return {
        key: FileEntry(e.sha256, e.size, e.content_type, e.cache_control)
        for key, e in files.items()
    }


def test_first_publish_writes_everything_assets_first_and_invalidates_nothing() -> None:
    plan = plan_change(build(SITE), {})
    assert not plan.noop and set(plan.write) == set(SITE)
    assert plan.write[0] == "static/site.0a1b2c3d4e.css"  # before the pages linking to it
    assert plan.added == tuple(sorted(SITE)) and plan.invalidate == ()
    assert plan.write_bytes() == sum(entry.size for entry in SITE.values())


def test_the_same_build_again_is_a_noop_that_keeps_the_recorded_versions() -> None:
    plan = plan_change(build(SITE), SITE, live=release_id(SITE))
    assert plan.noop and plan.release == release_id(SITE)
    assert plan.write == () and plan.invalidate == () and plan.deleted == ()
    assert plan.manifest("now", {}).files == SITE  # versions carried for rollback


def test_a_content_change_with_the_same_size_is_written_and_invalidated() -> None:
    local = {**build(SITE), "esculturas/onda/index.html": page("f", size=100)}
    plan = plan_change(local, SITE)
    assert plan.write == ("esculturas/onda/index.html",)
    assert plan.changed == ("esculturas/onda/index.html",)
    assert plan.invalidate == ("/esculturas/onda/", "/esculturas/onda/index.html")
    written = plan.manifest("now", {"esculturas/onda/index.html": "v9"})
    assert written.files["esculturas/onda/index.html"].version == "v9"
    assert written.files["index.html"].version == "v1"


def test_a_header_only_change_is_written_again() -> None:
    local = {**build(SITE), "index.html": page("a", cache="no-cache")}
    plan = plan_change(local, SITE)
    assert plan.write == ("index.html",)
    assert plan.invalidate == ("/", "/index.html")


def test_a_removed_page_is_deleted_and_invalidated() -> None:
    local = {k: v for k, v in build(SITE).items() if k != "esculturas/raiz/index.html"}
    plan = plan_change(local, SITE)
    assert plan.delete == ("esculturas/raiz/index.html",) and plan.kept == ()
    assert plan.invalidate == ("/esculturas/raiz/", "/esculturas/raiz/index.html")
    assert plan.write == ()


def test_a_superseded_fingerprinted_asset_is_kept_not_deleted_nor_invalidated() -> None:
    local = {k: v for k, v in build(SITE).items() if not k.startswith("static/")}
    local["static/site.9f8e7d6c5b.css"] = asset("9")
    plan = plan_change(local, SITE)
    assert plan.kept == ("static/site.0a1b2c3d4e.css",) and plan.delete == ()
    assert plan.invalidate == ()  # old pages still cached may link to it: keep it valid
    assert "static/site.0a1b2c3d4e.css" not in plan.files


def test_new_pages_go_before_the_changed_pages_that_may_link_to_them() -> None:
    local = {
        **build(SITE),
        "index.html": page("1"),  # changed: now links to the new page
        "esculturas/nova/index.html": page("2"),
        "static/site.1234567890.css": asset("3"),
    }
    plan = plan_change(local, SITE)
    assert plan.write == (
        "static/site.1234567890.css",
        "esculturas/nova/index.html",
        "index.html",
    )


def test_what_an_interrupted_run_left_is_looked_at_key_by_key() -> None:
    found = {"index.html": page("z", version="v7"), "esculturas/raiz/index.html": None}
    served = served_now(SITE, found)
    assert served["index.html"].sha256 == "z" * 64 and "esculturas/raiz/index.html" not in served
    plan = plan_change(build(SITE), served)
    assert set(plan.write) == {"index.html", "esculturas/raiz/index.html"}


def test_release_ids_name_the_content_not_the_time_nor_the_versions() -> None:
    assert release_id(SITE) == release_id(dict(reversed(SITE.items())))
    assert release_id(SITE) == release_id(build(SITE))
    assert release_id(SITE) != release_id({**SITE, "index.html": page("a", cache="x")})


def test_a_manifest_round_trips_through_json() -> None:
    manifest = Manifest("0123456789abcdef", "2025-01-01T00:00:00+00:00", SITE, "/loja/")
    assert Manifest.from_json(manifest.to_json()) == manifest
    with pytest.raises(ValueError, match="unsupported manifest version"):
        Manifest.from_json(b'{"version": 1}')


KEYS = st.sampled_from(
    [
        "index.html",
        "a/index.html",
        "b/index.html",
        "feed.atom",
        "pagefind/pagefind-entry.json",
        "static/site.0a1b2c3d4e.css",
        "static/site.9f8e7d6c5b.css",
        "img/x-0a1b2c3d4e5f-400.webp",
        "pagefind/index/pt_abcdef1.pf_index",
    ]
)
TREES = st.dictionaries(KEYS, st.sampled_from("0123"), max_size=9).map(
    lambda tree: {
        key: FileEntry(sha * 64, 10, "x", LONG if is_fingerprinted(key) else SHORT)
        for key, sha in tree.items()
    }
)


@given(served=TREES, target=TREES)
def test_applying_a_plan_serves_the_target_and_keeps_what_cached_pages_need(
    served: dict[str, FileEntry], target: dict[str, FileEntry]
) -> None:
    """An independent model of S3: a dict the plan's writes and deletes are applied to."""
    plan = plan_change(target, served)
    bucket = dict(served)
    order = []
    for key in plan.write:
        bucket[key] = target[key]
        order.append(key)
    for key in plan.delete:
        del bucket[key]
    assert {k: bucket[k] for k in target} == target  # every target key holds its bytes
    extra = set(bucket) - set(target)
    assert extra == set(plan.kept) and all(is_fingerprinted(key) for key in extra)
    documents = [i for i, key in enumerate(order) if is_document(key)]
    assets = [i for i, key in enumerate(order) if not is_document(key)]
    assert not documents or not assets or max(assets) < min(documents)
    changed = {k for k in served if k in target and not served[k].same_object(target[k])}
    removed = {k for k in served if k not in target and not is_fingerprinted(k)}
    assert set(plan.invalidate) == {p for k in changed | removed for p in url_paths(k)}


@pytest.mark.parametrize(
    ("key", "paths"),
    [
        ("index.html", ["/", "/index.html"]),
        (
            "loja/esculturas/onda/index.html",
            ["/loja/esculturas/onda/", "/loja/esculturas/onda/index.html"],
        ),
        ("404.html", ["/404.html"]),
        ("feed.atom", ["/feed.atom"]),
        (
            "temas/figura feminina/index.html",
            ["/temas/figura%20feminina/", "/temas/figura%20feminina/index.html"],
        ),
    ],
)
def test_url_paths_cover_the_directory_url_of_an_index(key: str, paths: list[str]) -> None:
    assert url_paths(key) == paths


def test_stale_paths_between_two_releases_for_rollback() -> None:
    newer = {**SITE, "esculturas/nova/index.html": page("9"), "index.html": page("8")}
    expected = ["/", "/esculturas/nova/", "/esculturas/nova/index.html", "/index.html"]
    assert stale_paths(newer, SITE) == expected
    assert stale_paths({}, SITE) == []
    assert stale_paths(newer, SITE, "/previews/pr-1/")[0] == "/previews/pr-1/"


def test_few_paths_are_invalidated_one_by_one() -> None:
    paths = [f"/esculturas/p{i}/" for i in range(5)]
    assert collapse_paths(paths, max_paths=5) == sorted(paths)


def test_many_paths_collapse_to_folder_wildcards_not_to_everything() -> None:
    paths = [f"/esculturas/p{i}/{name}" for i in range(50) for name in ("", "index.html")]
    paths += ["/", "/index.html", "/feed.atom", "/temas/a/", "/temas/a/index.html"]
    collapsed = collapse_paths(paths, max_paths=10)
    assert collapsed == [
        "/",
        "/esculturas/*",
        "/feed.atom",
        "/index.html",
        "/temas/a/",
        "/temas/a/index.html",
    ]


def test_the_deepest_folder_wins_when_it_removes_as_many_paths() -> None:
    paths = [f"/a/b/{i}.html" for i in range(6)] + ["/x.html"]
    assert collapse_paths(paths, max_paths=3) == ["/a/b/*", "/x.html"]


def test_everything_is_invalidated_only_when_no_few_wildcards_fit() -> None:
    paths = [f"/f{i}/{j}.html" for i in range(20) for j in range(3)]
    assert collapse_paths(paths, max_paths=10, max_wildcards=15) == ["/*"]
    # 15 wildcards each save 2 of the 60 paths: 30 fit in 30, not in 29.
    assert collapse_paths(paths, max_paths=29, max_wildcards=15) == ["/*"]
    fitted = collapse_paths(paths, max_paths=30, max_wildcards=15)
    assert len(fitted) == 30 and sum(path.endswith("/*") for path in fitted) == 15


def test_the_site_root_bounds_wildcards() -> None:
    paths = [f"/loja/{i}.html" for i in range(20)]
    assert collapse_paths(paths, max_paths=5, root="/loja/") == ["/loja/*"]


def test_the_delete_guard() -> None:
    local = {k: v for k, v in SITE.items() if not k.startswith("esculturas/")}
    plan = plan_change(local, SITE)
    refusal = deletes_refused(plan, max_deletes=1, force=False)
    assert refusal is not None and "refusing to delete 2 files" in refusal
    assert "esculturas/onda/index.html" in refusal
    assert deletes_refused(plan, max_deletes=2, force=False) is None
    assert deletes_refused(plan, max_deletes=0, force=True) is None


def refs(*pairs: tuple[str, str]) -> list[ReleaseRef]:
    return [ReleaseRef(stamp, release) for stamp, release in pairs]


def test_the_previous_release_is_the_newest_one_created_before_the_live_one() -> None:
    history = refs(("1", "a" * 16), ("2", "b" * 16), ("3", "c" * 16))
    assert previous_release(history, "c" * 16) == ReleaseRef("2", "b" * 16)
    assert previous_release(history, "b" * 16) == ReleaseRef("1", "a" * 16)
    assert previous_release(history, "a" * 16) is None
    assert previous_release(history, None) is None


def test_garbage_collection_keeps_the_newest_n_and_never_a_protected_one() -> None:
    history = refs(*((str(i), f"{i:016x}") for i in range(1, 8)))
    doomed = releases_to_collect(history, keep=3, protect=[f"{7:016x}", f"{2:016x}"])
    assert [ref.release for ref in doomed] == [f"{i:016x}" for i in (4, 3, 1)]
    assert releases_to_collect(history, keep=10, protect=[]) == []


def test_collection_deletes_fingerprinted_files_only_collected_releases_used() -> None:
    old = Manifest("a" * 16, "", {**SITE, "static/old.1a2b3c4d5e.css": asset("1")})
    kept = Manifest("b" * 16, "", {**SITE, "static/mid.2b3c4d5e6f.css": asset("2")})
    assert unreferenced_files([old], [kept], []) == ["static/old.1a2b3c4d5e.css"]
    assert unreferenced_files([old], [kept], ["static/old.1a2b3c4d5e.css"]) == []
    gone_page = Manifest("c" * 16, "", {"sobre/index.html": page("3")})
    assert unreferenced_files([gone_page], [kept], []) == []  # deleted when it left the site
