"""Migrations are tested code: one head, models equal the schema, every revision goes both ways."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from app.db import make_engine
from app.migrate import alembic_config, downgrade, upgrade
from app.models import metadata


def test_one_linear_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        assert not revision.is_merge_point


def test_models_match_the_schema_at_head(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_every_revision_goes_down_and_up_again(database_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    revisions = [r.revision for r in script.walk_revisions()]  # head first
    engine = make_engine(database_url)
    try:
        for revision in revisions:
            downgrade(database_url, f"{revision}-1" if revision != revisions[-1] else "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        upgrade(database_url)
        with engine.connect() as conn:
            assert set(metadata.tables) <= set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_0004_gives_existing_circles_an_entry_sequence_and_default_expiry(
    database_url: str,
) -> None:
    """Circles made before warnings existed start at entry_seq 0 with the 730-day default."""
    import uuid

    from sqlalchemy import text

    downgrade(database_url, "0003")
    engine = make_engine(database_url)
    circle_id = uuid.uuid4()
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO circles (id, epoch, record_seq, event_seq, rotation_due,"
                    " meta_epoch, meta_ciphertext, created_at) VALUES"
                    " (:id, 2, 5, 9, false, 0, :meta, CURRENT_TIMESTAMP)"
                ),
                {
                    "id": circle_id.hex if engine.dialect.name == "sqlite" else str(circle_id),
                    "meta": b"\x00" * 40,
                },
            )
        upgrade(database_url)
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT epoch, record_seq, entry_seq, entry_ttl_days FROM circles")
            ).one()
        assert tuple(row) == (2, 5, 0, 730)
    finally:
        engine.dispose()
