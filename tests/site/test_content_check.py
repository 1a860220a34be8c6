"""`check` finds every class of content mistake and names file, line and field."""

from __future__ import annotations

import textwrap
import unicodedata
from pathlib import Path

import pytest
from click.testing import Result
from storefront import create_app
from storefront.content.catalog import Catalog, load_catalog
from storefront.content.models import Sculpture
from storefront.content.problems import ContentError, Problem
from support.paths import PROJECT


def write(path: Path, text: str) -> None:
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_for(content: Path) -> list[Problem]:
    with pytest.raises(ContentError) as caught:
        load_catalog(content)
    return list(caught.value.problems)


def only_problem(content: Path) -> Problem:
    problems = problems_for(content)
    assert len(problems) == 1, problems
    return problems[0]


def run_check(content: Path, *args: str) -> Result:
    app = create_app({"CONTENT_DIR": content})
    return app.test_cli_runner().invoke(args=["check", *args], catch_exceptions=False)


def test_clean_content_loads_into_an_immutable_catalog(content_dir: Path) -> None:
    catalog = load_catalog(content_dir)
    assert isinstance(catalog, Catalog)
    assert sorted(catalog.sculptures) == ["antiga", "onda", "raiz", "rascunho", "vela"]
    assert [s.slug for s in catalog.published] == ["vela", "raiz", "onda"]
    with pytest.raises(TypeError):
        catalog.sculptures["nova"] = catalog.sculptures["onda"]  # type: ignore[index]
    with pytest.raises(ValueError, match="frozen"):
        catalog.sculptures["onda"].title = "Outra"  # type: ignore[misc]
    assert catalog.sculptures["raiz"].materials == ("madeira", "ferro")


def test_clean_content_passes_check_with_a_one_line_summary(content_dir: Path) -> None:
    result = run_check(content_dir)
    assert result.exit_code == 0
    assert result.output == "content OK: 5 sculptures (3 published) by 2 artists\n"


def test_yaml_syntax_error_names_the_line(content_dir: Path) -> None:
    edit(content_dir / "sculptures/onda.yaml", "title: Onda", "title: [Onda")
    problem = only_problem(content_dir)
    assert problem.path.endswith("sculptures/onda.yaml")
    assert problem.field == "(yaml)"
    assert problem.message.startswith("YAML syntax error")
    assert problem.line >= 2


def test_duplicate_key_is_an_error_not_a_silent_overwrite(content_dir: Path) -> None:
    edit(content_dir / "sculptures/onda.yaml", "year: 2020\n", "year: 2020\nyear: 2021\n")
    problem = only_problem(content_dir)
    assert (problem.line, problem.column, problem.field) == (5, 1, "year")
    assert problem.message == "duplicate key 'year' (first defined on line 4)"


def test_duplicate_key_inside_a_nested_mapping(content_dir: Path) -> None:
    edit(content_dir / "sculptures/onda.yaml", "currency: BRL}", "currency: BRL, amount: 5}")
    problem = only_problem(content_dir)
    assert problem.field == "price.amount"
    assert "duplicate key 'amount'" in problem.message


def test_unknown_field_suggests_the_intended_one(content_dir: Path) -> None:
    edit(content_dir / "sculptures/onda.yaml", "title: Onda", "titel: Onda")
    problems = problems_for(content_dir)
    by_field = {p.field: p for p in problems}
    assert by_field["titel"].message == "unknown field 'titel'; did you mean 'title'?"
    assert (by_field["titel"].line, by_field["titel"].column) == (2, 1)
    assert by_field["title"].message == "required field is missing"


def test_unknown_nested_field_is_located_at_its_key(content_dir: Path) -> None:
    edit(content_dir / "sculptures/onda.yaml", "alt: Foto", "atl: Foto")
    problems = {p.field: p for p in problems_for(content_dir)}
    assert problems["images.0.atl"].message == "unknown field 'atl'; did you mean 'alt'?"
    assert problems["images.0.atl"].line == 18


@pytest.mark.parametrize(
    ("old", "new", "field", "expected"),
    [
        ("title: Onda", "title: no", "title", 'YAML reads no as the boolean false; quote it: "no"'),
        ("title: Onda", "title: 2024-05-01", "title", "YAML reads 2024-05-01 as a date"),
        ("edition_size: 1", 'edition_size: "1"', "edition_size", "valid integer"),
        ("featured: true", "featured: sim", "featured", "valid boolean"),
        ("materials: [bronze]", "materials: bronze", "materials", "valid tuple"),
        ("weight_kg: 4.2", "weight_kg: pesado", "weight_kg", "must be a number, not the text"),
    ],
)
def test_wrong_types_are_reported_with_the_yaml_reading_explained(
    content_dir: Path, old: str, new: str, field: str, expected: str
) -> None:
    edit(content_dir / "sculptures/onda.yaml", old, new)
    problem = only_problem(content_dir)
    assert problem.field == field
    assert expected in problem.message


