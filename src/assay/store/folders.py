"""A folder as content: its files (hidden ones and links to nothing left out) and the
manifest of their digests, whose own digest changes exactly when a file is added, removed,
renamed or edited."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from assay.core import sha256_hex

__all__ = ["folder_digest", "folder_files", "manifest_bytes"]


def folder_files(folder: Path) -> list[Path]:
    """The files under ``folder``, sorted; hidden files and folders are left out."""
    found = []
    for top, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # never descend into .git, .venv
        # A link to nothing has no content to record; it is left out like a hidden file.
        found += [
            Path(top) / n for n in names if not n.startswith(".") and (Path(top) / n).exists()
        ]
    return sorted(found)


def manifest_bytes(manifest: Mapping[str, str]) -> bytes:
    """The stored form of a folder: JSON of relative path to the sha256 of its bytes."""
    return json.dumps(dict(manifest), sort_keys=True, separators=(",", ":")).encode()


def folder_digest(folder: Path) -> tuple[str, int] | None:
    """The digest a folder has as an artifact (a pipeline's ``Path`` input), and how many
    files it holds; None when it does not exist or holds none. Reads every file."""
    if not folder.is_dir():
        return None
    files = folder_files(folder)
    if not files:
        return None
    manifest = {f.relative_to(folder).as_posix(): sha256_hex(f.read_bytes()) for f in files}
    return sha256_hex(manifest_bytes(manifest)), len(files)
