"""the kiosk that issued a ticket

Revision ID: 0013
Revises: 0012 on the sec-secrets branch; 0012 once merged after 0010–0012 on main
Create Date: 2026-12-07 22:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issuer", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("issuer")
