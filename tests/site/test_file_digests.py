"""Content file digests are reused across builds only while a file cannot have changed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from storefront.common import file_digests
from storefront.common.file_digests import FileDigests
from storefront.content.catalog import load_catalog
from support.file_times import settle
from support.spying import record_calls


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "sculptures"
    folder.mkdir()
    for name in ("a.yaml", "b.yaml", "c.yaml"):
        (folder / name).write_bytes(f"title: {name}\n".encode())
    return folder


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files whose bytes were read."""
    return record_calls(monkeypatch, file_digests, "_sha256")


def build(folder: Path, state: Path, names: list[str]) -> list[str]:
    digests = FileDigests(state)
    found = digests.digests(folder, names)
    digests.save()
    return found


def test_digests_are_the_sha256_of_each_file(folder: Path, tmp_path: Path) -> None:
    names = ["a.yaml", "c.yaml"]
    expected = [sha((folder / n).read_bytes()) for n in names]
    assert build(folder, tmp_path / "state", names) == expected
    assert FileDigests(None).digests(folder, names) == expected


@pytest.mark.usefixtures("no_racy_window")
def test_sizes_come_with_the_digests_fresh_or_remembered(folder: Path, tmp_path: Path) -> None:
    (folder / "b.yaml").write_bytes(b"a longer file than the others\n" * 3)
    names = ["a.yaml", "b.yaml", "c.yaml"]
    expected = [(sha((folder / n).read_bytes()), (folder / n).stat().st_size) for n in names]
    state = tmp_path / "state"
    for _build in range(2):  # read, then remembered
        digests = FileDigests(state)
        assert digests.digests_and_sizes(folder, names) == expected
        digests.save()


@pytest.mark.usefixtures("no_racy_window")
def test_unchanged_old_files_are_not_read_again(
    folder: Path, tmp_path: Path, reads: list[str]
) -> None:
    state = tmp_path / "state"
    first = build(folder, state, ["a.yaml", "b.yaml", "c.yaml"])
    reads.clear()
    assert build(folder, state, ["a.yaml", "b.yaml", "c.yaml"]) == first
    assert reads == []


@pytest.mark.usefixtures("no_racy_window")
def test_a_rewrite_with_the_same_size_and_mtime_is_seen(
    folder: Path, tmp_path: Path, reads: list[str]
) -> None:
    """rsync -t or an archive can restore a file's mtime; they cannot restore its ctime."""
    state = tmp_path / "state"
    build(folder, state, ["a.yaml", "b.yaml"])
    path = folder / "b.yaml"
    before = path.stat()
    settle()
    with path.open("r+b") as handle:  # in place: same inode, same size
        handle.write(b"TITLE")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    reads.clear()
    assert build(folder, state, ["a.yaml", "b.yaml"])[1] == sha(path.read_bytes())
    assert reads == ["b.yaml"]


def test_a_file_changed_near_the_last_build_is_read_again(
    folder: Path, tmp_path: Path, reads: list[str]
) -> None:
    """Its change and the last read may have fallen in one clock tick, leaving its times as read."""
    state = tmp_path / "state"
    build(folder, state, ["a.yaml"])
    reads.clear()
    build(folder, state, ["a.yaml"])
    assert reads == ["a.yaml"]  # written within RACY_NS of the build that recorded it


@pytest.mark.usefixtures("no_racy_window")
def test_added_and_removed_files_are_followed(folder: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    build(folder, state, ["a.yaml", "b.yaml"])
    (folder / "b.yaml").unlink()
    (folder / "d.yaml").write_bytes(b"title: d\n")
    assert build(folder, state, ["a.yaml", "d.yaml"])[1] == sha(b"title: d\n")
    (folder / "b.yaml").write_bytes(b"title: b again\n")
    assert build(folder, state, ["b.yaml"]) == [sha(b"title: b again\n")]


def test_a_damaged_state_file_only_means_reading_every_file(
    folder: Path, tmp_path: Path, reads: list[str]
) -> None:
    state = tmp_path / "state"
    state.write_bytes(b"\x80\x05not a pickle")
    assert build(folder, state, ["a.yaml"]) == [sha((folder / "a.yaml").read_bytes())]
    assert reads == ["a.yaml"]


def test_a_missing_file_is_an_error_not_a_stale_digest(folder: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    build(folder, state, ["a.yaml"])
    (folder / "a.yaml").unlink()
    with pytest.raises(FileNotFoundError):
        build(folder, state, ["a.yaml"])


@pytest.mark.usefixtures("no_racy_window")
def test_the_catalog_sees_an_edit_that_keeps_size_and_mtime(
    content_dir: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "content.pickle"
    assert load_catalog(content_dir, cache).sculptures["vela"].title == "Vela"
    path = content_dir / "sculptures/vela.yaml"
    before = path.stat()
    settle()
    path.write_text(path.read_text(encoding="utf-8").replace("Vela", "Bela"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert load_catalog(content_dir, cache).sculptures["vela"].title == "Bela"
