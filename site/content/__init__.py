"""Stage 1, content: the YAML catalog read, validated and indexed.

content/*.yaml -> typed, immutable models (models, yaml_source, validation,
parsing) -> one Catalog, all or nothing (catalog) -> its derived views
(index), loaded once per app (current). Also the editors' JSON Schemas
(schema) and the `check` and `schema` commands (commands).

May import: storefront.common.
"""
