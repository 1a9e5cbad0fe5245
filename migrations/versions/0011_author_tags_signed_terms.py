"""author tags and signed terms on entries; self-corroborations removed

Entries gain ``author_tag`` (the author's per-entry tag, docs/protocol.md §24.1) and
``terms_signature`` (the author's signature over the tag and the expiry, §24.2);
corroborations gain ``author_tag`` (the corroborator's tag for the entry). All three are
null on rows made before this revision: the server cannot compute a tag (it needs the
author's identity key), so old entries keep their expiry as the server's word and their
corroborations are checked by account.

Existing self-corroborations (a corroboration whose account is the entry's account) are
deleted, not kept and flagged: a flag would tell every member which corroboration the
author of an *anonymous* warning wrote, naming the author whenever that corroboration is
named, and a "me too" from the author is the false signal the rule exists to remove. Each
affected entry's count drops accordingly and it takes a new change number, so every
device's copy learns the new count at its next sync. The deleted rows cannot come back on
downgrade.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch copy (see 0006: a copy on SQLite cascades deletes).
    op.add_column('entries', sa.Column('author_tag', sa.LargeBinary(length=32), nullable=True))
    op.add_column('entries', sa.Column('terms_signature', sa.LargeBinary(length=64), nullable=True))
    op.add_column('corroborations', sa.Column('author_tag', sa.LargeBinary(length=32), nullable=True))

    bind = op.get_bind()
    own = bind.execute(
        sa.text(
            'SELECT c.id, c.entry_id, e.circle_id FROM corroborations c'
            ' JOIN entries e ON e.id = c.entry_id WHERE c.author_id = e.author_id'
            ' ORDER BY e.circle_id, e.seq, c.id'
        )
    ).all()
    touched: dict[object, list[object]] = {}
    for corroboration_id, entry_id, circle_id in own:
        bind.execute(sa.text('DELETE FROM corroborations WHERE id = :id'), {'id': corroboration_id})
        bind.execute(
            sa.text(
                'UPDATE entries SET corroboration_count = corroboration_count - 1'
                ' WHERE id = :id AND corroboration_count > 0'
            ),
            {'id': entry_id},
        )
        entries = touched.setdefault(circle_id, [])
        if entry_id not in entries:
            entries.append(entry_id)
    for circle_id, entry_ids in touched.items():
        for entry_id in entry_ids:
            change = bind.execute(
                sa.text(
                    'UPDATE circles SET change_seq = change_seq + 1 WHERE id = :id'
                    ' RETURNING change_seq'
                ),
                {'id': circle_id},
            ).scalar_one()
            bind.execute(
                sa.text('UPDATE entries SET change_seq = :change WHERE id = :id'),
                {'change': change, 'id': entry_id},
            )


def downgrade() -> None:
    # DROP COLUMN in place (SQLite 3.35 or later), for the reason given in upgrade().
    op.drop_column('corroborations', 'author_tag')
    op.drop_column('entries', 'terms_signature')
    op.drop_column('entries', 'author_tag')
