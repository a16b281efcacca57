"""index for the longest wait per queue

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 06:00:00
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index(
        "ix_tickets_waiting_since", "tickets", ["hall_id", "status", "queue_code", "queue_entered_at"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_tickets_waiting_since", table_name="tickets")
