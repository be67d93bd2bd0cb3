"""Plain, frozen records exchanged with the metadata store; no SQLAlchemy outside this package."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ArtifactRecord",
    "Registration",
    "EventRecord",
    "ExecutionRecord",
    "MetricRecord",
    "ModelVersionRecord",
    "RunRecord",
]


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One pipeline run with its parameters, code version and environment."""

    id: str
    pipeline: str
    source: str
    status: str
    params: dict[str, Any]
    started_at: float
    user: str
    host: str
    pid: int
    python_version: str
    packages: dict[str, str]
    git_commit: str | None = None
    git_dirty: bool | None = None
    ended_at: float | None = None
    error: str | None = None
    traceback: str | None = None
    experiment: str = "default"
    tags: dict[str, str] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    """One step inside a run: executed, reused from the cache, or failed."""

    id: str
    run_id: str
    step: str
    function: str
    fingerprint: str
    cache_key: str
    status: str
    params: dict[str, Any]
    started_at: float
    ended_at: float | None = None
    cached_from: str | None = None
    error: str | None = None
    traceback: str | None = None
    logged_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ArtifactRecord:
    """Immutable bytes addressed by sha256, with kind, codec, size and producer."""

    digest: str
    kind: str
    codec: str
    size: int
    type_name: str
    created_at: float
    producer: str | None = None


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An artifact going into (``input``) or coming out of (``output``) an execution.

    The same bytes can be two things (a file and a JSON list, say), so how they are read
    here (codec, kind, Python type) belongs to the event, not to the bytes.
    """

    execution_id: str
    digest: str
    direction: str
    name: str
    codec: str
    kind: str
    type_name: str


@dataclass(frozen=True, slots=True)
class MetricRecord:
    """One metric value of a run, with its optional step index."""

    run_id: str
    key: str
    value: float
    timestamp: float
    execution_id: str | None = None
    step: int | None = None


@dataclass(frozen=True, slots=True)
class Registration:
    """A request to register artifact ``digest`` as the next version of model ``name``."""

    name: str
    digest: str
    codec: str
    run_id: str
    execution_id: str
    user: str
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModelVersionRecord:
    """One registered version of a model: the model artifact and the run that made it."""

    name: str
    version: int
    digest: str
    codec: str
    run_id: str
    execution_id: str
    created_at: float
    created_by: str
    info: dict[str, Any] = field(default_factory=dict)
    # Set while the version is archived: who archived it, when and why.
    archived_at: float | None = None
    archived_by: str | None = None
    archive_reason: str | None = None


@dataclass(frozen=True, slots=True)
class AliasMoveRecord:
    """An alias of a model pointed at a version (``None``: removed), by whom and why."""

    name: str
    alias: str
    version: int | None
    previous: int | None
    moved_at: float
    moved_by: str
    reason: str
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class GateVerdictRecord:
    """The verdict of a policy's gates on one model version, with the evidence per gate."""

    name: str
    version: int
    passed: bool
    policy_digest: str
    policy: dict[str, Any]
    results: list[dict[str, Any]]
    created_at: float
    created_by: str
    run_id: str | None = None
    execution_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    """One reviewer's decision (``approve`` or ``reject``) on a promotion request."""

    request_id: str
    reviewer: str
    decision: str
    comment: str
    at: float


@dataclass(frozen=True, slots=True)
class PromotionRequestRecord:
    """A request to point ``alias`` at a version; ``open`` until approved, rejected or done."""

    id: str
    name: str
    version: int
    alias: str
    status: str
    required: int
    requested_by: str
    requested_at: float
    comment: str
    closed_at: float | None = None
    reviews: tuple[ReviewRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """``user`` holds ``role``, granted by ``granted_by``."""

    user: str
    role: str
    granted_by: str
    granted_at: float
