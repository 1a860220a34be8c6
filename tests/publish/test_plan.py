"""The planning core: local files + the live manifest -> actions, with plain data."""

from __future__ import annotations

import pytest
from storefront.publish.plan import (
    FileEntry,
    Manifest,
    ReleaseRef,
    collapse_paths,
    deletes_refused,
    orphan_prefixes,
    plan_release,
    previous_release,
    release_id,
    releases_to_collect,
    stale_paths,
    url_paths,
)

HTML = "text/html; charset=utf-8"
CSS = "text/css; charset=utf-8"
SHORT = "public, max-age=0, s-maxage=300, must-revalidate"
LONG = "public, max-age=31536000, immutable"


def page(sha: str, size: int = 100, cache: str = SHORT) -> FileEntry:
    return FileEntry(sha * 64 if len(sha) == 1 else sha, size, HTML, cache)


def asset(sha: str, size: int = 100) -> FileEntry:
    return FileEntry(sha * 64, size, CSS, LONG)


def live_of(files: dict[str, FileEntry]) -> Manifest:
    return Manifest(release_id(files), "2025-01-01T00:00:00+00:00", files)


SITE = {
    "index.html": page("a"),
    "esculturas/onda/index.html": page("b"),
    "esculturas/raiz/index.html": page("c"),
    "static/site.0a1b2c3d4e.css": asset("d"),
    "feed.atom": FileEntry("e" * 64, 50, "application/atom+xml; charset=utf-8", SHORT),
}


def test_first_publish_uploads_everything_assets_first_and_invalidates_nothing() -> None:
    plan = plan_release(SITE, None)
    assert plan.live is None and not plan.noop
    assert set(plan.upload) == set(SITE) and plan.copy == ()
    assert plan.upload[0] == "static/site.0a1b2c3d4e.css"  # before the pages linking to it
    assert plan.added == tuple(sorted(SITE)) and plan.invalidate == ()
    assert plan.upload_bytes == sum(entry.size for entry in SITE.values())


def test_the_same_build_again_is_a_noop() -> None:
    live = live_of(SITE)
    plan = plan_release(dict(SITE), live)
    assert plan.noop
    assert plan.release == live.release
    assert plan.upload == () and plan.invalidate == () and plan.deleted == ()
    assert set(plan.unchanged) == set(SITE)


def test_a_content_change_with_the_same_size_is_uploaded_and_invalidated() -> None:
    local = {**SITE, "esculturas/onda/index.html": page("f", size=100)}  # one digit changed
    plan = plan_release(local, live_of(SITE))
    assert plan.upload == ("esculturas/onda/index.html",)
    assert plan.changed == ("esculturas/onda/index.html",)
    assert set(plan.copy) == set(SITE) - {"esculturas/onda/index.html"}
    assert plan.invalidate == ("/esculturas/onda/", "/esculturas/onda/index.html")
    assert plan.release != live_of(SITE).release


def test_a_header_only_change_is_uploaded_again() -> None:
    local = {**SITE, "index.html": page("a", cache="no-cache")}
    plan = plan_release(local, live_of(SITE))
    assert plan.upload == ("index.html",)
    assert plan.invalidate == ("/", "/index.html")


def test_a_removed_page_is_deleted_and_invalidated() -> None:
    local = {k: v for k, v in SITE.items() if k != "esculturas/raiz/index.html"}
    plan = plan_release(local, live_of(SITE))
    assert plan.deleted == ("esculturas/raiz/index.html",)
    assert "esculturas/raiz/index.html" not in plan.files
    assert plan.invalidate == ("/esculturas/raiz/", "/esculturas/raiz/index.html")
    assert plan.upload == ()


def test_a_superseded_fingerprinted_asset_is_carried_one_release_not_invalidated() -> None:
    local = {k: v for k, v in SITE.items() if not k.startswith("static/")}
    local["static/site.9f8e7d6c5b.css"] = asset("9")
    live = live_of(SITE)
    plan = plan_release(local, live)
    assert plan.carried == ("static/site.0a1b2c3d4e.css",)
    assert plan.files["static/site.0a1b2c3d4e.css"].carried
    assert "static/site.0a1b2c3d4e.css" in plan.copy
    assert plan.invalidate == ()  # old pages still cached may link to it: keep it valid

    # The release after that drops it for good, and a no-op stays a no-op meanwhile.
    carried_live = plan.manifest("2025-01-02T00:00:00+00:00")
    assert plan_release(dict(local), carried_live).noop
    local["index.html"] = page("7")
    later = plan_release(local, carried_live)
    assert "static/site.0a1b2c3d4e.css" not in later.files
    assert later.deleted == () and later.carried == ()


def test_release_ids_name_the_content_not_the_time() -> None:
    assert release_id(SITE) == release_id(dict(reversed(SITE.items())))
    assert release_id(SITE) != release_id({**SITE, "index.html": page("a", cache="x")})
    carried = {**SITE, "static/old.0a1b2c3d4e.css": FileEntry("1" * 64, 1, CSS, LONG, True)}
    assert release_id(carried) == release_id(SITE)


def test_a_manifest_round_trips_through_json() -> None:
    files = {**SITE, "static/old.0a1b2c3d4e.css": FileEntry("1" * 64, 1, CSS, LONG, True)}
    manifest = Manifest("0123456789abcdef", "2025-01-01T00:00:00+00:00", files, "/loja/")
    assert Manifest.from_json(manifest.to_json()) == manifest
    with pytest.raises(ValueError, match="unsupported manifest version"):
        Manifest.from_json(b'{"version": 99}')


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
    newer = live_of({**SITE, "esculturas/nova/index.html": page("9"), "index.html": page("8")})
    older = live_of(SITE)
    expected = ["/", "/esculturas/nova/", "/esculturas/nova/index.html", "/index.html"]
    assert stale_paths(newer, older) == expected
    assert stale_paths(None, older) == []


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
    plan = plan_release(local, live_of(SITE))
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


def test_prefixes_without_a_manifest_are_orphans_unless_protected() -> None:
    assert orphan_prefixes({"a", "b", "c"}, {"a"}, {"c"}) == ["b"]
