"""Where the project and the test fixtures live, for every suite."""

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
FIXTURE_CATALOG = PROJECT / "tests" / "fixtures" / "catalog"
