"""moderation cases, decisions, moderation keys, audit leaf hashes, server signing keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 13:56:11.494801
"""

from collections.abc import Sequence

import hashlib

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('server_signing_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('sealed_seed', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('not_before', sa.String(length=32), nullable=False),
    sa.Column('succession_signature', sa.LargeBinary(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_server_signing_keys')),
    sa.UniqueConstraint('public_key', name=op.f('uq_server_signing_keys_public_key'))
    )
    op.create_table('takedown_hits',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takedown_hits'))
    )
    with op.batch_alter_table('takedown_hits', schema=None) as batch_op:
        batch_op.create_index('ix_takedown_hits_scope', ['scope', 'key_hash', 'created_at'], unique=False)

    op.create_table('moderation_keys',
    sa.Column('circle_id', sa.Uuid(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('record', sa.LargeBinary(), nullable=False),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=False),
    sa.Column('signer_id', sa.Uuid(), nullable=False),
    sa.Column('prev_key_box', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['circle_id'], ['circles.id'], name=op.f('fk_moderation_keys_circle_id_circles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signer_id'], ['users.id'], name=op.f('fk_moderation_keys_signer_id_users')),
    sa.PrimaryKeyConstraint('circle_id', 'generation', name=op.f('pk_moderation_keys'))
    )
    op.create_table('moderation_wraps',
    sa.Column('circle_id', sa.Uuid(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('wrap', sa.LargeBinary(length=256), nullable=False),
    sa.ForeignKeyConstraint(['circle_id'], ['circles.id'], name=op.f('fk_moderation_wraps_circle_id_circles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_moderation_wraps_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('circle_id', 'generation', 'user_id', name=op.f('pk_moderation_wraps'))
    )
    op.create_table('moderation_cases',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('circle_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('entry_id', sa.Uuid(), nullable=True),
    sa.Column('reporter_id', sa.Uuid(), nullable=True),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('case_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('receipt_key', sa.LargeBinary(length=32), nullable=True),
    sa.Column('receipt_token_hash', sa.LargeBinary(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decision_seq', sa.Integer(), nullable=False),
    sa.Column('last_decision_hash', sa.LargeBinary(length=32), nullable=True),
    sa.Column('response', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['circle_id'], ['circles.id'], name=op.f('fk_moderation_cases_circle_id_circles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_moderation_cases_entry_id_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_moderation_cases_reporter_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_cases')),
    sa.UniqueConstraint('entry_id', 'reporter_id', name=op.f('uq_moderation_cases_entry_id_reporter_id')),
    sa.UniqueConstraint('receipt_token_hash', name=op.f('uq_moderation_cases_receipt_token_hash'))
    )
    with op.batch_alter_table('moderation_cases', schema=None) as batch_op:
        batch_op.create_index('ix_moderation_cases_circle', ['circle_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_moderation_cases_entry_id'), ['entry_id'], unique=False)

    op.create_table('moderation_decisions',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('circle_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('entry_id', sa.Uuid(), nullable=True),
    sa.Column('decision', sa.Text(), nullable=False),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=False),
    sa.Column('signer_id', sa.Uuid(), nullable=False),
    sa.Column('note', sa.LargeBinary(), nullable=False),
    sa.Column('response', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['moderation_cases.id'], name=op.f('fk_moderation_decisions_case_id_moderation_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signer_id'], ['users.id'], name=op.f('fk_moderation_decisions_signer_id_users')),
    sa.PrimaryKeyConstraint('case_id', 'seq', name=op.f('pk_moderation_decisions'))
    )
    # Existing events become the audit tree's first leaves: SHA-256(0x00 || body) (RFC 6962).
    with op.batch_alter_table('membership_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leaf_hash', sa.LargeBinary(length=32), nullable=True))
    events = sa.table(
        'membership_events',
        sa.column('circle_id', sa.Uuid()),
        sa.column('seq', sa.Integer()),
        sa.column('body', sa.Text()),
        sa.column('leaf_hash', sa.LargeBinary(length=32)),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(events.c.circle_id, events.c.seq, events.c.body)).all()
    for circle_id, seq, body in rows:
        connection.execute(
            events.update()
            .where(events.c.circle_id == circle_id, events.c.seq == seq)
            .values(leaf_hash=hashlib.sha256(b"\x00" + body.encode("utf-8")).digest())
        )
    with op.batch_alter_table('membership_events', schema=None) as batch_op:
        batch_op.alter_column('leaf_hash', existing_type=sa.LargeBinary(length=32), nullable=False)



def downgrade() -> None:
    with op.batch_alter_table('membership_events', schema=None) as batch_op:
        batch_op.drop_column('leaf_hash')

    op.drop_table('moderation_decisions')
    with op.batch_alter_table('moderation_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moderation_cases_entry_id'))
        batch_op.drop_index('ix_moderation_cases_circle')

    op.drop_table('moderation_cases')
    op.drop_table('moderation_wraps')
    op.drop_table('moderation_keys')
    with op.batch_alter_table('takedown_hits', schema=None) as batch_op:
        batch_op.drop_index('ix_takedown_hits_scope')

    op.drop_table('takedown_hits')
    op.drop_table('server_signing_keys')
