"""the audit tree's complete subtrees, so heads and proofs cost O(log n)

Every complete subtree of each circle's audit tree is stored as its leaves are appended
(about two rows per leaf), keyed by ``node = position * 64 + level``; the events that exist are backfilled here, circle by circle.
Code from before this revision does not write nodes: this is a stop-migrate-start upgrade.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.crypto import merkle

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    nodes = op.create_table(
        "audit_nodes",
        sa.Column("circle_id", sa.Uuid(), nullable=False),
        sa.Column("node", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_audit_nodes_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("circle_id", "node", name=op.f("pk_audit_nodes")),
    )
    conn = op.get_bind()
    events = sa.table(
        "membership_events",
        sa.column("circle_id", sa.Uuid()),
        sa.column("seq", sa.Integer()),
        sa.column("leaf_hash", sa.LargeBinary()),
    )
    circles = conn.execute(sa.select(events.c.circle_id).distinct()).scalars().all()
    for circle_id in circles:
        hashes = conn.execute(
            sa.select(events.c.leaf_hash)
            .where(events.c.circle_id == circle_id)
            .order_by(events.c.seq)
        ).scalars()
        tree = merkle.MerkleTree.from_leaf_hashes(bytes(h) for h in hashes)
        rows = [
            {"circle_id": circle_id, "node": position * 64 + level, "hash": tree.node(level, position)}
            for level in range(tree.size.bit_length())
            for position in range(tree.size >> level)
        ]
        for start in range(0, len(rows), BATCH):
            conn.execute(nodes.insert(), rows[start : start + BATCH])


def downgrade() -> None:
    op.drop_table("audit_nodes")