def test_quoted_yaml_11_word_is_a_plain_string(content_dir: Path) -> None:
    edit(content_dir / "sculptures/onda.yaml", "title: Onda", 'title: "no"')
    assert load_catalog(content_dir).sculptures["onda"].title == "no"


def test_missing_required_field_points_at_its_parent(content_dir: Path) -> None:
    edit(content_dir / "sculptures/onda.yaml", ", currency: BRL}", "}")
    problem = only_problem(content_dir)
    assert problem.field == "price.currency"
    assert problem.message == "required field is missing"
    assert problem.line == 11


def test_unknown_artist_reference(content_dir: Path) -> None:
    edit(content_dir / "sculptures/onda.yaml", "artist: ana-lima", "artist: ana-lim")
    problem = only_problem(content_dir)
    assert (problem.field, problem.line, problem.column) == ("artist", 3, 9)
    assert "unknown artist 'ana-lim'" in problem.message
    assert "did you mean 'ana-lima'?" in problem.message


def test_missing_image_file(content_dir: Path) -> None:
    (content_dir / "images/onda.jpg").unlink()
    problem = only_problem(content_dir)
    assert (problem.field, problem.line) == ("images.0.file", 17)
    assert problem.message == "image file images/onda.jpg not found"


def test_empty_alt_text(content_dir: Path) -> None:
    edit(content_dir / "sculptures/onda.yaml", "alt: Foto de Onda.", 'alt: "  "')
    problem = only_problem(content_dir)
    assert problem.field == "images.0.alt"
    assert "at least 1 character" in problem.message


@pytest.mark.parametrize(
    ("old", "new", "field", "expected"),
    [
        ("amount: 1200.00", "amount: 0", "price.amount", "greater than 0"),
        ("amount: 1200.00", "amount: -5", "price.amount", "greater than 0"),
        ("currency: BRL", "currency: XYZ", "price.currency", "'XYZ' is not an ISO 4217"),
        ("currency: BRL", "currency: USD", "price.currency", "the store sells in BRL"),
        ("edition_size: 1", "edition_size: 0", "edition_size", "greater than or equal to 1"),
        ("year: 2020", "year: 2999", "year", "year 2999 is in the future"),
        ("year: 2020", "year: 1950", "year", "before the artist's birth year 1970"),
    ],
)
def test_values_out_of_range(
    content_dir: Path, old: str, new: str, field: str, expected: str
) -> None:
    edit(content_dir / "sculptures/onda.yaml", old, new)
    problem = only_problem(content_dir)
    assert problem.field == field
    assert expected in problem.message


def test_slugs_differing_only_in_case_collide(content_dir: Path) -> None:
    (content_dir / "sculptures/Onda.yaml").write_bytes(
        (content_dir / "sculptures/onda.yaml").read_bytes()
    )
    messages = [p.message for p in problems_for(content_dir)]
    assert any("collides with" in m and "case or Unicode" in m for m in messages), messages


def test_slugs_differing_only_in_unicode_normalisation_collide(content_dir: Path) -> None:
    source = (content_dir / "sculptures/onda.yaml").read_bytes()
    composed = unicodedata.normalize("NFC", "café")
    decomposed = unicodedata.normalize("NFD", "café")
    (content_dir / f"sculptures/{composed}.yaml").write_bytes(source)
    (content_dir / f"sculptures/{decomposed}.yaml").write_bytes(source)
    messages = [p.message for p in problems_for(content_dir)]
    assert any("collides with" in m for m in messages), messages
    assert any("is not a valid slug" in m for m in messages), messages


def test_non_utf8_file_names_the_offending_byte(content_dir: Path) -> None:
    path = content_dir / "artists/ana-lima.yaml"
    path.write_bytes(path.read_bytes().replace(b"bronze", "bronzé".encode("latin-1")))
    problem = only_problem(content_dir)
    assert problem.field == "(file)"
    assert problem.line == 5
    assert "not valid UTF-8 (byte 0xe9)" in problem.message


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n"])
def test_empty_file(content_dir: Path, text: str) -> None:
    (content_dir / "artists/ana-lima.yaml").write_text(text, encoding="utf-8")
    problems = problems_for(content_dir)
    assert Problem("", 1, 1, "(file)", "file is empty").message in [p.message for p in problems]
    assert all(p.path.endswith("ana-lima.yaml") for p in problems)


