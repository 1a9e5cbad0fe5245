"""Registration: what the server stores, and what it refuses."""

import base64
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.accounts.models import AuthSession, User
from app.client.errors import ApiError, WeakPassphrase
from app.client.sdk import Client
from app.crypto import IdentityKeys, b64encode


def _valid_body(username: str = "dora") -> dict[str, object]:
    identity = IdentityKeys.generate().public()
    return {
        "username": username,
        "kdf": {
            "algorithm": "argon2id13",
            "opslimit": 3,
            "memlimit": 64 * 1024 * 1024,
            "salt": b64encode(b"s" * 16),
        },
        "auth_key": b64encode(b"a" * 32),
        "identity": {
            "x25519_public": b64encode(identity.x25519_public),
            "ed25519_public": b64encode(identity.ed25519_public),
            "x25519_signature": b64encode(identity.x25519_signature),
        },
        "key_bundle": b64encode(b"\x01" + b"b" * 104),
        "recovery": {
            "auth_key": b64encode(b"r" * 32),
            "key_bundle": b64encode(b"\x01" + b"c" * 104),
        },
    }


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_register_returns_session_fingerprint_and_recovery_code(
    make_client: Callable[..., Client],
) -> None:
    client = make_client()
    account = client.register("Alice", "correct horse battery amber")
    assert account.username == "alice"  # normalised
    assert account.fingerprint == account.identity.public().fingerprint()
    assert len(account.fingerprint.replace(" ", "")) == 30
    assert account.recovery_code is not None
    assert client.me()["username"] == "alice"


@pytest.mark.asvs("6.5.2")
def test_register_stores_argon2id_hashes_not_keys(
    register: Callable[..., Client], engine: Engine
) -> None:
    """ASVS 6.5.2: the recovery code's auth key (160 bits) is stored as an Argon2id hash."""
    register("alice")
    with Session(engine) as session:
        user = session.scalars(select(User)).one()
        assert user.auth_hash.startswith("$argon2id$")
        assert user.recovery_auth_hash.startswith("$argon2id$")
        token_hashes = session.scalars(select(AuthSession.token_hash)).all()
        assert all(len(h) == 32 for h in token_hashes)


def test_username_taken_is_409_and_first_account_is_untouched(
    register: Callable[..., Client], make_client: Callable[..., Client], engine: Engine
) -> None:
    first = register("alice")
    with pytest.raises(ApiError) as caught:
        make_client().register("ALICE", "another long passphrase")
    assert caught.value.status == 409
    assert caught.value.code == "username_taken"
    assert _count(engine, User) == 1
    assert first.me()["fingerprint"] == first.account.fingerprint  # type: ignore[attr-defined]


def test_bad_identity_signature_is_refused_and_nothing_is_stored(
    http: TestClient, engine: Engine
) -> None:
    body = _valid_body()
    other = IdentityKeys.generate().public()
    body["identity"]["x25519_public"] = b64encode(other.x25519_public)  # type: ignore[index]
    response = http.post("/v1/auth/register", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_identity"
    assert _count(engine, User) == 0
    assert _count(engine, AuthSession) == 0


def test_kdf_parameters_other_than_announced_are_refused(http: TestClient, engine: Engine) -> None:
    body = _valid_body()
    body["kdf"]["opslimit"] = 4  # type: ignore[index]
    response = http.post("/v1/auth/register", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "kdf_params_rejected"
    assert _count(engine, User) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "a"),
        ("username", "has space"),
        ("username", "x" * 33),
        ("auth_key", b64encode(b"short")),
        ("auth_key", "not base64!!"),
        ("auth_key", base64.urlsafe_b64encode(b"\xff" * 32).decode()),
        ("key_bundle", b64encode(b"\x01" * 10)),
        ("extra_field", "x"),
    ],
)
def test_malformed_registration_is_422_invalid_request(
    http: TestClient, engine: Engine, field: str, value: str
) -> None:
    body = _valid_body()
    body[field] = value
    response = http.post("/v1/auth/register", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert _count(engine, User) == 0


def test_integer_where_string_belongs_is_refused(http: TestClient) -> None:
    body = _valid_body()
    body["kdf"]["opslimit"] = "3"  # type: ignore[index]  # strict: no coercion
    response = http.post("/v1/auth/register", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.asvs("6.2.1")
def test_client_refuses_short_passphrase_before_contacting_server(
    make_client: Callable[..., Client], engine: Engine
) -> None:
    """ASVS 6.2.1: passphrases have at least 12 characters (ASVS asks for 8)."""
    with pytest.raises(WeakPassphrase):
        make_client().register("alice", "short")
    assert _count(engine, User) == 0


@pytest.mark.asvs("6.3.2")
def test_a_new_server_has_no_accounts_and_no_special_names(
    http: TestClient, engine: Engine, make_client: Callable[..., Client]
) -> None:
    """ASVS 6.3.2: migrations create no user (no root, admin or default account), and a name
    like "admin" is an ordinary account with no powers: the operator works from the command
    line, not through an account."""
    assert _count(engine, User) == 0
    admin = make_client()
    admin.register("admin", "an ordinary account passphrase")
    assert admin.request("GET", "/v1/circles") == []
    assert http.get("/v1/auth/params", params={"username": "root"}).status_code == 200
    assert _count(engine, User) == 1
