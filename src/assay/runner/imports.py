"""Bringing files and folders named by ``pathlib.Path`` parameters into the artifact store,
one step at a time or all of a pipeline's at once for its cache plan."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from assay.core import Dag, sha256_hex
from assay.errors import DataError
from assay.metadata import ArtifactRecord
from assay.metadata.plan import PlannedStep
from assay.store import ArtifactStore, folder_files, manifest_bytes

__all__ = ["Imported", "import_path", "import_paths", "planned_steps"]

Imported = tuple[ArtifactRecord, list[ArtifactRecord]]
"""A path's record, and those of a folder's files."""


def import_path(store: ArtifactStore, path: Path, where: str, arg: str) -> Imported:
    """Store the file or folder at ``path``; return its record and those of a folder's files.

    A file is stored as its bytes. A folder is stored as a manifest (JSON of relative path to
    sha256 of every file under it; hidden files and links to nothing are left out) plus each
    file's bytes, so its digest changes exactly when a file is added, removed, renamed or
    edited.

    Raises:
        DataError: the path does not exist or cannot be read.
    """
    return import_paths(store, [(path, where, arg)])[0]


def import_paths(store: ArtifactStore, paths: Sequence[tuple[Path, str, str]]) -> list[Imported]:
    """:func:`import_path` for each ``(path, where, arg)``, the store asked once which of
    all their bytes it holds already (one request to a team server, not one a path)."""
    datas: list[bytes] = []  # every file's bytes and every folder's manifest, hashed once
    digests: list[str] = []
    now = time.time()
    found: list[Imported] = []
    for path, where, arg in paths:
        if path.is_dir():
            files = folder_files(path)
            contents = [_read(f, where, arg) for f in files]
            members = [
                ArtifactRecord(sha256_hex(d), "file", "file", len(d), "pathlib.Path", now)
                for d in contents
            ]
            rel = [f.relative_to(path).as_posix() for f in files]
            data = manifest_bytes({r: m.digest for r, m in zip(rel, members, strict=True)})
            record = ArtifactRecord(
                sha256_hex(data), "folder", "json", len(data), "pathlib.Path", now
            )
            datas += [*contents, data]
            digests += [*(m.digest for m in members), record.digest]
            found.append((record, members))
        else:
            data = _read(path, where, arg)
            file = ArtifactRecord(sha256_hex(data), "file", "file", len(data), "pathlib.Path", now)
            datas.append(data)
            digests.append(file.digest)
            found.append((file, []))
    store.put_all(datas, digests)
    return found


def planned_steps(store: ArtifactStore, dag: Dag) -> list[PlannedStep]:
    """The cacheable steps of ``dag`` as the cache plan sees them, their files imported
    (all at once: one question to the store); a step whose file cannot be read now is left
    out, to be looked up when it runs."""
    steps, paths = [], []
    for node in dag.nodes:  # every step's files: those of a step that always runs too
        files = {a: v for a, v in node.params.items() if isinstance(v, Path)}
        if all(v.exists() for v in files.values()):
            paths += [(v, f"step {node.name!r} argument {a!r}", a) for a, v in files.items()]
            steps.append(node)
    imported = iter(import_paths(store, paths))
    planned = []
    for node in steps:
        inputs: dict[str, str | tuple[str, str]] = {
            arg: (ref.node, ref.output) for arg, ref in node.inputs.items()
        }
        for arg, value in node.params.items():
            if isinstance(value, Path):
                inputs[arg] = next(imported)[0].digest
        params = {k: v for k, v in node.params.items() if not isinstance(v, Path)}
        outputs = tuple(o.name for o in node.step.outputs)
        if node.step.cache:
            planned.append(PlannedStep(node.name, node.step.fingerprint, params, inputs, outputs))
    return planned


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
