"""drop the server's name index; a per-circle change counter for incremental sync

The server no longer keeps keyed name tokens (names are matched in the clients, over the
warnings they synced): ``entry_tokens`` is dropped and its tokens are deleted, not kept.
A downgrade recreates the table empty; the tokens cannot come back (the server never
could compute them).

Every entry gets ``change_seq``, the circle's change counter when it last changed what a
reader sees; existing entries take their ``seq`` (each circle's seqs are 1..n without
gaps) and each circle's counter starts at its ``entry_seq``, so a client syncing from 0
receives every existing entry once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('entry_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_tokens_lookup')
    op.drop_table('entry_tokens')

    # Plain ALTER TABLE, never a batch copy: on SQLite a copy drops the old table, and with
    # foreign keys on that deletes every row that cascades from it (memberships, events,
    # corroborations). ADD COLUMN needs a default for NOT NULL; the UPDATEs set the values.
    op.add_column('circles', sa.Column('change_seq', sa.Integer(), server_default='0', nullable=False))
    op.execute('UPDATE circles SET change_seq = entry_seq')
    op.add_column('entries', sa.Column('change_seq', sa.Integer(), server_default='0', nullable=False))
    op.execute('UPDATE entries SET change_seq = seq')
    op.create_index('ix_entries_changes', 'entries', ['circle_id', 'change_seq'], unique=True)


def downgrade() -> None:
    # DROP COLUMN in place (SQLite 3.35 or later), for the reason given in upgrade().
    op.drop_index('ix_entries_changes', table_name='entries')
    op.drop_column('entries', 'change_seq')
    op.drop_column('circles', 'change_seq')

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
