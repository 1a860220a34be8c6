"""JSON Schemas for editors, generated from the content models.

The models are the one definition of the content format; the committed files
in content/schema/ exist so that editors (via the yaml-language-server
modeline) autocomplete and flag mistakes as people type.
"""

from __future__ import annotations

import json
from pathlib import Path

from storefront.content.models import FILE_KINDS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_documents() -> dict[str, str]:
    """File name -> JSON text of every content schema, byte-stable."""
    documents = {}
    for kind, model in FILE_KINDS.items():
        schema = {"$schema": SCHEMA_DIALECT, **model.model_json_schema(mode="validation")}
        schema["title"] = f"Loja de Esculturas: {kind} file"
        documents[f"{kind}.schema.json"] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return documents


def write_schemas(folder: Path) -> list[Path]:
    """Write the schemas, touching only files whose text changed."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_documents().items():
        target = folder / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            written.append(target)
    return written


def stale_schemas(folder: Path) -> list[str]:
    """Names of committed schema files that differ from the models."""
    return [
        name
        for name, text in schema_documents().items()
        if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != text
    ]
