"""anonymous posting tokens: anonymous entries and corroborations keep no account

Adds the issuance records (an admin-signed issuance key per circle and epoch), the
per-member issuance counts and the spent-token nullifiers (docs/protocol.md §38), and a
sealed author (``sealed_author``, ``author_generation``) on entries and corroborations.

``author_id`` becomes nullable on both tables, and this revision **nulls it on every
existing anonymous entry and corroboration**: from here the server cannot say who wrote
them. Those rows have no sealed author either, so the admins cannot unmask them; they can
still hide or remove them. Their authors still retract them with the per-entry key (§24).

On SQLite, NOT NULL is dropped by rewriting the table's declaration in ``sqlite_schema``
(SQLite's documented procedure for removing a NOT NULL constraint, which changes nothing
on disk), never by a batch copy: dropping the old ``entries`` table would cascade to its
corroborations. Downgrading deletes the anonymous rows made after this revision (the old
schema cannot hold a row without its account) and restores NOT NULL.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("entries", "corroborations")


def _sqlite_author_nullable(nullable: bool) -> None:
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    for table in TABLES:
        sql = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type='table' AND name=?", (table,)
        ).scalar_one()
        strict, loose = "author_id CHAR(32) NOT NULL", "author_id CHAR(32)"
        old, new = (strict, loose) if nullable else (loose, strict)
        if old not in sql:
            raise RuntimeError(f"unexpected declaration of {table}.author_id")
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql=? WHERE type='table' AND name=?",
            (sql.replace(old, new, 1), table),
        )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def _author_nullable(nullable: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_author_nullable(nullable)
        return
    for table in TABLES:
        op.alter_column(table, "author_id", existing_type=sa.Uuid(), nullable=nullable)


def upgrade() -> None:
    _author_nullable(True)
    for table in TABLES:
        op.add_column(table, sa.Column("sealed_author", sa.LargeBinary(), nullable=True))
        op.add_column(table, sa.Column("author_generation", sa.Integer(), nullable=True))
        op.execute(sa.text(f"UPDATE {table} SET author_id = NULL WHERE anonymous"))  # noqa: S608
    op.create_index(
        "uq_corroborations_entry_id_author_tag",
        "corroborations",
        ["entry_id", "author_tag"],
        unique=True,
    )
    op.create_table(
        "anon_issuance_records",
        sa.Column("circle_id", sa.Uuid(), nullable=False),
        sa.Column("epoch", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("record", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column("signer_id", sa.Uuid(), nullable=False),
        sa.Column("tokens_per_week", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_anon_issuance_records_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signer_id"], ["users.id"], name=op.f("fk_anon_issuance_records_signer_id_users")
        ),
        sa.PrimaryKeyConstraint("circle_id", "epoch", name=op.f("pk_anon_issuance_records")),
    )
    op.create_table(
        "anon_issuances",
        sa.Column("circle_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("epoch", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("period", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_anon_issuances_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_anon_issuances_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "circle_id", "user_id", "epoch", "period", name=op.f("pk_anon_issuances")
        ),
    )
    op.create_table(
        "anon_spent_tokens",
        sa.Column("circle_id", sa.Uuid(), nullable=False),
        sa.Column("nullifier", sa.LargeBinary(length=32), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_anon_spent_tokens_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("circle_id", "nullifier", name=op.f("pk_anon_spent_tokens")),
    )


def downgrade() -> None:
    op.drop_table("anon_spent_tokens")
    op.drop_table("anon_issuances")
    op.drop_table("anon_issuance_records")
    op.drop_index("uq_corroborations_entry_id_author_tag", table_name="corroborations")
    for table in TABLES:
        op.drop_column(table, "author_generation")
        op.drop_column(table, "sealed_author")
    # The old schema has no place for a row without its account.
    op.execute(sa.text("DELETE FROM corroborations WHERE author_id IS NULL"))
    op.execute(sa.text("DELETE FROM entries WHERE author_id IS NULL"))
    _author_nullable(False)
