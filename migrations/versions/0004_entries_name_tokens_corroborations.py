"""entries, name tokens, corroborations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 11:27:00.664422
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('entries',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('circle_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('author_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('commitment', sa.LargeBinary(length=32), nullable=False),
    sa.Column('nonce', sa.LargeBinary(length=24), nullable=True),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('corroboration_count', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('wiped_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_entries_author_id_users')),
    sa.ForeignKeyConstraint(['circle_id'], ['circles.id'], name=op.f('fk_entries_circle_id_circles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entries')),
    sa.UniqueConstraint('circle_id', 'seq', name=op.f('uq_entries_circle_id_seq'))
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entries_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_entries_live_expiry', ['status', 'expires_at'], unique=False)

    op.create_table('corroborations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('entry_id', sa.Uuid(), nullable=False),
    sa.Column('circle_id', sa.Uuid(), nullable=False),
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('author_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('commitment', sa.LargeBinary(length=32), nullable=False),
    sa.Column('nonce', sa.LargeBinary(length=24), nullable=True),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_corroborations_author_id_users')),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_corroborations_entry_id_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corroborations')),
    sa.UniqueConstraint('entry_id', 'author_id', name=op.f('uq_corroborations_entry_id_author_id'))
    )
    op.create_table('entry_tokens',
    sa.Column('entry_id', sa.Uuid(), nullable=False),
    sa.Column('token', sa.LargeBinary(length=32), nullable=False),
    sa.Column('circle_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_entry_tokens_entry_id_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'token', name=op.f('pk_entry_tokens'))
    )
    with op.batch_alter_table('entry_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_entry_tokens_lookup', ['circle_id', 'token', 'seq'], unique=False)

    with op.batch_alter_table('circles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entry_seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('entry_ttl_days', sa.Integer(), server_default='730', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('circles', schema=None) as batch_op:
        batch_op.drop_column('entry_ttl_days')
        batch_op.drop_column('entry_seq')

    with op.batch_alter_table('entry_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_tokens_lookup')

    op.drop_table('entry_tokens')
    op.drop_table('corroborations')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index('ix_entries_live_expiry')
        batch_op.drop_index(batch_op.f('ix_entries_author_id'))

    op.drop_table('entries')
