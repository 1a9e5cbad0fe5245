"""Session tokens: opaque, hashed at rest, ended by logout, idleness, age or credential change."""

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.accounts.models import AuthSession
from app.accounts.tokens import token_hash
from app.client.errors import ApiError
from app.client.sdk import Client
from app.db import utcnow
from app.settings import Settings
from tests.conftest import passphrase_for


def _status(http: TestClient, token: str | None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    response = http.get("/v1/me", headers=headers)
    return response.status_code, response.json().get("error", {}).get("code", "")


def test_anonymous_request_is_401(http: TestClient) -> None:
    assert _status(http, None) == (401, "not_authenticated")


@pytest.mark.asvs("7.2.1")
def test_forged_token_is_401(register: Callable[..., Client], http: TestClient) -> None:
    """ASVS 7.2.1: the server checks every token against its own store; a forged one is refused."""
    client = register("alice")
    assert client.token is not None
    forged = client.token[:-4] + ("AAAA" if not client.token.endswith("AAAA") else "BBBB")
    assert _status(http, forged) == (401, "not_authenticated")
    assert _status(http, "x" * 500) == (401, "not_authenticated")
    assert _status(http, client.token) == (200, "")


@pytest.mark.asvs("7.2.3")
def test_token_is_stored_only_as_a_keyed_hash(
    register: Callable[..., Client], engine: Engine, settings: Settings
) -> None:
    """ASVS 7.2.3: 256-bit reference tokens, kept only as keyed hashes."""
    client = register("alice")
    assert client.token is not None and len(client.token) >= 43  # 256 bits, base64url
    with Session(engine) as session:
        stored = session.scalars(select(AuthSession.token_hash)).one()
    assert stored == token_hash(settings.server_key, client.token)
    assert client.token.encode() not in stored


@pytest.mark.asvs("7.4.1")
def test_logout_revokes_the_token_server_side(
    register: Callable[..., Client], http: TestClient
) -> None:
    """ASVS 7.4.1: logout ends the session on the server."""
    client = register("alice")
    token = client.token
    client.logout()
    assert _status(http, token) == (401, "not_authenticated")


@pytest.mark.asvs("7.3.1", "7.4.1")
def test_idle_session_expires(
    register: Callable[..., Client], http: TestClient, engine: Engine, settings: Settings
) -> None:
    """ASVS 7.3.1, 7.4.1: the inactivity timeout ends the session on the server."""
    client = register("alice")
    with Session(engine) as session:
        session.execute(
            update(AuthSession).values(
                last_used_at=utcnow() - timedelta(seconds=settings.session_idle_seconds + 1)
            )
        )
        session.commit()
    assert _status(http, client.token) == (401, "not_authenticated")


@pytest.mark.asvs("7.3.2", "7.4.1")
def test_session_expires_at_its_absolute_lifetime_even_when_active(
    register: Callable[..., Client], http: TestClient, engine: Engine
) -> None:
    """ASVS 7.3.2, 7.4.1: the absolute lifetime ends even a busy session."""
    client = register("alice")
    with Session(engine) as session:
        session.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert _status(http, client.token) == (401, "not_authenticated")


def test_use_extends_the_idle_deadline(
    register: Callable[..., Client], engine: Engine, settings: Settings
) -> None:
    client = register("alice")
    stale = utcnow() - timedelta(seconds=settings.session_idle_seconds - 30)
    with Session(engine) as session:
        session.execute(update(AuthSession).values(last_used_at=stale))
        session.commit()
    client.me()
    with Session(engine) as session:
        touched = session.scalars(select(AuthSession.last_used_at)).one()
    assert touched > stale + timedelta(seconds=60)


def test_other_users_public_keys_need_a_session(
    register: Callable[..., Client], make_client: Callable[..., Client]
) -> None:
    alice = register("alice")
    register("bob")
    with pytest.raises(ApiError) as caught:
        make_client().user_keys("bob")
    assert caught.value.status == 401
    bob = alice.user_keys("bob")
    assert bob.username == "bob"
    with pytest.raises(ApiError) as missing:
        alice.user_keys("nobody")
    assert (missing.value.status, missing.value.code) == (404, "user_not_found")


@pytest.mark.asvs("7.2.2", "7.2.3")
def test_each_login_gets_a_fresh_random_token(
    register: Callable[..., Client], make_client: Callable[..., Client]
) -> None:
    """ASVS 7.2.2, 7.2.3: session tokens are made per login from the CSPRNG (256 bits), never
    a static key: every login of the same account gets another token."""
    from tests.conftest import PASSPHRASES

    tokens = {register("alice").token}
    for _ in range(3):
        tokens.add(make_client().login("alice", PASSPHRASES["alice"]).token)
    assert len(tokens) == 4
    assert all(token is not None and len(token) >= 43 for token in tokens)


@pytest.mark.asvs("7.2.4")
def test_login_ends_the_session_the_device_presented(
    register: Callable[..., Client], make_client: Callable[..., Client], http: TestClient
) -> None:
    """ASVS 7.2.4: authenticating again makes a new token and ends the one the device held."""
    from tests.conftest import PASSPHRASES

    client = register("alice")
    old = client.token
    client.login("alice", PASSPHRASES["alice"])  # the SDK presents its current token
    assert client.token != old
    assert _status(http, old) == (401, "not_authenticated")
    assert _status(http, client.token) == (200, "")
    other = make_client()
    other.login("alice", PASSPHRASES["alice"])  # another device: nothing of ours ends
    assert _status(http, client.token) == (200, "")


@pytest.mark.asvs("7.1.2", "7.5.2")
def test_users_see_their_parallel_sessions(
    register: Callable[..., Client], make_client: Callable[..., Client]
) -> None:
    """ASVS 7.1.2, 7.5.2: any number of parallel sessions (one per device, as documented); the
    user sees each one's times and which is this device's, never a token."""
    from tests.conftest import PASSPHRASES

    first = register("alice")
    devices = [make_client() for _ in range(3)]
    for device in devices:
        device.login("alice", PASSPHRASES["alice"])
    register("bob")
    listed = first.sessions()
    assert len(listed) == 4
    assert [row["current"] for row in listed] == [True, False, False, False]
    assert set(listed[0]) == {
        "session_id",
        "created_at",
        "last_used_at",
        "expires_at",
        "device_label",
        "current",
    }
    assert not any(device.token in str(listed) for device in devices)


def test_sessions_carry_the_device_label_their_client_chose(
    register: Callable[..., Client], http: TestClient
) -> None:
    """A login, a registration and a recovery name their device; an unnamed one stays None."""
    from tests.conftest import PASSPHRASES

    first = register("alice")
    phone = Client("http://testserver", http=http, device_label="Firefox on Android")
    phone.login("alice", PASSPHRASES["alice"])
    labels = [row["device_label"] for row in phone.sessions()]
    assert labels == [None, "Firefox on Android"]
    assert [row["current"] for row in first.sessions()] == [True, False]
    named = Client("http://testserver", http=http, device_label="Safari on iPhone")
    account = named.register("bob", PASSPHRASES["bob"])
    recovered = Client("http://testserver", http=http, device_label="CLI on Linux")
    recovered.recover("bob", account.recovery_code, "a brand new quartz passphrase")
    assert [row["device_label"] for row in recovered.sessions()] == ["CLI on Linux"]


@pytest.mark.parametrize("label", ["", "x" * 65, "line\nbreak", "bell\x07", 7])
def test_a_bad_device_label_is_refused_before_anything_is_written(
    register: Callable[..., Client], http: TestClient, label: object
) -> None:
    client = register("alice")
    before = len(client.sessions())
    response = http.post(
        "/v1/auth/login",
        json={"username": "alice", "auth_key": "A" * 43 + "=", "device_label": label},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert len(client.sessions()) == before


@pytest.mark.asvs("7.5.2")
def test_ending_sessions_needs_the_passphrase_again(
    register: Callable[..., Client], make_client: Callable[..., Client], http: TestClient
) -> None:
    """ASVS 7.5.2: ending sessions asks for the passphrase-derived key again (a stolen token
    alone cannot lock its owner out); one session by id, or every other one."""
    from tests.conftest import PASSPHRASES

    mine = register("alice")
    laptop, phone, tablet = (make_client() for _ in range(3))
    for device in (laptop, phone, tablet):
        device.login("alice", PASSPHRASES["alice"])
    with pytest.raises(ApiError) as refused:
        laptop.end_sessions(username="alice", passphrase="not alice's passphrase at all")
    assert refused.value.code == "invalid_credentials"
    assert len(mine.sessions()) == 4
    phone_id = next(row["session_id"] for row in phone.sessions() if row["current"])
    assert (
        mine.end_sessions(username="alice", passphrase=PASSPHRASES["alice"], session_ids=[phone_id])
        == 1
    )
    assert _status(http, phone.token) == (401, "not_authenticated")
    assert mine.end_sessions(username="alice", passphrase=PASSPHRASES["alice"]) == 2
    assert [_status(http, c.token)[0] for c in (laptop, tablet, mine)] == [401, 401, 200]
    assert len(mine.sessions()) == 1


@pytest.mark.asvs("7.5.2")
def test_a_user_cannot_end_another_users_session(
    register: Callable[..., Client], http: TestClient
) -> None:
    """ASVS 7.5.2 (and 8.2.2): session ids of another account end nothing."""
    from tests.conftest import PASSPHRASES

    alice, bob = register("alice"), register("bob")
    bob_id = bob.sessions()[0]["session_id"]
    ended = alice.end_sessions(
        username="alice", passphrase=PASSPHRASES["alice"], session_ids=[bob_id]
    )
    assert ended == 0
    assert _status(http, bob.token) == (200, "")


@pytest.mark.asvs("7.4.5")
def test_the_operator_ends_one_users_sessions_or_everyones(
    register: Callable[..., Client], http: TestClient, settings: Settings
) -> None:
    """ASVS 7.4.5: `backchannel-server sessions end --user NAME | --all`."""
    from typer.testing import CliRunner

    from app.cli import cli

    alice, bob = register("alice"), register("bob")
    env = {"BACKCHANNEL_DATABASE_URL": settings.database_url}
    runner = CliRunner()
    done = runner.invoke(cli, ["sessions", "end", "--user", "Alice"], env=env)
    assert done.exit_code == 0, done.output
    assert "sessions ended: 1" in done.output
    assert _status(http, alice.token)[0] == 401
    assert _status(http, bob.token)[0] == 200
    assert runner.invoke(cli, ["sessions", "end", "--user", "nobody"], env=env).exit_code == 1
    assert runner.invoke(cli, ["sessions", "end"], env=env).exit_code == 2
    assert runner.invoke(cli, ["sessions", "end", "--all"], env=env).exit_code == 0
    assert _status(http, bob.token)[0] == 401


@pytest.mark.asvs("7.4.2")
def test_deleting_an_account_ends_its_sessions(
    register: Callable[..., Client], http: TestClient, engine: Engine
) -> None:
    """ASVS 7.4.2: the app has no disable or delete feature; an account the operator deletes
    takes its sessions with it (foreign key cascade), so its token stops working at once."""
    from sqlalchemy import delete

    from app.accounts.models import User

    alice = register("alice")
    with Session(engine) as session:
        session.execute(delete(User).where(User.username == "alice"))
        session.commit()
        assert session.scalar(select(AuthSession.id)) is None
    assert _status(http, alice.token) == (401, "not_authenticated")


def test_parallel_reads_when_the_session_is_due_a_touch(
    register: Callable[..., Client], engine: Engine, live_server: str
) -> None:
    """Many reads with one token at the moment its last-use time is due for an update: every
    one succeeds (a read must not fail because another read recorded the use first, which on
    SQLite is a stale-snapshot upgrade), and the use is recorded. Found by bench.http_ceiling."""
    client = register("alice")
    for _ in range(3):
        stale = utcnow() - timedelta(hours=2)
        with Session(engine) as session:
            session.execute(update(AuthSession).values(last_used_at=stale))
            session.commit()

        def read(start: threading.Barrier) -> int:
            with httpx.Client(base_url=live_server, timeout=30) as http:
                start.wait()
                return http.get(
                    "/v1/me", headers={"authorization": f"Bearer {client.token}"}
                ).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(read, [threading.Barrier(16)] * 16))
        assert statuses == [200] * 16
        with Session(engine) as session:
            touched = session.scalars(select(AuthSession.last_used_at)).one()
        assert touched > stale + timedelta(minutes=59)


def test_more_due_reads_than_the_pool_holds_do_not_stall(
    register: Callable[..., Client],
    make_client: Callable[..., Client],
    engine: Engine,
    live_server: str,
) -> None:
    """40 reads at once, each on a session due a last-use write (as every active session is
    at the top of an hour): each read holds its connection while it waits for the write
    turn, and the writer holding the turn needs one more. With SQLite's default pool (5 + 10)
    the 16th checkout waited 30 s and failed. A read now gives its connection back before it
    waits, and SQLite's pool (a connection is a file handle) grows with the requests in
    flight; PostgreSQL's pool (10 + 20) is shared by 40 requests without a stall."""
    count = 40
    register("alice")
    clients = []
    for _ in range(count):  # one account, many devices: a session each
        device = make_client()
        device.login("alice", passphrase_for("alice"))
        clients.append(device)
    stale = utcnow() - timedelta(hours=2)
    with Session(engine) as session:
        session.execute(update(AuthSession).values(last_used_at=stale))
        session.commit()

    def read(job: tuple[threading.Barrier, Client]) -> tuple[int, float]:
        start, client = job
        with httpx.Client(base_url=live_server, timeout=60) as http:
            start.wait()
            began = time.monotonic()
            status = http.get(
                "/v1/me", headers={"authorization": f"Bearer {client.token}"}
            ).status_code
            return status, time.monotonic() - began

    barrier = threading.Barrier(count)
    with ThreadPoolExecutor(max_workers=count) as pool:
        results = list(pool.map(read, [(barrier, c) for c in clients]))
    assert [status for status, _ in results] == [200] * count
    assert max(seconds for _, seconds in results) < 10  # no 30-s pool wait
    with Session(engine) as session:
        touched = session.scalars(select(AuthSession.last_used_at)).all()
    # every read's session recorded its use (the registration's own session was not read)
    assert sum(moment > stale + timedelta(minutes=59) for moment in touched) == count


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_read_answers_when_its_use_cannot_be_recorded(
    register: Callable[..., Client], engine: Engine, http: TestClient
) -> None:
    """Recording a read's use is best effort: with the database's write lock held elsewhere
    past the busy timeout (10 s), the read still answers 200, and a later one records it."""
    client = register("alice")
    stale = utcnow() - timedelta(hours=2)
    with Session(engine) as session:
        session.execute(update(AuthSession).values(last_used_at=stale))
        session.commit()
    blocker = engine.connect()  # the app's writers wait out their 10 s busy timeout
    blocked = blocker.begin()
    blocker.execute(update(AuthSession).values(last_used_at=stale))  # takes the write lock
    try:
        response = http.get("/v1/me", headers={"authorization": f"Bearer {client.token}"})
    finally:
        blocked.rollback()
        blocker.close()
    assert response.status_code == 200
    client.me()
    with Session(engine) as session:
        assert session.scalars(select(AuthSession.last_used_at)).one() > stale
