"""Artifact bytes: BlobStorage backends under a content-addressed, hash-verified ArtifactStore."""

from assay.store.artifacts import ArtifactStore, StoredArtifact, open_artifact_store
from assay.store.blobs import BlobStorage, FsspecBlobStorage, LocalBlobStorage, MemoryBlobStorage
from assay.store.bundles import ArrayBundle, BundleCodec
from assay.store.codecs import Codec, CodecRegistry, default_codecs
from assay.store.folders import folder_digest, folder_files, manifest_bytes

__all__ = [
    "ArrayBundle",
    "ArtifactStore",
    "BlobStorage",
    "BundleCodec",
    "Codec",
    "CodecRegistry",
    "FsspecBlobStorage",
    "LocalBlobStorage",
    "MemoryBlobStorage",
    "StoredArtifact",
    "default_codecs",
    "folder_digest",
    "folder_files",
    "manifest_bytes",
    "open_artifact_store",
]
