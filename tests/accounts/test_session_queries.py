"""The session check's Core statements (``app.accounts.queries``) answer what the ORM path
they replaced answered (issue 19): the same session and account for a token, the same
decision (live, ended or unknown), and the same last-use write."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, bindparam, select, update
from sqlalchemy.orm import Session, joinedload

from app.accounts import queries, service
from app.accounts.models import AuthSession
from app.accounts.tokens import new_token, token_hash
from app.client.sdk import Client
from app.db import coarse, utcnow
from app.errors import BackchannelError
from app.settings import Settings

# The statement ``service.authenticate`` ran before (the ORM path this replaced).
_ORM_SESSION_BY_TOKEN = (
    select(AuthSession)
    .options(joinedload(AuthSession.user))
    .where(AuthSession.token_hash == bindparam("digest"))
)


def _orm(session: Session, digest: bytes) -> object:
    record = session.scalar(_ORM_SESSION_BY_TOKEN, {"digest": digest})
    if record is None:
        return None
    user = record.user
    return (
        (record.id, record.user_id, record.token_hash),
        (record.last_used_at, record.expires_at, record.revoked_at),
        (user.id, user.username, user.kdf_salt, user.kdf_opslimit, user.kdf_memlimit),
        (user.x25519_public, user.ed25519_public, user.x25519_signature, user.key_bundle),
        (user.created_at, user.deleted_at),
    )


def _core(session: Session, digest: bytes) -> object:
    record = queries.session_by_digest(session, digest)
    if record is None:
        return None
    user = record.user
    return (
        (record.id, record.user_id, record.token_hash),
        (record.last_used_at, record.expires_at, record.revoked_at),
        (user.id, user.username, user.kdf_salt, user.kdf_opslimit, user.kdf_memlimit),
        (user.x25519_public, user.ed25519_public, user.x25519_signature, user.key_bundle),
        (user.created_at, user.deleted_at),
    )


def _orm_decision(session: Session, settings: Settings, token: str) -> object:
    """What the ORM path decided: the rule (``service.session_ended``) over its row."""
    record = session.scalar(
        _ORM_SESSION_BY_TOKEN, {"digest": token_hash(settings.server_key, token)}
    )
    if record is None:
        return "NotAuthenticated"
    return "SessionEnded" if service.session_ended(record, settings) else record.id


def _core_decision(session: Session, settings: Settings, token: str) -> object:
    try:
        return service.authenticate(session, settings, token=token).id
    except BackchannelError as exc:
        return type(exc).__name__


STATES = {
    "live": {},
    "revoked": {"revoked_at": timedelta(0)},
    "expired": {"expires_at": timedelta(seconds=-1)},
    "idle": {"last_used_at": "idle"},
}


@pytest.mark.parametrize("state", list(STATES))
def test_the_core_lookup_reads_and_decides_as_the_orm_one(
    register: Callable[..., Client], engine: Engine, settings: Settings, state: str
) -> None:
    client = register("alice")
    assert client.token is not None
    digest = token_hash(settings.server_key, client.token)
    now = utcnow()
    values = {
        key: now - timedelta(seconds=settings.session_idle_seconds + 1)
        if shift == "idle"
        else now + shift
        for key, shift in STATES[state].items()
    }
    if values:
        with Session(engine) as session, session.begin():
            session.execute(
                update(AuthSession).where(AuthSession.token_hash == digest).values(**values)
            )
    for token in (client.token, new_token(), "x" * 129):
        with Session(engine) as session:
            d = token_hash(settings.server_key, token)
            assert _core(session, d) == _orm(session, d)
        with Session(engine) as session:
            core = _core_decision(session, settings, token)
        with Session(engine) as session:
            orm = _orm_decision(session, settings, token) if len(token) <= 128 else core
        assert core == orm
    with Session(engine) as session:
        got = _core(session, digest)
        assert got is not None and got == _orm(session, digest)
    with Session(engine) as session:
        decided = _core_decision(session, settings, client.token)
    assert decided == (
        "SessionEnded" if values else got[0][0]  # type: ignore[index]
    )


def test_the_last_use_write_is_the_orm_one(
    register: Callable[..., Client], engine: Engine, settings: Settings
) -> None:
    """Recorded only when due (the stored hour older than the current one), once, to the
    hour, as the ORM statement it replaced did."""
    client = register("alice")
    assert client.token is not None
    digest = token_hash(settings.server_key, client.token)
    with Session(engine) as session:
        record = service.authenticate(session, settings, token=client.token)
    hour = coarse(utcnow())
    assert service.use_due(record) == (hour > record.last_used_at)
    earlier = hour - timedelta(hours=2)
    with Session(engine) as session, session.begin():
        session.execute(
            update(AuthSession).where(AuthSession.token_hash == digest).values(last_used_at=earlier)
        )
    with Session(engine) as session:
        record = service.authenticate(session, settings, token=client.token)
    assert service.use_due(record) and record.last_used_at == earlier
    with Session(engine) as session, session.begin():
        service.record_use(session, record)
    with Session(engine) as session:
        moved = session.scalar(select(AuthSession.last_used_at).where(AuthSession.id == record.id))
    assert moved is not None and moved >= hour
    with Session(engine) as session, session.begin():  # a second writer with the old row
        service.record_use(session, record)
    with Session(engine) as session:
        again = session.scalar(select(AuthSession.last_used_at).where(AuthSession.id == record.id))
    assert again == moved  # not recorded twice
