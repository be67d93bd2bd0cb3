"""Bringing files and folders named by ``pathlib.Path`` parameters into the artifact store."""

from __future__ import annotations

import time
from pathlib import Path

from assay.errors import DataError
from assay.metadata import ArtifactRecord
from assay.store import ArtifactStore, folder_files, manifest_bytes

__all__ = ["import_path"]


def import_path(
    store: ArtifactStore, path: Path, where: str, arg: str
) -> tuple[ArtifactRecord, list[ArtifactRecord]]:
    """Store the file or folder at ``path``; return its record and those of a folder's files.

    A file is stored as its bytes. A folder is stored as a manifest (JSON of relative path to
    sha256 of every file under it; hidden files and links to nothing are left out) plus each
    file's bytes, so its digest changes exactly when a file is added, removed, renamed or
    edited.

    Raises:
        DataError: the path does not exist or cannot be read.
    """
    if path.is_dir():
        files = folder_files(path)
        datas = [_read(f, where, arg) for f in files]
        now = time.time()
        members = [
            ArtifactRecord(digest, "file", "file", len(data), "pathlib.Path", now)
            for digest, data in zip(store.put_all(datas), datas, strict=True)
        ]
        manifest = {
            f.relative_to(path).as_posix(): m.digest for f, m in zip(files, members, strict=True)
        }
        data = manifest_bytes(manifest)
        digest = store.put_bytes(data)
        record = ArtifactRecord(digest, "folder", "json", len(data), "pathlib.Path", time.time())
        return record, members
    data = _read(path, where, arg)
    digest = store.put_bytes(data)
    return ArtifactRecord(digest, "file", "file", len(data), "pathlib.Path", time.time()), []


def _read(path: Path, where: str, arg: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(
            f"{where}: file not found: {path}",
            hint=f"pass an existing file or folder, for example --param {arg}=PATH",
        ) from None
    except OSError as exc:
        raise DataError(
            f"{where}: cannot read {path}: {exc.strerror}",
            hint="check the path and its permissions",
        ) from None
