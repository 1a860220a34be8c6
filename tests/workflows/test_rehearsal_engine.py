"""How the rehearsal runs a workflow: the parts of GitHub's runner it reproduces,
and its refusals, on small workflows written here (no emulator needed)."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest
from workflows import rehearsal as rehearsal_module
from workflows.rehearsal import Event, Rehearsal, RehearsalError, StandIns, role_access_key
from workflows.standins import SYSTEM_PATH
from workflows.workflow_files import load


def _rehearse(tmp_path: Path, text: str, event: Event | None = None) -> Rehearsal:
    path = tmp_path / "synthetic.yml"
    path.write_text(textwrap.dedent(text))
    load.cache_clear()
    stand_ins = StandIns(
        variables={"GREETING": "olá"},
        runner_env={"PATH": SYSTEM_PATH, "HOME": str(tmp_path), "LANG": "C.UTF-8"},
        aws_credentials={},
        store=tmp_path / "store",
    )
    rehearsal = Rehearsal(
        load(path), event or Event("push"), stand_ins, tmp_path / "work", io.StringIO()
    )
    rehearsal.run()
    return rehearsal


def test_outputs_env_path_and_conditions_flow_as_on_github(tmp_path: Path) -> None:
    rehearsal = _rehearse(
        tmp_path,
        """
        on: push
        defaults: {run: {shell: bash}}
        env:
          WHO: ${{ vars.GREETING }}, ${{ github.event_name }}
        jobs:
          first:
            runs-on: ubuntu-24.04
            outputs:
              word: ${{ steps.say.outputs.word }}
            steps:
              - id: say
                run: |
                  echo "word=$WHO" >> "$GITHUB_OUTPUT"
                  echo "LATER=set by GITHUB_ENV" >> "$GITHUB_ENV"
                  mkdir -p tools && printf '#!/bin/sh\\necho from-path\\n' > tools/hello
                  chmod +x tools/hello && echo "$PWD/tools" >> "$GITHUB_PATH"
              - run: echo "$LATER / $(hello)" >> "$GITHUB_STEP_SUMMARY"
              - if: github.event_name == 'pull_request'
                run: exit 1
          second:
            needs: first
            runs-on: ubuntu-24.04
            steps:
              - env:
                  WORD: ${{ needs.first.outputs.word }}
                run: echo "$WORD" >> "$GITHUB_STEP_SUMMARY"
          never:
            if: github.event_name == 'workflow_dispatch'
            runs-on: ubuntu-24.04
            steps:
              - run: exit 1
        """,
    )
    assert rehearsal.summaries == {
        "first": "set by GITHUB_ENV / from-path\n",
        "second": "olá, push\n",
    }
    outcomes = [(r.where.split(" > ", 1)[1], r.outcome) for r in rehearsal.reports]
    assert ("first > step 3 (exit 1)", "not run (condition)") in outcomes
    assert ("never", "not run (condition)") in outcomes


def test_a_failing_command_in_a_pipe_fails_its_step_under_shell_bash(tmp_path: Path) -> None:
    workflow = """
        on: push
        defaults: {run: {shell: bash}}
        jobs:
          job:
            runs-on: ubuntu-24.04
            steps:
              - name: pipe
                run: false | cat
              - name: after
                run: echo unreachable
    """
    with pytest.raises(RehearsalError, match=r"job > step 1 \(pipe\): exit status 1"):
        _rehearse(tmp_path, workflow)


def test_an_action_without_a_stand_in_is_refused(tmp_path: Path) -> None:
    workflow = """
        on: push
        jobs:
          job:
            runs-on: ubuntu-24.04
            steps:
              - uses: some/action@0123456789abcdef0123456789abcdef01234567
    """
    with pytest.raises(RehearsalError, match="no stand-in for action some/action"):
        _rehearse(tmp_path, workflow)


def test_a_skipped_step_that_no_longer_exists_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        rehearsal_module.SKIPPED_STEPS, ("synthetic.yml", "job", "Renamed"), "needs GitHub"
    )
    workflow = """
        on: push
        jobs:
          job:
            runs-on: ubuntu-24.04
            steps:
              - name: Something else
                run: "true"
    """
    with pytest.raises(RehearsalError, match="skips steps that no longer exist"):
        _rehearse(tmp_path, workflow)


def test_a_step_the_table_names_is_reported_skipped_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        rehearsal_module.SKIPPED_STEPS, ("synthetic.yml", "job", "Talk to GitHub"), "needs GitHub"
    )
    rehearsal = _rehearse(
        tmp_path,
        """
        on: push
        jobs:
          job:
            runs-on: ubuntu-24.04
            steps:
              - name: Talk to GitHub
                run: exit 1
        """,
    )
    assert [(r.outcome, r.detail) for r in rehearsal.reports] == [("skipped", "needs GitHub")]


def test_artifacts_travel_between_jobs_and_a_missing_one_fails(tmp_path: Path) -> None:
    upload = "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f"
    download = "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c"
    rehearsal = _rehearse(
        tmp_path,
        f"""
        on: push
        jobs:
          make:
            runs-on: ubuntu-24.04
            steps:
              - run: mkdir out && echo made > out/file.txt
              - uses: {upload}
                with: {{name: thing, path: out, if-no-files-found: error}}
          use:
            needs: make
            runs-on: ubuntu-24.04
            steps:
              - uses: {download}
                with: {{name: thing, path: got}}
              - run: cat got/file.txt >> "$GITHUB_STEP_SUMMARY"
        """,
    )
    assert rehearsal.summaries["use"] == "made\n"
    with pytest.raises(RehearsalError, match="no artifact 'other'"):
        _rehearse(
            tmp_path,
            f"""
            on: push
            jobs:
              use:
                runs-on: ubuntu-24.04
                steps:
                  - uses: {download}
                    with: {{name: other}}
            """,
        )


def test_assuming_a_role_exports_the_stand_in_credentials_only_from_then_on(
    tmp_path: Path,
) -> None:
    configure = "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c"
    path = tmp_path / "synthetic.yml"
    path.write_text(
        textwrap.dedent(
            f"""
            on: push
            jobs:
              job:
                runs-on: ubuntu-24.04
                steps:
                  - run: echo "before=${{AWS_ACCESS_KEY_ID:-none}}" >> "$GITHUB_STEP_SUMMARY"
                  - uses: {configure}
                    with:
                      role-to-assume: arn:aws:iam::123456789012:role/x
                      aws-region: eu-west-1
                  - run: echo "after=$AWS_ACCESS_KEY_ID $AWS_REGION" >> "$GITHUB_STEP_SUMMARY"
            """
        )
    )
    load.cache_clear()
    stand_ins = StandIns(
        {},
        {"PATH": SYSTEM_PATH, "HOME": str(tmp_path)},
        {"AWS_ACCESS_KEY_ID": "testing"},
        tmp_path / "store",
    )
    rehearsal = Rehearsal(load(path), Event("push"), stand_ins, tmp_path / "work", io.StringIO())
    rehearsal.run()
    key = role_access_key("arn:aws:iam::123456789012:role/x")
    assert rehearsal.summaries["job"] == f"before=none\nafter={key} eu-west-1\n"
    skipped = [r for r in rehearsal.reports if r.outcome == "skipped"]
    assert len(skipped) == 1 and skipped[0].detail.startswith("needs GitHub and AWS: OIDC")
