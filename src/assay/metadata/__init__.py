"""Metadata: the SQLAlchemy schema, its Alembic migrations and the repositories over it."""

from assay.metadata.audit import GENESIS, AuditEntry, AuditEventRecord, Sealer, event_body
from assay.metadata.engine import open_metadata
from assay.metadata.monitoring import AlertDraft, AlertRecord, LabelRecord, WindowRecord
from assay.metadata.predictions import PredictionRecord
from assay.metadata.records import (
    AliasMoveRecord,
    ArtifactRecord,
    EventRecord,
    ExecutionRecord,
    GateVerdictRecord,
    MetricRecord,
    ModelVersionRecord,
    PromotionRequestRecord,
    Registration,
    ReviewRecord,
    RoleGrant,
    RunRecord,
)
from assay.metadata.repository import CachedExecution, ExecutionBundle, MetadataStore
from assay.metadata.retrains import RetrainRecord
from assay.metadata.rows import asdict as shallow_dict

__all__ = [
    "GENESIS",
    "AlertDraft",
    "AlertRecord",
    "LabelRecord",
    "WindowRecord",
    "AliasMoveRecord",
    "ArtifactRecord",
    "AuditEntry",
    "AuditEventRecord",
    "GateVerdictRecord",
    "PredictionRecord",
    "PromotionRequestRecord",
    "RetrainRecord",
    "ReviewRecord",
    "RoleGrant",
    "Sealer",
    "event_body",
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
    "shallow_dict",
]
