"""A frozen fixture catalog, built once per module into a temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
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
