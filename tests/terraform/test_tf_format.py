"""Every .tf file parses and is formatted the way `terraform fmt` formats it."""

from __future__ import annotations

import pytest
from terraform.tfestate import TERRAFORM, Estate, tf_files

from terraform import hclfmt

FILES = tf_files()


def test_the_tree_has_terraform_files() -> None:
    assert len(FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_file_parses(estate: Estate, path) -> None:
    assert path not in estate.parse_errors, estate.parse_errors.get(path)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_file_is_canonically_formatted(path) -> None:
    text = path.read_text()
    expected = hclfmt.canonical(text)
    if text != expected:
        diff = [
            f"line {n}: {got!r} -> {want!r}"
            for n, (got, want) in enumerate(
                zip(text.splitlines(), expected.splitlines(), strict=True), start=1
            )
            if got != want
        ]
        pytest.fail("not in `terraform fmt` style:\n" + "\n".join(diff[:10]))


# The checker itself: each case is input -> what terraform fmt (1.0.3) produced.
FORMAT_CASES = {
    "aligns equals signs of consecutive attributes": (
        "x {\n  a = 1\n  long_name = 2\n}\n",
        "x {\n  a         = 1\n  long_name = 2\n}\n",
    ),
    "a blank line or a block breaks the alignment": (
        "x {\n  a = 1\n\n  long_name = 2\n  b {\n    c = 3\n  }\n}\n",
        "x {\n  a = 1\n\n  long_name = 2\n  b {\n    c = 3\n  }\n}\n",
    ),
    "re-indents by nesting, two spaces": (
        'x {\ny {\n        z = [\n"a",\n  ]\n}\n}\n',
        'x {\n  y {\n    z = [\n      "a",\n    ]\n  }\n}\n',
    ),
    "normalises spaces between tokens": (
        'a = f( 1,2 )\nb = [ "x" ,"y" ]\nc = { k = 1 }\nd = ! var.x\ne = - 1\n',
        'a = f(1, 2)\nb = ["x", "y"]\nc = { k = 1 }\nd = !var.x\ne = -1\n',
    ),
    "aligns trailing comments": (
        "a = 1 # one\nlong = 2 # two\n",
        "a    = 1 # one\nlong = 2 # two\n",
    ),
    "strips trailing whitespace": ("a = 1   \n", "a = 1\n"),
    "unwraps interpolation-only strings and quoted types": (
        'variable "v" {\n  type = "string"\n}\na = "${var.x}"\nb = "${var.x}-y"\n',
        'variable "v" {\n  type = string\n}\na = var.x\nb = "${var.x}-y"\n',
    ),
    "leaves heredoc bodies alone": (
        "a = <<-EOT\n    keep   this\n  EOT\n",
        "a = <<-EOT\n    keep   this\n  EOT\n",
    ),
}


@pytest.mark.parametrize("source,expected", FORMAT_CASES.values(), ids=FORMAT_CASES.keys())
def test_formatter_matches_terraform_fmt(source: str, expected: str) -> None:
    assert hclfmt.canonical(source) == expected
    assert hclfmt.canonical(expected) == expected


def test_formatter_rejects_what_it_cannot_read() -> None:
    with pytest.raises(hclfmt.HclSyntaxError, match="unterminated string"):
        hclfmt.canonical('a = "open')
    with pytest.raises(hclfmt.HclSyntaxError, match="newline in a quoted string"):
        hclfmt.canonical('a = "open\nb = 1\n')
