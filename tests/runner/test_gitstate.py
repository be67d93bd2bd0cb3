"""The git state of a run's folder is remembered only while nothing git looks at changed."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from assay.runner import gitstate
from assay.runner.gitstate import GitState, git_state


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "steps.py").write_text("x = 1\n")
    (tmp_path / ".gitignore").write_text(".assay/\n")
    for path in (tmp_path / "pkg" / "steps.py", tmp_path / ".gitignore"):
        # Files changed in the second the index is written are "racily clean": git re-reads
        # them and rewrites the index on every status until that second is past.
        os.utime(path, (time.time() - 10, time.time() - 10))
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "first")
    return tmp_path


@pytest.fixture
def statuses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every time `git status` really runs."""
    calls: list[Path] = []
    real = gitstate._status

    def counting(folder: Path) -> GitState | None:
        calls.append(folder)
        return real(folder)

    monkeypatch.setattr(gitstate, "_status", counting)
    monkeypatch.setattr(gitstate, "_known", {})
    return calls


def test_clean_state_is_remembered_until_something_changes(
    repo: Path, statuses: list[Path]
) -> None:
    head = git(repo, "rev-parse", "HEAD")
    assert git_state(repo) == GitState(head, False)
    assert git_state(repo / "pkg") == GitState(head, False)
    assert len(statuses) == 2  # once per folder asked about, then not while unchanged
    (repo / ".assay" / "artifacts").mkdir(parents=True)  # a new folder: looked at once
    assert git_state(repo) == GitState(head, False)
    for n in range(3):  # what runs write into the ignored store is never looked at
        (repo / ".assay" / "artifacts" / f"blob{n}").write_text("ignored")
        assert git_state(repo) == GitState(head, False)
    assert len(statuses) == 3

    (repo / "pkg" / "steps.py").write_text("x = 2\n")  # same size, new content
    assert git_state(repo) == GitState(head, True)
    git(repo, "commit", "-qam", "second")
    assert git_state(repo) == GitState(git(repo, "rev-parse", "HEAD"), False)


def test_new_untracked_files_anywhere_make_it_dirty(repo: Path, statuses: list[Path]) -> None:
    assert git_state(repo) is not None and not git_state(repo).dirty  # type: ignore[union-attr]
    (repo / "new").mkdir()
    assert not git_state(repo).dirty  # type: ignore[union-attr]  # an empty folder is not a change
    (repo / "new" / "data.csv").write_text("a\n")
    assert git_state(repo).dirty  # type: ignore[union-attr]
    (repo / "new" / "data.csv").unlink()
    (repo / "pkg" / "extra.py").write_text("")
    assert git_state(repo).dirty  # type: ignore[union-attr]


def test_outside_a_repository(tmp_path: Path, statuses: list[Path]) -> None:
    assert git_state(tmp_path) is None


def test_ignored_folders_are_never_walked_even_from_a_subfolder(
    repo: Path, statuses: list[Path]
) -> None:
    (repo / ".assay" / "deep").mkdir(parents=True)
    (repo / ".assay" / "deep" / "blob").write_text("x")
    assert git_state(repo / "pkg") is not None
    known = gitstate._known[str((repo / "pkg").resolve())]
    assert str(repo / ".assay") in known.layout.ignored
    assert all(".assay" not in str(entry) for entry in known.stamp)
