"""The expression evaluator against the rules in GitHub's documentation
("Evaluate expressions in workflows and actions", "Filter pattern cheat sheet")."""

from __future__ import annotations

from pathlib import Path

import pytest
from workflows.gha_expressions import (
    Context,
    ExpressionError,
    condition,
    evaluate,
    hash_files,
    interpolate,
)
from workflows.path_filters import matches

CONTEXT = Context(
    {
        "github": {
            "event_name": "pull_request",
            "repository": "Owner/Repo",
            "event": {"action": "closed", "pull_request": {"number": 7, "head": {"repo": None}}},
        },
        "inputs": {"rollback-to": ""},
        "vars": {"NAME": "site"},
        "steps": {"url": {"outputs": {"url": "https://x/"}}},
    }
)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("github.event_name == 'PULL_REQUEST'", True),  # strings compare case-insensitively
        ("github.event.action != 'closed'", False),
        ("github.event.pull_request.number", 7),
        ("github.event.pull_request.number == '7'", True),  # mixed types compare as numbers
        ("github.event.pull_request.head.repo.full_name", None),  # missing is null
        ("github.event.pull_request.head.repo.full_name == github.repository", False),
        ("inputs.rollback-to", ""),
        ("inputs.rollback-to || 'previous'", "previous"),  # || returns an operand
        ("vars.NAME && 'yes'", "yes"),
        ("!inputs.rollback-to", True),
        ("steps.url.outputs.url", "https://x/"),
        ("github['event_name']", "pull_request"),
        ("format('{0}-{1}', 'pr', 7)", "pr-7"),
        ("contains('abc', 'B')", True),
        ("startsWith(github.repository, 'owner/')", True),
        ("(1 < 2) && (2 <= 2) && !(3 > 4)", True),
        ("null == 0", True),
        ("'it''s'", "it's"),
    ],
)
def test_expressions_evaluate_as_github_documents(expression: str, expected: object) -> None:
    assert evaluate(expression, CONTEXT) == expected


def test_templates_join_their_pieces_and_a_single_expression_keeps_its_type() -> None:
    assert interpolate("pr-${{ github.event.pull_request.number }}/x", CONTEXT) == "pr-7/x"
    assert interpolate("${{ github.event.pull_request.number }}", CONTEXT) == 7
    assert interpolate("${{ vars.NAME }}, ${{ github.event_name }}", CONTEXT) == (
        "site, pull_request"
    )


def test_conditions_add_success_unless_a_status_function_is_given() -> None:
    failed = Context(CONTEXT.values, failed=True)
    assert condition(None, CONTEXT) is True
    assert condition(None, failed) is False
    assert condition("github.event_name == 'pull_request'", failed) is False
    assert condition("always() && github.event_name == 'pull_request'", failed) is True
    assert condition("${{ failure() }}", failed) is True


@pytest.mark.parametrize(
    "expression",
    ["unknown.context", "nofunction()", "github.event_name ==", "a ? b : c", "1 +"],
)
def test_what_the_evaluator_does_not_know_is_an_error(expression: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expression, CONTEXT)


def test_hash_files_changes_with_content_and_is_empty_without_a_match(tmp_path: Path) -> None:
    (tmp_path / "constraints.txt").write_text("a==1\n")
    first = hash_files(tmp_path, ("constraints.txt",))
    (tmp_path / "constraints.txt").write_text("a==2\n")
    assert len(first) == 64 and hash_files(tmp_path, ("constraints.txt",)) != first
    assert hash_files(tmp_path, ("missing.txt",)) == ""


@pytest.mark.parametrize(
    ("patterns", "path", "expected"),
    [  # GitHub's filter pattern cheat sheet, paths section
        (["*"], "README.md", True),
        (["*"], "docs/README.md", False),
        (["*.jsx?"], "page.js", True),
        (["*.jsx?"], "page.jsx", True),
        (["**"], "all/the/files.md", True),
        (["*.js"], "js/index.js", False),
        (["**.js"], "src/js/app.js", True),
        (["docs/*"], "docs/file.txt", True),
        (["docs/*"], "docs/sub/file.txt", False),
        (["docs/**"], "docs/mona/octocat.txt", True),
        (["docs/**/*.md"], "docs/a/b/file.md", True),
        (["**/docs/**"], "src/docs/file.txt", True),
        (["**/docs/**"], "docs/hello.md", True),
        (["**/README.md"], "a/b/README.md", True),
        (["**/*src/**"], "a/src/b", True),
        (["**/*-post.md"], "my-post.md", True),
        (["*.md", "!README.md"], "README.md", False),
        (["*.md", "!README.md"], "other.md", True),
        (["content/**"], "content/sculptures/x.yaml", True),
        (["Dockerfile"], "api/Dockerfile", False),
    ],
)
def test_path_filters_follow_githubs_cheat_sheet(
    patterns: list[str], path: str, expected: bool
) -> None:
    assert matches(path, patterns) is expected