def test_top_level_list_is_rejected(content_dir: Path) -> None:
    write(content_dir / "artists/ana-lima.yaml", "- name: Ana\n")
    assert only_problem(content_dir).message == "the file must be a mapping of field: value"


def test_slug_field_inside_the_file_is_rejected(content_dir: Path) -> None:
    edit(content_dir / "sculptures/onda.yaml", "title: Onda", "slug: onda\ntitle: Onda")
    assert "the slug is the file name" in only_problem(content_dir).message


def test_missing_site_file(content_dir: Path) -> None:
    (content_dir / "site.yaml").unlink()
    problem = only_problem(content_dir)
    assert problem.path.endswith("site.yaml")
    assert problem.message == "file is missing"


def test_every_problem_in_every_file_is_reported_in_one_pass(content_dir: Path) -> None:
    edit(content_dir / "sculptures/onda.yaml", "edition_size: 1", "edition_size: 0")
    edit(content_dir / "sculptures/raiz.yaml", "year: 2020\n", "year: 2020\nyear: 2020\n")
    edit(content_dir / "artists/bruno-reis.yaml", "country: PT", "country: XX")
    write(content_dir / "sculptures/vela.yaml", "title: [\n")
    problems = problems_for(content_dir)
    files = {Path(p.path).name for p in problems}
    assert files == {"onda.yaml", "raiz.yaml", "bruno-reis.yaml", "vela.yaml"}


def test_check_prints_path_line_column_field_message_and_exits_1(content_dir: Path) -> None:
    edit(content_dir / "sculptures/onda.yaml", "edition_size: 1", "edition_size: 0")
    edit(content_dir / "sculptures/raiz.yaml", "amount: 800.50", "amount: -1")
    result = run_check(content_dir)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(
        "sculptures/onda.yaml:12:15: edition_size: Input should be greater than or equal to 1"
    )
    assert lines[1].endswith(
        "sculptures/raiz.yaml:11:17: price.amount: Input should be greater than 0"
    )
    assert "2 content problems in 2 files" in result.stderr


def test_check_github_format_prints_workflow_annotations(content_dir: Path) -> None:
    edit(content_dir / "sculptures/onda.yaml", "edition_size: 1", "edition_size: 0")
    result = run_check(content_dir, "--format", "github")
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith("::error file=")
    assert "sculptures/onda.yaml,line=12,col=15,title=edition_size::Input should be" in line


def test_python_m_storefront_check_is_the_same_command(content_dir: Path) -> None:
    import subprocess
    import sys

    broken = content_dir / "sculptures/onda.yaml"
    edit(broken, "edition_size: 1", "edition_size: 0")
    result = subprocess.run(
        [sys.executable, "-m", "storefront", "check"],
        env={"STOREFRONT_CONTENT_DIR": str(content_dir), "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "edition_size: Input should be greater than or equal to 1" in result.stdout


def test_sample_catalog_is_valid_and_big_enough() -> None:
    catalog = load_catalog(PROJECT / "content")
    assert len(catalog.artists) >= 4
    assert len(catalog.sculptures) >= 12
    statuses = [s.status for s in catalog.sculptures.values()]
    assert "draft" in statuses
    assert sum(1 for s in catalog.sculptures.values() if s.edition_size == 1) >= 3
    assert any(s.edition_size > 1 for s in catalog.sculptures.values())
    assert all(s.price.currency == "BRL" for s in catalog.sculptures.values())


def test_every_content_file_declares_its_schema_for_editors() -> None:
    for folder, kind in [("artists", "artist"), ("sculptures", "sculpture")]:
        for path in (PROJECT / "content" / folder).glob("*.yaml"):
            first = path.read_text(encoding="utf-8").splitlines()[0]
            assert first == f"# yaml-language-server: $schema=../schema/{kind}.schema.json", path
    site_first = (PROJECT / "content/site.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert site_first == "# yaml-language-server: $schema=schema/site.schema.json"


def test_sculpture_model_is_frozen_and_strict() -> None:
    assert Sculpture.model_config["frozen"] is True
    assert Sculpture.model_config["extra"] == "forbid"


def test_a_duplicate_key_does_not_hide_the_files_other_problems(content_dir: Path) -> None:
    path = content_dir / "sculptures/onda.yaml"
    edit(path, "year: 2020\n", "year: 2020\nyear: 2021\n")
    edit(path, "edition_size: 1", "edition_size: 0")
    fields = [p.field for p in problems_for(content_dir)]
    assert fields == ["year", "edition_size"]
