"""Passphrase change and recovery: same keys, other sessions end, the recovery code is one-time."""

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.client.errors import ApiError
from app.client.sdk import Client
from app.crypto import RecoveryCode
from tests.conftest import PASSPHRASES

NEW = "a brand new passphrase for alice"


def test_passphrase_change_keeps_keys_and_ends_other_sessions(
    register: Callable[..., Client], make_client: Callable[..., Client]
) -> None:
    first = register("alice")
    account = first.account  # type: ignore[attr-defined]
    second = make_client()
    second.login("alice", PASSPHRASES["alice"])
    first.change_passphrase(
        username="alice", current=PASSPHRASES["alice"], new=NEW, identity=account.identity
    )
    assert first.me()["username"] == "alice"  # the session that changed it lives on
    with pytest.raises(ApiError) as ended:
        second.me()
    assert ended.value.status == 401
    with pytest.raises(ApiError):
        make_client().login("alice", PASSPHRASES["alice"])
    again = make_client().login("alice", NEW)
    assert bytes(again.identity) == bytes(account.identity)


def test_passphrase_change_requires_the_current_passphrase(
    register: Callable[..., Client], make_client: Callable[..., Client], engine: Engine
) -> None:
    client = register("alice")
    with Session(engine) as session:
        before = session.scalars(select(User.auth_hash)).one()
    with pytest.raises(ApiError) as caught:
        client.change_passphrase(
            username="alice",
            current="wrong current passphrase",
            new=NEW,
            identity=client.account.identity,  # type: ignore[attr-defined]
        )
    assert caught.value.code == "invalid_credentials"
    with Session(engine) as session:
        assert session.scalars(select(User.auth_hash)).one() == before
    assert make_client().login("alice", PASSPHRASES["alice"]).username == "alice"


def test_recovery_restores_same_keys_ends_sessions_and_rotates_the_code(
    register: Callable[..., Client], make_client: Callable[..., Client]
) -> None:
    old = register("alice")
    original = old.account  # type: ignore[attr-defined]
    recovered = make_client().recover("alice", original.recovery_code, NEW)
    assert bytes(recovered.identity) == bytes(original.identity)
    assert recovered.fingerprint == original.fingerprint
    with pytest.raises(ApiError) as ended:
        old.me()
    assert ended.value.status == 401
    with pytest.raises(ApiError) as reused:
        make_client().recover("alice", original.recovery_code, "yet another passphrase")
    assert reused.value.code == "invalid_credentials"
    assert recovered.recovery_code is not None
    assert str(recovered.recovery_code) != str(original.recovery_code)
    assert make_client().login("alice", NEW).fingerprint == original.fingerprint


def test_wrong_recovery_code_is_refused_and_counted(
    register: Callable[..., Client], make_client: Callable[..., Client]
) -> None:
    register("alice")
    with pytest.raises(ApiError) as caught:
        make_client().recover("alice", RecoveryCode.generate(), NEW)
    assert caught.value.code == "invalid_credentials"
    assert make_client().login("alice", PASSPHRASES["alice"]).username == "alice"


def test_wrong_current_passphrase_on_a_stale_session_is_counted_not_locked(
    register: Callable[..., Client], engine: Engine
) -> None:
    """Regression: a pending last_used_at touch once held SQLite's lock against the counter."""
    from datetime import timedelta

    from sqlalchemy import func, update

    from app.accounts.models import AuthFailure, AuthSession
    from app.db import utcnow

    client = register("alice")
    with Session(engine) as session:
        session.execute(update(AuthSession).values(last_used_at=utcnow() - timedelta(minutes=5)))
        session.commit()
    with pytest.raises(ApiError) as caught:
        client.change_passphrase(
            username="alice",
            current="wrong current passphrase",
            new=NEW,
            identity=client.account.identity,  # type: ignore[attr-defined]
        )
    assert caught.value.code == "invalid_credentials"
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(AuthFailure)) == 3


def test_accounts_keep_working_after_the_operator_raises_kdf_cost(
    register: Callable[..., Client], settings: object
) -> None:
    from starlette.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings

    original = register("alice").account  # type: ignore[attr-defined]
    assert isinstance(settings, Settings)
    raised = settings.model_copy(update={"kdf_opslimit": 4})
    app = create_app(raised)
    with TestClient(app) as http:
        client = Client("http://testserver", http=http)
        account = client.login("alice", PASSPHRASES["alice"])
        client.change_passphrase(
            username="alice", current=PASSPHRASES["alice"], new=NEW, identity=account.identity
        )
        recovered = Client("http://testserver", http=http).recover(
            "alice", original.recovery_code, "third passphrase for alice"
        )
        assert recovered.fingerprint == original.fingerprint
        fresh = Client("http://testserver", http=http).register("zed", "zed passphrase long")
        assert fresh.username == "zed"
    app.state.engine.dispose()
