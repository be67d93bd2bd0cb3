from __future__ import annotations

import subprocess
from pathlib import Path

from assay.runner.environment import capture


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


def test_git_state_records_commit_and_any_change_including_untracked_files(tmp_path: Path) -> None:
    assert capture(tmp_path / "p.py").git_dirty is None  # not a checkout
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "a@b.c")
    git(tmp_path, "config", "user.name", "a")
    source = tmp_path / "p.py"
    source.write_text("x = 1\n")
    git(tmp_path, "add", "p.py")
    git(tmp_path, "commit", "-qm", "first")
    clean = capture(source)
    assert clean.git_dirty is False
    assert clean.git_commit is not None
    assert len(clean.git_commit) == 40
    (tmp_path / "helper.py").write_text("y = 2\n")  # untracked: not in the commit
    assert capture(source).git_dirty is True
    (tmp_path / "helper.py").unlink()
    source.write_text("x = 2\n")
    assert capture(source).git_dirty is True
