"""Checkpoint logs: signed head hashes of a chain, appended to a file or object-store folder."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from assay.errors import AuditError

__all__ = ["Checkpoint", "CheckpointLog", "CheckpointLogs"]

# How much of a log's end ``latest`` reads: checkpoints are appended after each commit, so
# concurrent writers may leave them a little out of order, never by this many.
_TAIL = 64
_TAIL_BYTES = 32 * 1024


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Event ``seq`` of the chain whose event 1 has hash ``chain`` had hash ``hash``;
    signed by key ``key_id``. ``chain`` is empty in checkpoints written before they named
    their chain."""

    seq: int
    hash: str
    at: float
    key_id: str
    signature: str
    chain: str = ""

    def message(self) -> bytes:
        """The bytes the signature covers."""
        return checkpoint_message(self.seq, self.hash, self.chain)


def checkpoint_message(seq: int, digest: str, chain: str = "") -> bytes:
    """What a checkpoint's signature covers: its chain (when named), position and hash."""
    if not chain:
        return f"assay-checkpoint:{seq}:{digest}".encode()
    return f"assay-checkpoint:{chain}:{seq}:{digest}".encode()


class CheckpointLog:
    """Append-only checkpoints at ``location``: a local JSON Lines file, or an fsspec URL of a
    folder where each checkpoint is one new object (object stores cannot append; give the
    bucket an object lock or versioning to make it write-once)."""

    def __init__(self, location: str) -> None:
        self.location = location
        self._remote = "://" in location and not location.startswith("file://")
        self._folder_made = False
        # What ``latest`` found per chain, with the local log's size then: unchanged but
        # for this log's own appends, it needs no reading again.
        self._seen: dict[str, tuple[int, Checkpoint | None]] = {}

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
                if not self._folder_made:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    self._folder_made = True
                # One write of one short line with O_APPEND: concurrent writers never interleave.
                data = (line + "\n").encode()
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                try:
                    os.write(fd, data)
                    size = os.fstat(fd).st_size
                finally:
                    os.close(fd)
                self._note_append(checkpoint, size, len(data))
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

    def latest(self, chain: str) -> Checkpoint | None:
        """The checkpoint of the chain whose event 1 has hash ``chain`` with the highest
        ``seq`` among the last ones written (those of no named chain, written by earlier
        versions, when it has none there), read from the end of the log: what writers and
        decisions check the chain against without reading the whole log. A local log that
        only this object appended to since it last looked is not read again.

        Raises:
            AuditError: the log cannot be read, or its tail is not checkpoints.
        """
        size = self._size()
        seen = self._seen.get(chain)
        if seen is not None and size is not None and seen[0] == size:
            return seen[1]
        try:
            lines = self._read_remote(tail=_TAIL) if self._remote else self._tail_local()
        except OSError as exc:
            raise AuditError(f"cannot read audit checkpoints at {self.location}: {exc}") from None
        best: dict[bool, Checkpoint] = {}
        for line in lines:
            try:
                checkpoint = Checkpoint(**json.loads(line))
            except (ValueError, TypeError):
                raise AuditError(
                    f"the end of {self.location} is not checkpoint records",
                    hint="the checkpoint log was edited; restore it from its backup",
                ) from None
            if checkpoint.chain not in ("", chain):
                continue
            named = checkpoint.chain == chain
            if named not in best or checkpoint.seq > best[named].seq:
                best[named] = checkpoint
        found = best.get(True) or best.get(False)
        if size is not None:
            self._seen[chain] = (size, found)
        return found

    def _size(self) -> int | None:
        if self._remote:
            return None
        try:
            return os.stat(self.location.removeprefix("file://")).st_size
        except FileNotFoundError:
            return 0
        except OSError:
            return None

    def _note_append(self, checkpoint: Checkpoint, size: int, written: int) -> None:
        seen = self._seen.get(checkpoint.chain)
        if seen is None or seen[0] + written != size:
            self._seen.pop(checkpoint.chain, None)  # another writer appended meanwhile
            return
        best = seen[1]
        if best is None or checkpoint.seq > best.seq:
            best = checkpoint
        self._seen[checkpoint.chain] = (size, best)

    def _tail_local(self) -> list[str]:
        path = Path(self.location.removeprefix("file://"))
        if not path.exists():
            return []
        with path.open("rb") as source:
            size = source.seek(0, os.SEEK_END)
            source.seek(max(0, size - _TAIL_BYTES))
            data = source.read()
        lines = data.decode(errors="replace").splitlines()
        if size > _TAIL_BYTES:
            lines = lines[1:]  # the first line read may be cut
        return [ln for ln in lines if ln.strip()][-_TAIL:]

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

    def _read_remote(self, tail: int | None = None) -> list[str]:
        import fsspec  # noqa: PLC0415

        fs, root = fsspec.core.url_to_fs(self.location)
        if not fs.exists(root):
            return []
        lines = []
        names = sorted(fs.ls(root, detail=False))  # named by seq, so sorted is chain order
        for name in names[-tail:] if tail else names:
            with fs.open(name, "r") as source:
                lines.append(source.read())
        return lines


class CheckpointLogs:
    """Where each chain's checkpoints are: one explicit log that every chain written to it
    shares, or else one log per chain in ``folder``, named ``KEYID-FIRST.jsonl`` after the
    chain's key id and the first 16 hex digits of its event 1 hash.

    A chain is identified by what it is, not by where its store is: a moved or copied store
    finds its checkpoints, and a new store in the same place starts a log of its own. Logs
    that earlier versions of assay kept per database URL (``legacy/*/checkpoints.jsonl``)
    are read too.
    """

    def __init__(self, explicit: str, folder: Path, legacy: Path | None = None) -> None:
        self.explicit = explicit
        self.folder = folder
        self.legacy = legacy
        self._logs: dict[tuple[str, str], CheckpointLog] = {}

    def log(self, key_id: str, first: str) -> CheckpointLog:
        """The log that the chain ``(key_id, first)`` appends to."""
        log = self._logs.get((key_id, first))
        if log is None:  # kept: it remembers that its folder exists, and what it last read
            location = self.explicit or str(self.folder / f"{key_id}-{first[:16]}.jsonl")
            log = self._logs[(key_id, first)] = CheckpointLog(location)
        return log

    def latest(self, key_id: str, first: str) -> Checkpoint | None:
        """The newest checkpoint of the chain ``(key_id, first)`` in the log it appends to
        (see :meth:`CheckpointLog.latest`); None when there is none."""
        return self.log(key_id, first).latest(first) if key_id or self.explicit else None

    def read(self, key_id: str, first: str, *, other_chains: bool) -> list[Checkpoint]:
        """The checkpoints of the chain ``(key_id, first)``: the explicit log whole (other
        chains' records included), or the chain's own log, with ``other_chains`` every log
        of that key (so that a chain rewritten from event 1 is caught where a key signs one
        chain only), and that key's records in the logs of earlier versions.

        Raises:
            AuditError: a log cannot be read, or holds a line that is not a checkpoint.
        """
        if self.explicit:
            return CheckpointLog(self.explicit).read()
        if not key_id:
            return []
        pattern = f"{key_id}-*.jsonl" if other_chains else f"{key_id}-{first[:16]}.jsonl"
        found = []
        if self.folder.is_dir():
            for path in sorted(self.folder.glob(pattern)):
                found += CheckpointLog(str(path)).read()
        if self.legacy is not None and self.legacy.is_dir():
            for path in sorted(self.legacy.glob("*/checkpoints.jsonl")):
                found += [cp for cp in CheckpointLog(str(path)).read() if cp.key_id == key_id]
        return found
