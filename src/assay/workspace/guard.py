"""Which audit chain a store's artifacts belong to, so that a lost database is never
replaced by a new chain without anyone noticing."""

from __future__ import annotations

import json
import threading

from assay.anchor import Anchor, Checkpoint, PublicKey
from assay.errors import AuditError
from assay.store import ArtifactStore

__all__ = ["CHAIN_KEY", "ChainGuard", "chain_of"]

CHAIN_KEY = "audit/chain.json"
"""Where in the artifact store the chain its artifacts belong to is named."""


def chain_of(artifacts: ArtifactStore) -> dict[str, str] | None:
    """The chain (``key_id`` and ``first``, event 1's hash) that ``artifacts`` belong to,
    or None for an artifact store no chain has written to yet."""
    try:
        data = artifacts.blobs.read(CHAIN_KEY)
    except KeyError:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return {"key_id": "", "first": "", "unreadable": data[:64].hex()}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else None


class ChainGuard:
    """The anchor a workspace seals with: ``anchor``'s keys and checkpoints, plus a record
    in the artifact store of the chain its database holds.

    A database with no audit events over an artifact store that names a chain has lost
    that chain (a deleted or emptied database file, a restored one from before the chain
    began, the wrong database URL): writing is refused, since a new chain would leave the
    old one's checkpoints unverifiable for ever. ``new_chain`` allows one new chain on
    purpose (``assay audit new-chain``).
    """

    def __init__(
        self,
        anchor: Anchor,
        artifacts: ArtifactStore,
        *,
        db: str,
        root: str,
        new_chain: bool = False,
    ) -> None:
        self.anchor = anchor
        self.artifacts = artifacts
        self.db, self.root = db, root
        self.new_chain = new_chain
        self._named = ""  # the chain the artifact store is known to name
        self._lock = threading.Lock()

    @property
    def key_id(self) -> str:
        return self.anchor.key_id

    def prepare(self, expected_key_id: str | None) -> None:
        self.anchor.prepare(expected_key_id)

    def begin_chain(self) -> None:
        if not self.new_chain:
            self._refuse_a_lost_chain()

    def check_chain(self, first: str) -> None:
        if self._named == first:
            return
        named = chain_of(self.artifacts)
        if named is not None and named.get("first") != first and not self.new_chain:
            owner = named.get("first", "")[:12] or "?"
            raise AuditError(
                f"the database {self.db} holds the audit chain whose event 1 is {first[:12]}, "
                f"but the artifact store {self.root} belongs to the chain whose event 1 is "
                f"{owner}: the database was replaced (another store's, or a copy of "
                "another), and nothing is written to it here",
                hint="point ASSAY_DB_URL (or ASSAY_ARTIFACT_ROOT) at the store's own, or "
                "restore its database from a backup",
            )
        self._named = first if named is not None else self._named

    def _refuse_a_lost_chain(self) -> None:
        named = chain_of(self.artifacts)
        if named is None:
            return
        key_id, first = named.get("key_id", ""), named.get("first", "")
        latest = self.anchor.latest_checkpoint(key_id, first) if key_id else None
        reached = f", checkpointed up to event {latest.seq}" if latest else ""
        raise AuditError(
            f"the database {self.db} has no audit events, but the artifact store "
            f"{self.root} belongs to the audit chain of key {key_id or '?'} "
            f"whose event 1 is {first[:12] or '?'}{reached}: the database was lost or "
            "replaced, and nothing is written until it is back",
            hint="restore the database from a backup (or point ASSAY_DB_URL at the right "
            "one); to begin a new chain on purpose, run `assay audit new-chain --reason "
            "TEXT`",
        )

    def sign(self, digest: str) -> str:
        return self.anchor.sign(digest)

    def verify(self, digest: str, signature: str) -> bool:
        return self.anchor.verify(digest, signature)

    def checkpoint(self, seq: int, digest: str, first: str) -> None:
        self.anchor.checkpoint(seq, digest, first)
        with self._lock:
            if self._named == first:
                return
            named = chain_of(self.artifacts)
            # Written where no chain is named yet, or for a new chain begun on purpose; a
            # store's record of another chain is never overwritten (check_chain refuses).
            if named is None or self.new_chain:
                record = {"key_id": self.anchor.key_id, "first": first}
                try:
                    self.artifacts.blobs.write(CHAIN_KEY, json.dumps(record).encode())
                except OSError as exc:
                    # Called after a commit, like the checkpoint: the change stands, and
                    # the next one tries again.
                    raise AuditError(
                        f"cannot name the audit chain in the artifact store {self.root}: {exc}"
                    ) from None
                self.new_chain = False  # one new chain only
            self._named = first

    def public_key(self, key_id: str) -> PublicKey:
        return self.anchor.public_key(key_id)

    def checkpoints(self, key_id: str, first: str) -> list[Checkpoint]:
        return self.anchor.checkpoints(key_id, first)

    def latest_checkpoint(self, key_id: str, first: str) -> Checkpoint | None:
        return self.anchor.latest_checkpoint(key_id, first)

    def checkpoint_location(self, key_id: str, first: str) -> str:
        return self.anchor.checkpoint_location(key_id, first)
