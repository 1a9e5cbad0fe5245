"""signed departures

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 11:10:12.174913
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('departure', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('departure_signature', sa.LargeBinary(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('departure_signature')
        batch_op.drop_column('departure')

