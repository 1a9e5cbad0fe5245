"""Passphrase change and recovery: same keys, other sessions end, the recovery code is one-time."""

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.accounts.models import User
from app.client.errors import ApiError
from app.client.sdk import Client
from app.crypto import RecoveryCode, b64encode
from tests.conftest import PASSPHRASES

NEW = "a brand new passphrase for her"


@pytest.mark.asvs("6.2.2", "7.4.3")
def test_passphrase_change_keeps_keys_and_ends_other_sessions(
    register: Callable[..., Client], make_client: Callable[..., Client]
) -> None:
    """ASVS 6.2.2, 7.4.3: users change their passphrase; every other session ends."""
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


@pytest.mark.asvs("6.2.3", "7.5.1")
def test_passphrase_change_requires_the_current_passphrase(
    register: Callable[..., Client], make_client: Callable[..., Client], engine: Engine
) -> None:
    """ASVS 6.2.3, 7.5.1: a change needs the current passphrase as well as the new one."""
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


@pytest.mark.asvs("6.4.3", "6.5.1", "7.4.3", "7.5.1")
def test_recovery_restores_same_keys_ends_sessions_and_rotates_the_code(
    register: Callable[..., Client], make_client: Callable[..., Client]
) -> None:
    """ASVS 6.4.3, 6.5.1, 7.4.3, 7.5.1: recovery needs the recovery code, ends every
    session, and the code works once."""
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
            "alice", original.recovery_code, "a third passphrase for her"
        )
        assert recovered.fingerprint == original.fingerprint
        fresh = Client("http://testserver", http=http).register("zed", "a passphrase long enough")
        assert fresh.username == "zed"
    app.state.engine.dispose()


@pytest.mark.asvs("6.2.5")
def test_passphrases_of_any_composition_work(make_client: Callable[..., Client]) -> None:
    """ASVS 6.2.5: no composition rules: lower case only, spaces, any script, emoji."""
    for name, passphrase in (
        ("dora", "only lower case words here"),
        ("emil", "пароль из слов 日本語 🙂 ok"),
        ("fay", "            twelve spaces then"),
    ):
        assert make_client().register(name, passphrase).username == name
        assert make_client().login(name, passphrase).username == name


@pytest.mark.asvs("6.2.8", "6.2.9")
def test_long_passphrases_are_used_exactly_as_typed(make_client: Callable[..., Client]) -> None:
    """ASVS 6.2.8, 6.2.9: 64+ characters are permitted, and every character counts: no
    truncation and no case folding (only Unicode NFKC, as NIST SP 800-63B recommends)."""
    passphrase = "Correct Horse Battery Staple " * 7 + "X"  # 204 characters
    make_client().register("dora", passphrase)
    assert make_client().login("dora", passphrase).username == "dora"
    for variant in (passphrase[:-1] + "Y", passphrase[:72], passphrase.lower()):
        with pytest.raises(ApiError) as caught:
            make_client().login("dora", variant)
        assert caught.value.code == "invalid_credentials"


@pytest.mark.asvs("6.2.10")
def test_a_passphrase_never_expires(
    register: Callable[..., Client], make_client: Callable[..., Client], engine: Engine
) -> None:
    """ASVS 6.2.10: no periodic rotation: a passphrase set ten years ago still works."""
    from datetime import timedelta

    from sqlalchemy import update

    from app.db import utcnow

    register("alice")
    decade_ago = utcnow() - timedelta(days=3650)
    with Session(engine) as session:
        session.execute(
            update(User).values(created_at=decade_ago, credentials_changed_at=decade_ago)
        )
        session.commit()
    assert make_client().login("alice", PASSPHRASES["alice"]).username == "alice"


@pytest.mark.asvs("6.4.2")
def test_there_are_no_passphrase_hints_or_secret_questions(http: TestClient) -> None:
    """ASVS 6.4.2: no request of the API carries a hint or a security question, and strict
    schemas refuse one if a client sends it."""
    schemas = http.get("/openapi.json").json()["components"]["schemas"]
    fields = {field for schema in schemas.values() for field in schema.get("properties", {})}
    assert not {f for f in fields if any(w in f for w in ("hint", "question", "answer"))}
    response = http.post(
        "/v1/auth/login",
        json={"username": "alice", "auth_key": b64encode(bytes(32)), "hint": "my cat"},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_request")


@pytest.mark.asvs("6.5.3", "6.5.4")
def test_recovery_codes_are_160_random_bits() -> None:
    """ASVS 6.5.3, 6.5.4: the recovery code (a lookup secret) is 160 bits from the OS CSPRNG
    (``secrets``), far above the 20-bit floor, shown as 32 Crockford base32 characters."""
    codes = {str(RecoveryCode.generate()) for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code.replace("-", "")) == 32 for code in codes)  # 32 x 5 bits
    first_chars = {code[0] for code in codes}
    assert len(first_chars) == 32  # every symbol shows up: not a narrow generator


@pytest.mark.asvs("6.3.1", "6.3.4")
def test_every_credential_pathway_shares_one_throttle(
    register: Callable[..., Client], http: TestClient
) -> None:
    """ASVS 6.3.1, 6.3.4: recovery is no side door: its failures fill the same counters as
    logins, so after ten wrong recovery codes the login is throttled too."""
    register("alice")
    for _ in range(10):
        response = http.post(
            "/v1/auth/recovery/bundle",
            json={"username": "alice", "recovery_auth_key": b64encode(bytes(32))},
        )
        assert response.status_code == 401
    login = http.post(
        "/v1/auth/login", json={"username": "alice", "auth_key": b64encode(bytes(32))}
    )
    assert (login.status_code, login.json()["error"]["code"]) == (429, "rate_limited")


# Every way to prove who you are; docs/api.md documents each (ASVS 6.3.4).
CREDENTIAL_ROUTES = {
    ("POST", "/v1/auth/register"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/recovery/bundle"),
    ("POST", "/v1/auth/recovery/complete"),
    ("POST", "/v1/me/passphrase"),
    ("POST", "/v1/me/sessions/end"),
    ("POST", "/v1/me/delete"),
}


@pytest.mark.asvs("6.1.3", "6.3.4")
def test_there_is_no_undocumented_authentication_pathway(http: TestClient) -> None:
    """ASVS 6.1.3, 6.3.4: the routes that take a credential are exactly the known seven, each
    documented in docs/api.md, each checked by the same Argon2 verifier and throttle; every
    other route is public by design or needs a session (tests/test_access_all.py)."""
    from pathlib import Path

    spec = http.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    credential_fields = {"auth_key", "current_auth_key", "recovery_auth_key"}
    found = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            ref = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
                .get("$ref", "")
            )
            body = schemas.get(ref.rsplit("/", 1)[-1], {})
            if credential_fields & set(body.get("properties", {})):
                found.add((method.upper(), path))
    assert found == CREDENTIAL_ROUTES
    api = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    for method, path in CREDENTIAL_ROUTES:
        assert f"| {method} | `{path}` |" in api, path
