"""Anchors for the audit chain kept outside the store: Ed25519 signing keys and checkpoints."""

from assay.anchor.checkpoints import Checkpoint, CheckpointLog, CheckpointLogs
from assay.anchor.keyring import Keyring
from assay.anchor.keys import PublicKey, SigningKey
from assay.anchor.seal import Anchor, FileSealer, MemorySealer

__all__ = [
    "Anchor",
    "Checkpoint",
    "CheckpointLog",
    "CheckpointLogs",
    "FileSealer",
    "Keyring",
    "MemorySealer",
    "PublicKey",
    "SigningKey",
]
