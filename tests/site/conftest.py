"""A frozen fixture catalog, built once per module into a temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.file_times import settle
from support.paths import FIXTURE_CATALOG
from support.site_build import freeze


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """build/site of the fixture catalog."""
    work = tmp_path_factory.mktemp("frozen")
    content = work / "content"
    shutil.copytree(FIXTURE_CATALOG, content)
    freeze(content, work)
    return work / "site"


@pytest.fixture
def no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recorded file stats are trusted at once, and files written so far are older than now.

    A build trusts a file's recorded stat only once the file is older than the
    recording by file_digests.RACY_NS (2 s); tests do not wait that long.
    """
    from storefront.common import file_digests

    monkeypatch.setattr(file_digests, "RACY_NS", 0)
    settle()
