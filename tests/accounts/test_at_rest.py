"""After registration the database holds no passphrase, auth_key, wrap_key or secret key bytes."""

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from app.client.sdk import Client
from app.crypto import AccountKeys, KdfParams, b64decode
from tests.conftest import PASSPHRASES


def _all_stored_bytes(engine: Engine) -> bytes:
    """Every value of every row of every table, as bytes."""
    chunks: list[bytes] = []
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            tables = [
                r[0]
                for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
            ]
        else:
            tables = [
                r[0]
                for r in conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            ]
        for table in tables:
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        chunks.append(bytes(value))
                    elif value is not None:
                        chunks.append(str(value).encode())
    return b"\n".join(chunks)


def test_database_holds_no_passphrase_or_secret_keys(
    register: Callable[..., Client], engine: Engine
) -> None:
    client = register("alice")
    account = client.account  # type: ignore[attr-defined]
    me = client.me()
    salt = b64decode(me["kdf"]["salt"])
    keys = AccountKeys.from_passphrase(
        PASSPHRASES["alice"], salt, KdfParams(me["kdf"]["opslimit"], me["kdf"]["memlimit"])
    )
    secrets = {
        "passphrase": PASSPHRASES["alice"].encode(),
        "auth_key": keys.auth_key,
        "wrap_key": keys.wrap_key,
        "x25519_secret": bytes(account.identity.box_key),
        "ed25519_seed": bytes(account.identity.signing_key),
        "recovery_auth_key": account.recovery_code.auth_key,
        "recovery_bundle_key": account.recovery_code.bundle_key,
        "session_token": client.token.encode(),
    }
    stored = _all_stored_bytes(engine)
    if engine.dialect.name == "sqlite":
        path = make_url(str(engine.url)).database
        assert path is not None
        engine.dispose()  # flush everything to disk, then search the raw files too
        for suffix in ("", "-wal"):
            file = Path(path + suffix)
            if file.exists():
                stored += file.read_bytes()
    for name, secret in secrets.items():
        assert secret not in stored, f"{name} found in the database"
        assert secret.hex().encode() not in stored, f"{name} (hex) found in the database"
    # Sanity: the search does see what is stored.
    assert bytes(account.identity.public().ed25519_public) in stored
