"""The editors' JSON Schemas are generated from the models and kept in sync."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml
from storefront.content.schema import schema_documents, stale_schemas, write_schemas
from support.paths import FIXTURE_CATALOG, PROJECT


def test_committed_schemas_match_the_models() -> None:
    stale = stale_schemas(PROJECT / "content" / "schema")
    assert stale == [], f"run `flask --app storefront schema` to refresh {stale}"


def test_a_changed_model_makes_the_committed_schema_stale(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    assert stale_schemas(tmp_path) == []
    path = tmp_path / "sculpture.schema.json"
    path.write_text(path.read_text().replace('"title"', '"titulo"', 1))
    assert stale_schemas(tmp_path) == ["sculpture.schema.json"]


def test_schemas_accept_the_fixture_catalog_and_reject_typos() -> None:
    schemas = {name: json.loads(text) for name, text in schema_documents().items()}
    sculpture = yaml.safe_load((FIXTURE_CATALOG / "sculptures/onda.yaml").read_text())
    sculpture["added_on"] = sculpture["added_on"].isoformat()
    validator = jsonschema.Draft202012Validator(schemas["sculpture.schema.json"])
    assert list(validator.iter_errors(sculpture)) == []
    sculpture["titel"] = sculpture.pop("title")
    messages = [error.message for error in validator.iter_errors(sculpture)]
    assert any("'titel' was unexpected" in m for m in messages)
    assert any("'title' is a required property" in m for m in messages)
