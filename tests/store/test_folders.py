"""A folder as content: the digest a data trigger watches is the digest the runner gives the
same folder as a pipeline input."""

from __future__ import annotations

import os
from pathlib import Path

from assay.runner.imports import import_path
from assay.store import ArtifactStore, MemoryBlobStorage, folder_digest, folder_files


def test_the_digest_is_the_folders_artifact_digest(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.csv").write_text("text,label\nup,positive\n")
    (tmp_path / "sub" / "b.csv").write_text("text,label\n")
    record, members = import_path(ArtifactStore(MemoryBlobStorage()), tmp_path, "step", "data")
    assert folder_digest(tmp_path) == (record.digest, len(members)) == (record.digest, 2)
    (tmp_path / "a.csv").write_text("text,label\ndown,negative\n")
    changed = folder_digest(tmp_path)
    assert changed is not None and changed[0] != record.digest


def test_hidden_files_folders_and_dangling_links_are_left_out(tmp_path: Path) -> None:
    assert folder_digest(tmp_path / "missing") is None
    (tmp_path / ".hidden").write_text("x")
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / ".git" / "objects" / "blob").write_text("x")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    assert folder_files(tmp_path) == [] and folder_digest(tmp_path) is None
    (tmp_path / "data.csv").write_text("x")
    assert folder_files(tmp_path) == [tmp_path / "data.csv"]
