"""The metadata tables, in SQLAlchemy Core; Alembic migrations create the same tables."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "SCHEMA_REVISION",
    "alerts",
    "api_tokens",
    "alias_moves",
    "artifacts",
    "audit_events",
    "audit_head",
    "events",
    "executions",
    "gate_verdicts",
    "labels",
    "metadata",
    "metrics",
    "model_aliases",
    "model_versions",
    "models",
    "monitor_windows",
    "predictions",
    "promotion_requests",
    "retrains",
    "reviews",
    "role_grants",
    "runs",
    "store_info",
]

# The Alembic head this code reads and writes; a test checks it against the migrations.
SCHEMA_REVISION = "0008"

metadata = sa.MetaData()

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("pipeline", sa.String(200), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float),
    sa.Column("error", sa.Text),
    sa.Column("traceback", sa.Text),
    sa.Column("user", sa.String(200), nullable=False),
    sa.Column("host", sa.String(200), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("git_commit", sa.String(64)),
    sa.Column("git_dirty", sa.Boolean),
    sa.Column("python_version", sa.String(64), nullable=False),
    sa.Column("packages", sa.JSON, nullable=False),
    sa.Column("experiment", sa.String(200), nullable=False),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("note", sa.Text),
    sa.Index("ix_runs_started_at", "started_at"),
    sa.Index("ix_runs_experiment", "experiment", "started_at"),
    sa.Index("ix_runs_status", "status"),
)

executions = sa.Table(
    "executions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("step", sa.String(200), nullable=False),
    sa.Column("function", sa.String(300), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("cache_key", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("cached_from", sa.String(32)),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float),
    sa.Column("error", sa.Text),
    sa.Column("traceback", sa.Text),
    sa.Column("logged_params", sa.JSON, nullable=False),
    sa.Index("ix_executions_run_id", "run_id"),
    sa.Index("ix_executions_cache_key", "cache_key", "status"),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("codec", sa.String(32), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("type_name", sa.String(300), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("producer", sa.String(32)),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("execution_id", sa.String(32), sa.ForeignKey("executions.id"), nullable=False),
    sa.Column("digest", sa.String(64), sa.ForeignKey("artifacts.digest"), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("codec", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("type_name", sa.String(300), nullable=False),
    sa.Index("ix_events_execution_id", "execution_id"),
    sa.Index("ix_events_digest", "digest", "direction"),
)

metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("execution_id", sa.String(32)),
    sa.Column("key", sa.String(250), nullable=False),
    sa.Column("value", sa.Float),  # NULL is NaN: SQLite stores NaN as NULL
    sa.Column("step", sa.Integer),
    sa.Column("timestamp", sa.Float, nullable=False),
    sa.Index("ix_metrics_run_key", "run_id", "key"),
    sa.Index("ix_metrics_execution_id", "execution_id"),
)

models = sa.Table(
    "models",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), sa.ForeignKey("models.name"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("digest", sa.String(64), sa.ForeignKey("artifacts.digest"), nullable=False),
    sa.Column("codec", sa.String(32), nullable=False),
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("execution_id", sa.String(32), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("info", sa.JSON, nullable=False),
    # Archived (revision 0006): hidden from listings and NAME@latest, kept as evidence.
    sa.Column("archived_at", sa.Float),
    sa.Column("archived_by", sa.String(200)),
    sa.Column("archive_reason", sa.Text),
    sa.UniqueConstraint("name", "version", name="uq_model_versions_name_version"),
    sa.Index("ix_model_versions_digest", "name", "digest"),
)

# -- governance (revision 0002) -----------------------------------------------------------

model_aliases = sa.Table(
    "model_aliases",
    metadata,
    sa.Column("name", sa.String(200), sa.ForeignKey("models.name"), primary_key=True),
    sa.Column("alias", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("moved_at", sa.Float, nullable=False),
    sa.Column("moved_by", sa.String(200), nullable=False),
)

alias_moves = sa.Table(
    "alias_moves",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("alias", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer),  # NULL: the alias was removed
    sa.Column("previous", sa.Integer),
    sa.Column("moved_at", sa.Float, nullable=False),
    sa.Column("moved_by", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("request_id", sa.String(32)),
    sa.Index("ix_alias_moves_name_alias", "name", "alias", "moved_at"),
)

gate_verdicts = sa.Table(
    "gate_verdicts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("policy_digest", sa.String(64), nullable=False),
    sa.Column("policy", sa.JSON, nullable=False),
    sa.Column("results", sa.JSON, nullable=False),
    sa.Column("run_id", sa.String(32)),
    sa.Column("execution_id", sa.String(32)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Index("ix_gate_verdicts_version", "name", "version"),
)

promotion_requests = sa.Table(
    "promotion_requests",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("alias", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("required", sa.Integer, nullable=False),
    sa.Column("requested_by", sa.String(200), nullable=False),
    sa.Column("requested_at", sa.Float, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("closed_at", sa.Float),
    sa.Index("ix_promotion_requests_version", "name", "version"),
)

reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(32), sa.ForeignKey("promotion_requests.id"), nullable=False),
    sa.Column("reviewer", sa.String(200), nullable=False),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.UniqueConstraint("request_id", "reviewer", name="uq_reviews_request_reviewer"),
)

role_grants = sa.Table(
    "role_grants",
    metadata,
    sa.Column("user", sa.String(200), primary_key=True),
    sa.Column("role", sa.String(16), primary_key=True),
    sa.Column("granted_by", sa.String(200), nullable=False),
    sa.Column("granted_at", sa.Float, nullable=False),
)

# API tokens of the team server: only a digest of each secret is kept.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("user", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("revoked_by", sa.String(200), nullable=True),
    sa.Column("revoked_at", sa.Float, nullable=True),
    sa.Index("ix_api_tokens_user", "user"),
)

# The audit chain: each event's body (canonical JSON) names the previous event's hash.
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("signature", sa.Text),
    sa.Column("key_id", sa.String(64)),
    sa.Index("ix_audit_events_subject", "subject"),
    sa.Index("ix_audit_events_action", "action", "at"),
)

# One row: the newest event. Appending locks it, so concurrent writers extend one chain.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(64)),  # the key the chain is signed with, once it is
    # The digest of each governance table as of the head (revision 0007): JSON, table to
    # sha256; the head event seals the digest of this JSON (see metadata.state).
    sa.Column("state", sa.Text),
)

store_info = sa.Table(
    "store_info",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# -- serving (revision 0003) --------------------------------------------------------------

# Every request a server answered, written off the hot path; what monitoring reads.
predictions = sa.Table(
    "predictions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("protocol", sa.String(8), nullable=False),
    sa.Column("inputs", sa.JSON, nullable=False),
    sa.Column("outputs", sa.JSON, nullable=False),
    sa.Index("ix_predictions_model_at", "model", "version", "at"),
    sa.Index("ix_predictions_request_id", "request_id"),
)

# One monitoring check of a model version over a window of the prediction log.
monitor_windows = sa.Table(
    "monitor_windows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("start_at", sa.Float, nullable=False),
    sa.Column("end_at", sa.Float, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("report", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_monitor_windows_model", "model", "version", "kind", "end_at"),
)

# Late ground truth for logged predictions: row ``row`` of request ``request_id``.
labels = sa.Table(
    "labels",
    metadata,
    sa.Column("request_id", sa.String(128), primary_key=True),
    sa.Column("row", sa.Integer, primary_key=True),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("user", sa.String(200), nullable=False),
)

# Alerts, deduplicated: a repeat of an open alert (same fingerprint) counts on it.
alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("first_at", sa.Float, nullable=False),
    sa.Column("last_at", sa.Float, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("window_id", sa.Integer, nullable=True),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("delivered_at", sa.Float, nullable=True),
    sa.Column("delivery_error", sa.Text, nullable=True),
    sa.Index("ix_alerts_open", "fingerprint", "status"),
)

# Retraining started by a monitoring policy: why (an alert, a schedule, new data), the run
# it started and the version that run registered, with what became of that version.
retrains = sa.Table(
    "retrains",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("cause", sa.String(16), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("run_id", sa.String(32), nullable=True),
    sa.Column("version", sa.Integer, nullable=True),
    sa.Column("outcome", sa.JSON, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("user", sa.String(200), nullable=False),
    sa.Index("ix_retrains_model", "model", "started_at"),
)
