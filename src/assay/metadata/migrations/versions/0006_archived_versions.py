"""Archived model versions: hidden from listings and NAME@latest, never deleted.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COLUMNS = ("archived_at", "archived_by", "archive_reason")


def upgrade() -> None:
    op.add_column("model_versions", sa.Column("archived_at", sa.Float, nullable=True))
    op.add_column("model_versions", sa.Column("archived_by", sa.String(200), nullable=True))
    op.add_column("model_versions", sa.Column("archive_reason", sa.Text, nullable=True))


def downgrade() -> None:
    # SQLite drops a column by copying the table; batch mode does that on every database.
    with op.batch_alter_table("model_versions") as batch:
        for column in reversed(_COLUMNS):
            batch.drop_column(column)
