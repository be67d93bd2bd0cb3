"""The governance state the audit chain seals: one digest per table, kept with the head.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty on a store migrated from an older revision: its first governance change after
    # the upgrade seals the state as the tables hold it then.
    op.add_column("audit_head", sa.Column("state", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("state")
