"""registration limits and invite signups; takedowns by proof of work, not windows

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-14 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime


revision: str = '0008'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('registration_hits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_hits'))
    )
    with op.batch_alter_table('registration_hits', schema=None) as batch_op:
        batch_op.create_index('ix_registration_hits_scope', ['scope', 'key_hash', 'created_at'], unique=False)

    with op.batch_alter_table('invites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signups', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('moderation_cases', schema=None) as batch_op:
        batch_op.create_index('ix_moderation_cases_kind', ['kind', 'created_at'], unique=False)

    # The takedown windows are gone (a proof of work instead); the counters go with them.
    with op.batch_alter_table('takedown_hits', schema=None) as batch_op:
        batch_op.drop_index('ix_takedown_hits_scope')
    op.drop_table('takedown_hits')


def downgrade() -> None:
    op.create_table('takedown_hits',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takedown_hits'))
    )
    with op.batch_alter_table('takedown_hits', schema=None) as batch_op:
        batch_op.create_index('ix_takedown_hits_scope', ['scope', 'key_hash', 'created_at'], unique=False)

    with op.batch_alter_table('moderation_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_moderation_cases_kind')

    # DROP COLUMN in place (SQLite 3.35 or later): a batch copy of this table would drop and
    # re-create it, which the rows that point at it refuse (or cascade away).
    op.drop_column('invites', 'signups')

    with op.batch_alter_table('registration_hits', schema=None) as batch_op:
        batch_op.drop_index('ix_registration_hits_scope')

    op.drop_table('registration_hits')
