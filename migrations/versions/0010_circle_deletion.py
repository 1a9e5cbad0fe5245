"""a deleted circle keeps a tombstone: when, by whom, and the owner's signed statement

Deleting a circle removes its content (warnings, keys, invites, moderation) but keeps
the ``circles`` row, the memberships, the key records and the audit log, so every
member's client can learn that it was deleted and by whom, and check the statement.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("circles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("deleted_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("deletion", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("deletion_signature", sa.LargeBinary(length=64), nullable=True))


def downgrade() -> None:
    # DROP COLUMN in place (SQLite 3.35 or later): a batch copy of this table would drop and
    # re-create it, which the rows that point at it refuse (or cascade away).
    for column in ("deletion_signature", "deletion", "deleted_by", "deleted_at"):
        op.drop_column("circles", column)
