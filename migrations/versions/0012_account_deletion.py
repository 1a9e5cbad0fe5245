"""a deleted account keeps a tombstone row: its name stays taken and its public keys stay,
so the warnings it chose to leave still verify (shown as from "a former member")

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 16:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    # DROP COLUMN in place (SQLite 3.35 or later): a batch copy of this table would drop and
    # re-create it, which the rows that point at it refuse (or cascade away).
    op.drop_column("users", "deleted_at")
