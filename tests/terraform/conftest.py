"""Fixtures for the Terraform structure tests: every .tf file is parsed once per session."""

from __future__ import annotations

import pytest
from terraform.tfestate import Config, Estate, load_estate


@pytest.fixture(scope="session")
def estate() -> Estate:
    """The whole terraform/ tree, parsed once (python-hcl2 builds its grammar on first use)."""
    return load_estate()


@pytest.fixture(scope="session")
def modules(estate: Estate) -> dict[str, Config]:
    return estate.modules


@pytest.fixture(scope="session")
def production(estate: Estate) -> Config:
    return estate.production
