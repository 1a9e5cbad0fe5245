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


def test_0006_drops_the_name_tokens_and_numbers_existing_entries_as_changes(
    database_url: str,
) -> None:
    """Existing entries take change_seq = seq and each circle's counter its entry_seq, so a
    client syncing from 0 receives every entry once; the server's name tokens are gone."""
    import uuid

    from sqlalchemy import text

    downgrade(database_url, "0005")
    engine = make_engine(database_url)
    circle_id, user_id = uuid.uuid4(), uuid.uuid4()
    ids = [uuid.uuid4() for _ in range(3)]

    def key(value: uuid.UUID) -> str:
        return value.hex if engine.dialect.name == "sqlite" else str(value)

    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, username, kdf_opslimit, kdf_memlimit, kdf_salt,"
                    " auth_hash, x25519_public, ed25519_public, x25519_signature, key_bundle,"
                    " recovery_auth_hash, recovery_bundle, created_at, credentials_changed_at)"
                    " VALUES (:id, 'zoe', 3, 67108864, :b16, 'h', :b32, :b32, :b64, :b64, 'h',"
                    " :b64, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": key(user_id), "b16": bytes(16), "b32": bytes(32), "b64": bytes(64)},
            )
            conn.execute(
                text(
                    "INSERT INTO circles (id, epoch, record_seq, event_seq, rotation_due,"
                    " meta_epoch, meta_ciphertext, created_at, entry_seq, entry_ttl_days) VALUES"
                    " (:id, 0, 0, 0, false, 0, :meta, CURRENT_TIMESTAMP, 3, 730)"
                ),
                {"id": key(circle_id), "meta": bytes(40)},
            )
            for seq, entry_id in enumerate(ids, start=1):
                conn.execute(
                    text(
                        "INSERT INTO entries (id, circle_id, seq, epoch, author_id, anonymous,"
                        " author_key, commitment, nonce, ciphertext, signature, status,"
                        " corroboration_count, created_at, expires_at) VALUES (:id, :c, :seq,"
                        " 0, :u, false, :b32, :b32, :b24, :b528, :b64, 'live', 0,"
                        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {
                        "id": key(entry_id),
                        "c": key(circle_id),
                        "seq": seq,
                        "u": key(user_id),
                        "b32": bytes(32),
                        "b24": bytes(24),
                        "b528": bytes(528),
                        "b64": bytes(64),
                    },
                )
                conn.execute(
                    text(
                        "INSERT INTO entry_tokens (entry_id, token, circle_id, seq)"
                        " VALUES (:e, :t, :c, :seq)"
                    ),
                    {"e": key(entry_id), "t": bytes([seq]) * 32, "c": key(circle_id), "seq": seq},
                )
            conn.execute(
                text(
                    "INSERT INTO corroborations (id, entry_id, circle_id, epoch, author_id,"
                    " anonymous, author_key, commitment, created_at) VALUES (:id, :e, :c, 0, :u,"
                    " true, :b32, :b32, CURRENT_TIMESTAMP)"
                ),
                {
                    "id": key(uuid.uuid4()),
                    "e": key(ids[0]),
                    "c": key(circle_id),
                    "u": key(user_id),
                    "b32": bytes(32),
                },
            )
        upgrade(database_url, "0006")  # 0011 would delete this self-corroboration
        with engine.connect() as conn:
            assert "entry_tokens" not in inspect(conn).get_table_names()
            rows = conn.execute(text("SELECT seq, change_seq FROM entries ORDER BY seq")).all()
            counter = conn.execute(text("SELECT change_seq FROM circles")).scalar_one()
            # Nothing that cascades from entries or circles was lost on the way (SQLite
            # deletes them if a migration copies and drops the table).
            kept = conn.execute(text("SELECT count(*) FROM corroborations")).scalar_one()
        assert [tuple(r) for r in rows] == [(1, 1), (2, 2), (3, 3)] and counter == 3
        assert kept == 1
    finally:
        engine.dispose()
        upgrade(database_url)
