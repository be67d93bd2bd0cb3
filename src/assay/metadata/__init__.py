"""Metadata: the SQLAlchemy schema, its Alembic migrations and the repositories over it."""

from assay.metadata.engine import open_metadata
from assay.metadata.records import (
    ArtifactRecord,
    EventRecord,
    ExecutionRecord,
    MetricRecord,
    ModelVersionRecord,
    Registration,
    RunRecord,
)
from assay.metadata.repository import CachedExecution, ExecutionBundle, MetadataStore

__all__ = [
    "ArtifactRecord",
    "CachedExecution",
    "EventRecord",
    "ExecutionBundle",
    "ExecutionRecord",
    "MetadataStore",
    "MetricRecord",
    "ModelVersionRecord",
    "Registration",
    "RunRecord",
    "open_metadata",
]
