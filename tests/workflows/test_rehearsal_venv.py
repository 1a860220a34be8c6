"""The rehearsal's workspaces use the project's .venv and can never change it."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from workflows.rehearsal import PROJECT, link_project_venv


def test_make_install_in_a_workspace_is_a_no_op_even_when_the_project_stamp_is_stale(tmp_path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy2(PROJECT / name, workspace / name)
    shutil.copytree(PROJECT / "mk", workspace / "mk")
    # A checkout newer than the project's install, as after a pull: the stamp is stale.
    later = time.time() + 3600
    for name in ("pyproject.toml", "constraints.txt"):
        os.utime(workspace / name, (later, later))
    link_project_venv(workspace / ".venv")
    os.utime(workspace / ".venv" / ".installed", (later + 1, later + 1))

    up_to_date = subprocess.run(["make", "-q", "install"], cwd=workspace, check=False)
    assert up_to_date.returncode == 0  # nothing to do: pip never runs against the project
    assert not (workspace / ".venv" / ".installed").is_symlink()
    assert (workspace / ".venv" / "bin").resolve() == (PROJECT / ".venv" / "bin").resolve()
    assert (PROJECT / ".venv" / ".installed").stat().st_mtime < later  # the project's untouched
