"""sessions carry the device label their client chose ("Firefox on Android")

Existing sessions have none (NULL): clients show them as "unnamed device".

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_label", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # DROP COLUMN in place (SQLite 3.35 or later): a batch copy of this table would drop and
    # re-create it, which the rows that point at it refuse (or cascade away).
    op.drop_column("auth_sessions", "device_label")
