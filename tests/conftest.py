"""Fixtures shared by every suite: the fixture catalog and the project paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.paths import FIXTURE_CATALOG


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A private, writable copy of the small fixture catalog."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURE_CATALOG, target)
    return target
