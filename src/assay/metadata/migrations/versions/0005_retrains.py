"""Retraining started by monitoring: its cause, run, version and outcome.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retrains",
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
    )
    op.create_index("ix_retrains_model", "retrains", ["model", "started_at"])


def downgrade() -> None:
    op.drop_table("retrains")
