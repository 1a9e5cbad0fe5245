"""moderation cases are listed a page at a time: indexes for the page order

A list walks (circle_id, created_at, id) newest first: for every case, for one status, and
for the open ones (a partial index on status IN ('open', 'hidden')). The old
(circle_id, created_at) index is the first one's prefix and goes. Indexes only: old code
runs on it unchanged.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status IN ('open', 'hidden')")


def upgrade() -> None:
    op.create_index(
        "ix_moderation_cases_page", "moderation_cases", ["circle_id", "created_at", "id"]
    )
    op.create_index(
        "ix_moderation_cases_status",
        "moderation_cases",
        ["circle_id", "status", "created_at", "id"],
    )
    op.create_index(
        "ix_moderation_cases_open",
        "moderation_cases",
        ["circle_id", "created_at", "id"],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.drop_index("ix_moderation_cases_circle", table_name="moderation_cases")


def downgrade() -> None:
    op.create_index(
        "ix_moderation_cases_circle", "moderation_cases", ["circle_id", "created_at"]
    )
    op.drop_index("ix_moderation_cases_open", table_name="moderation_cases")
    op.drop_index("ix_moderation_cases_status", table_name="moderation_cases")
    op.drop_index("ix_moderation_cases_page", table_name="moderation_cases")
