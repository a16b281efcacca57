"""window presence: who is signed in at a window, last heartbeat, pause reason

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 22:20:00
"""

import sqlalchemy as sa
from alembic import op

import hall.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add windows.seen_at (presence heartbeat) and windows.pause_reason."""
    with op.batch_alter_table("windows") as batch:
        batch.add_column(sa.Column("seen_at", hall.models.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("pause_reason", sa.String(length=20), nullable=True))


def downgrade() -> None:
    """Drop the presence columns."""
    with op.batch_alter_table("windows") as batch:
        batch.drop_column("pause_reason")
        batch.drop_column("seen_at")
