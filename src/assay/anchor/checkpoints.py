"""The checkpoint log: signed head hashes appended to a file or object-store folder."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from assay.errors import AuditError

__all__ = ["Checkpoint", "CheckpointLog"]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Event ``seq`` of the chain had hash ``hash``; signed by key ``key_id``."""

    seq: int
    hash: str
    at: float
    key_id: str
    signature: str

    def message(self) -> bytes:
        """The bytes the signature covers."""
        return checkpoint_message(self.seq, self.hash)


def checkpoint_message(seq: int, digest: str) -> bytes:
    """What a checkpoint's signature covers: its position and hash."""
    return f"assay-checkpoint:{seq}:{digest}".encode()


class CheckpointLog:
    """Append-only checkpoints at ``location``: a local JSON Lines file, or an fsspec URL of a
    folder where each checkpoint is one new object (object stores cannot append; give the
    bucket an object lock or versioning to make it write-once)."""

    def __init__(self, location: str) -> None:
        self.location = location
        self._remote = "://" in location and not location.startswith("file://")

    def append(self, checkpoint: Checkpoint) -> None:
        """Add one checkpoint.

        Raises:
            AuditError: the location cannot be written.
        """
        line = json.dumps(asdict(checkpoint), sort_keys=True)
        try:
            if self._remote:
                self._append_remote(checkpoint, line)
            else:
                path = Path(self.location.removeprefix("file://"))
                path.parent.mkdir(parents=True, exist_ok=True)
                # One write of one short line with O_APPEND: concurrent writers never interleave.
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                try:
                    os.write(fd, (line + "\n").encode())
                finally:
                    os.close(fd)
        except OSError as exc:
            raise AuditError(
                f"cannot write the audit checkpoint to {self.location}: {exc}",
                hint="set ASSAY_AUDIT_CHECKPOINTS (or ASSAY_AUDIT_DIR) to a writable location",
            ) from None

    def read(self) -> list[Checkpoint]:
        """Every checkpoint, in the order written; lines that do not parse are reported.

        Raises:
            AuditError: the log cannot be read, or a line is not a checkpoint.
        """
        try:
            lines = self._read_remote() if self._remote else self._read_local()
        except OSError as exc:
            raise AuditError(f"cannot read audit checkpoints at {self.location}: {exc}") from None
        found = []
        for number, line in enumerate(lines, 1):
            try:
                found.append(Checkpoint(**json.loads(line)))
            except (ValueError, TypeError):
                raise AuditError(
                    f"checkpoint {number} in {self.location} is not a checkpoint record",
                    hint="the checkpoint log was edited; restore it from its backup",
                ) from None
        return found

    def _read_local(self) -> list[str]:
        path = Path(self.location.removeprefix("file://"))
        if not path.exists():
            return []
        return [ln for ln in path.read_text().splitlines() if ln.strip()]

    def _append_remote(self, checkpoint: Checkpoint, line: str) -> None:
        import fsspec  # noqa: PLC0415 - only for object-store locations

        fs, root = fsspec.core.url_to_fs(self.location)
        fs.makedirs(root, exist_ok=True)
        with fs.open(f"{root}/{checkpoint.seq:012d}-{checkpoint.hash}.json", "w") as out:
            out.write(line)

    def _read_remote(self) -> list[str]:
        import fsspec  # noqa: PLC0415

        fs, root = fsspec.core.url_to_fs(self.location)
        if not fs.exists(root):
            return []
        lines = []
        for name in sorted(fs.ls(root, detail=False)):
            with fs.open(name, "r") as source:
                lines.append(source.read())
        return lines
