"""Anchors for the audit chain kept outside the store: an Ed25519 signing key and checkpoints."""

from assay.anchor.checkpoints import Checkpoint, CheckpointLog
from assay.anchor.keys import PublicKey, SigningKey
from assay.anchor.seal import Anchor, FileSealer, MemorySealer

__all__ = [
    "Anchor",
    "Checkpoint",
    "CheckpointLog",
    "FileSealer",
    "MemorySealer",
    "PublicKey",
    "SigningKey",
]
