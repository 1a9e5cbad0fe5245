"""sealed warnings

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 15:41:24.194807
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sealed_evaluations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('circle_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('elements', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['circle_id'], ['circles.id'], name=op.f('fk_sealed_evaluations_circle_id_circles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sealed_evaluations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sealed_evaluations'))
    )
    with op.batch_alter_table('sealed_evaluations', schema=None) as batch_op:
        batch_op.create_index('ix_sealed_evaluations_member', ['circle_id', 'user_id', 'created_at'], unique=False)

    op.create_table('sealed_filings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('circle_id', sa.Uuid(), nullable=False),
    sa.Column('filer_id', sa.Uuid(), nullable=False),
    sa.Column('k', sa.Integer(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('record', sa.LargeBinary(), nullable=True),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['circle_id'], ['circles.id'], name=op.f('fk_sealed_filings_circle_id_circles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['filer_id'], ['users.id'], name=op.f('fk_sealed_filings_filer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sealed_filings'))
    )
    with op.batch_alter_table('sealed_filings', schema=None) as batch_op:
        batch_op.create_index('ix_sealed_filings_filer', ['circle_id', 'filer_id'], unique=False)

    op.create_table('sealed_matches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('circle_id', sa.Uuid(), nullable=False),
    sa.Column('k', sa.Integer(), nullable=False),
    sa.Column('tag', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['circle_id'], ['circles.id'], name=op.f('fk_sealed_matches_circle_id_circles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sealed_matches')),
    sa.UniqueConstraint('circle_id', 'k', 'tag', name=op.f('uq_sealed_matches_circle_id_k_tag'))
    )
    op.create_table('sealed_settings',
    sa.Column('circle_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('record', sa.LargeBinary(), nullable=False),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=False),
    sa.Column('signer_id', sa.Uuid(), nullable=False),
    sa.Column('k', sa.Integer(), nullable=False),
    sa.Column('evaluations_per_day', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['circle_id'], ['circles.id'], name=op.f('fk_sealed_settings_circle_id_circles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signer_id'], ['users.id'], name=op.f('fk_sealed_settings_signer_id_users')),
    sa.PrimaryKeyConstraint('circle_id', 'seq', name=op.f('pk_sealed_settings'))
    )
    op.create_table('sealed_match_filings',
    sa.Column('match_id', sa.Uuid(), nullable=False),
    sa.Column('filing_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['filing_id'], ['sealed_filings.id'], name=op.f('fk_sealed_match_filings_filing_id_sealed_filings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['match_id'], ['sealed_matches.id'], name=op.f('fk_sealed_match_filings_match_id_sealed_matches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('match_id', 'filing_id', name=op.f('pk_sealed_match_filings'))
    )
    op.create_table('sealed_tags',
    sa.Column('filing_id', sa.Uuid(), nullable=False),
    sa.Column('tag', sa.LargeBinary(length=32), nullable=False),
    sa.Column('circle_id', sa.Uuid(), nullable=False),
    sa.Column('k', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['filing_id'], ['sealed_filings.id'], name=op.f('fk_sealed_tags_filing_id_sealed_filings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('filing_id', 'tag', name=op.f('pk_sealed_tags'))
    )
    with op.batch_alter_table('sealed_tags', schema=None) as batch_op:
        batch_op.create_index('ix_sealed_tags_lookup', ['circle_id', 'k', 'tag'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sealed_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_sealed_tags_lookup')

    op.drop_table('sealed_tags')
    op.drop_table('sealed_match_filings')
    op.drop_table('sealed_settings')
    op.drop_table('sealed_matches')
    with op.batch_alter_table('sealed_filings', schema=None) as batch_op:
        batch_op.drop_index('ix_sealed_filings_filer')

    op.drop_table('sealed_filings')
    with op.batch_alter_table('sealed_evaluations', schema=None) as batch_op:
        batch_op.drop_index('ix_sealed_evaluations_member')

    op.drop_table('sealed_evaluations')
