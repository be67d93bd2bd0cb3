"""Governance: aliases and their history, gate verdicts, promotion requests and reviews,
roles, the audit chain and the store's identity.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "model_aliases",
        sa.Column("name", sa.String(200), sa.ForeignKey("models.name"), primary_key=True),
        sa.Column("alias", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("moved_at", sa.Float, nullable=False),
        sa.Column("moved_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "alias_moves",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("previous", sa.Integer),
        sa.Column("moved_at", sa.Float, nullable=False),
        sa.Column("moved_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("request_id", sa.String(32)),
    )
    op.create_index("ix_alias_moves_name_alias", "alias_moves", ["name", "alias", "moved_at"])
    op.create_table(
        "gate_verdicts",
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
    )
    op.create_index("ix_gate_verdicts_version", "gate_verdicts", ["name", "version"])
    op.create_table(
        "promotion_requests",
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
    )
    op.create_index("ix_promotion_requests_version", "promotion_requests", ["name", "version"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "request_id", sa.String(32), sa.ForeignKey("promotion_requests.id"), nullable=False
        ),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.UniqueConstraint("request_id", "reviewer", name="uq_reviews_request_reviewer"),
    )
    op.create_table(
        "role_grants",
        sa.Column("user", sa.String(200), primary_key=True),
        sa.Column("role", sa.String(16), primary_key=True),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("granted_at", sa.Float, nullable=False),
    )
    op.create_table(
        "audit_events",
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
    )
    op.create_index("ix_audit_events_subject", "audit_events", ["subject"])
    op.create_index("ix_audit_events_action", "audit_events", ["action", "at"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64)),
    )
    info = op.create_table(
        "store_info",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])
    # Records older than this migration were written before the audit chain existed;
    # `assay audit verify` names them as such instead of calling them tampered.
    op.bulk_insert(
        info,
        [
            {"key": "store_id", "value": uuid.uuid4().hex},
            {"key": "audit_since", "value": repr(time.time())},
        ],
    )


def downgrade() -> None:
    for table in (
        "store_info",
        "audit_head",
        "audit_events",
        "role_grants",
        "reviews",
        "promotion_requests",
        "gate_verdicts",
        "alias_moves",
        "model_aliases",
    ):
        op.drop_table(table)
