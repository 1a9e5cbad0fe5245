"""The same-semantics ceiling (issue 19): the hot paths' work with nothing in the way.

A plain Starlette app on the raw drivers (stdlib ``sqlite3``; psycopg 3 async for
PostgreSQL), no ORM and no cache, doing per request exactly what the real server does:

* every route: the keyed BLAKE2b hash of the bearer token, one query for the session and its
  user, the revoked/expired/idle checks, and the last-use write when it is due (a read's in a
  short write transaction of its own, a write's in the request's transaction);
* ``GET /v1/me``: the fingerprint and the account's JSON;
* ``GET /v1/circles/{id}/entries``: the circle and membership check, then the same
  newest-first page query (``limit``, ``before``), hidden entries without their envelope;
* ``POST /v1/circles/{id}/entries``: the same guard (``app.guard``: size, media type), the
  same body checks (``EntryCreate``), the circle row locked, the membership read after it,
  idempotency, the epoch, author-key, size and Ed25519 checks, the circle's counters, the
  insert and the commit.

Refusals answer what the real server answers, with the same security events. The queries run
on the event loop (SQLite: two connections, one for reads and one for writes; PostgreSQL:
one pooled async connection per request). ``tests/test_ceiling.py`` proves it answers byte
for byte what the real server answers, so it cannot drift into a toy; when the real hot paths
change what they check or answer, this file follows.

Run by ``bench.http_ceiling`` as ``bench.ceiling:create_ceiling`` (uvicorn factory), with
the real server's ``BACKCHANNEL_*`` settings.
"""

from __future__ import annotations

import asyncio
import binascii
import hmac
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import security_log
from app.accounts.credentials import log_authentication
from app.accounts.tokens import token_hash
from app.crypto import CryptoError, fingerprint
from app.crypto.entries import BUCKETS, ENTRY, Envelope, EnvelopeContext, verify_terms
from app.db import coarse
from app.entries.schemas import EntryCreate
from app.errors import error_body
from app.guard import NoSniff, RequestGuard
from app.settings import Settings
from app.types import INTEGER_MAX

_CIPHERTEXT_SIZES = frozenset(b + 16 for b in BUCKETS)


class Refused(Exception):
    """A refusal, answered as the real server's error handler answers it."""

    def __init__(self, status: int, code: str, message: str, event: str | None = None) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.event = status, code, message, event


def _not_found() -> Refused:
    return Refused(
        404, "circle_not_found", "No such circle, or you are not in it.", "access_denied"
    )


_PENDING = (403, "membership_pending", "An admin has not confirmed your membership yet.")
_REMOVED = (403, "not_a_member", "You are no longer a member of this circle.")
_NO_TOKEN_MESSAGE = "A valid session is required."
_ENDED_MESSAGE = "Your session has ended; log in again."


def _now() -> datetime:
    return datetime.now(UTC)


def _json(content: Any, status: int = 200) -> Response:
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(body.encode(), status_code=status, media_type="application/json")


def _b64(raw: bytes | None) -> str | None:
    return None if raw is None else binascii.b2a_base64(raw, newline=False).decode("ascii")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- the two drivers ---------------------------------------------------------------------------

_SESSION = (
    "SELECT s.id, s.token_hash, s.last_used_at, s.expires_at, s.revoked_at, u.id, u.username,"
    " u.kdf_salt, u.kdf_opslimit, u.kdf_memlimit, u.x25519_public, u.ed25519_public,"
    " u.x25519_signature, u.key_bundle, u.created_at"
    " FROM auth_sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = %s"
)
_TOUCH_SQL = "UPDATE auth_sessions SET last_used_at = %s WHERE id = %s AND last_used_at < %s"
_CIRCLE_AND_MEMBERSHIP = (
    "SELECT c.id, c.epoch, c.entry_seq, c.change_seq, c.entry_ttl_days, m.status"
    " FROM circles c LEFT JOIN memberships m ON m.circle_id = c.id AND m.user_id = %s"
    " WHERE c.id = %s"
)
_CIRCLE_LOCKED = (
    "SELECT id, epoch, entry_seq, change_seq, entry_ttl_days FROM circles WHERE id = %s"
)
_MEMBERSHIP = "SELECT status FROM memberships WHERE circle_id = %s AND user_id = %s"
_FEED = (
    "SELECT e.id, e.seq, e.epoch, e.status, e.anonymous,"
    " CASE WHEN e.anonymous THEN NULL ELSE u.username END, e.author_key, e.commitment, e.nonce,"
    " e.ciphertext, e.signature, e.corroboration_count, e.created_at, e.expires_at, e.change_seq,"
    " e.author_tag, e.terms_signature"
    " FROM entries e LEFT JOIN users u ON u.id = e.author_id WHERE e.circle_id = %s{before}"
    " ORDER BY e.seq DESC LIMIT %s"
)
_EXISTING = (
    "SELECT circle_id, author_id, signature, ciphertext, seq, created_at, expires_at"
    " FROM entries WHERE id = %s"
)
_BUMP = "UPDATE circles SET entry_seq = %s, change_seq = %s WHERE id = %s"
_INSERT = (
    "INSERT INTO entries (id, circle_id, seq, epoch, author_id, anonymous, author_key,"
    " commitment, nonce, ciphertext, signature, author_tag, terms_signature, status,"
    " corroboration_count, created_at, expires_at, wiped_at, change_seq)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'live', 0, %s, %s, NULL, %s)"
)


class Store:
    """One driver's statements and value forms. Methods are coroutines for both drivers; the
    SQLite ones never suspend, so a use case runs on the loop without interleaving."""

    def uid(self, value: uuid.UUID) -> Any:
        return value

    def read_uid(self, value: Any) -> uuid.UUID:
        return value  # type: ignore[no-any-return]

    def ts(self, value: datetime) -> Any:
        return value

    def read_ts(self, value: Any) -> datetime:
        return value.astimezone(UTC)  # type: ignore[no-any-return]

    def read_bool(self, value: Any) -> bool:
        return bool(value)


class SqliteStore(Store):
    """As SQLAlchemy stores them on SQLite: UUIDs as 32 hex digits, times as UTC text."""

    def __init__(self, path: str) -> None:
        self.reader = self._connect(path)
        self.writer = self._connect(path)

    @staticmethod
    def _connect(path: str) -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def uid(self, value: uuid.UUID) -> Any:
        return value.hex

    def read_uid(self, value: Any) -> uuid.UUID:
        return uuid.UUID(value)

    def ts(self, value: datetime) -> Any:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def read_ts(self, value: Any) -> datetime:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Callable[..., Any]]:
        q = _SqliteQuery(self.reader, "BEGIN")
        try:
            yield q
        finally:
            await q.finish(commit=False)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Callable[..., Any]]:
        q = _SqliteQuery(self.writer, "BEGIN IMMEDIATE")
        try:
            yield q
        finally:
            await q.finish(commit=False)

    async def close(self) -> None:
        self.reader.close()
        self.writer.close()


class _SqliteQuery:
    """``await q(sql, params)`` -> rows, inside one transaction; ``await q.finish(...)``."""

    def __init__(self, conn: sqlite3.Connection, begin: str) -> None:
        self.conn = conn
        self.conn.execute(begin)
        self.done = False

    async def __call__(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        return self.conn.execute(sql.replace("%s", "?"), params).fetchall()

    async def finish(self, *, commit: bool) -> None:
        if not self.done:
            self.done = True
            self.conn.execute("COMMIT" if commit else "ROLLBACK")


class PostgresStore(Store):
    """psycopg 3 async connections, one per request, kept in a small pool."""

    def __init__(self, url: str, size: int = 16) -> None:
        self.url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.idle: asyncio.Queue[Any] = asyncio.Queue()
        self.made = 0
        self.size = size

    async def _get(self) -> Any:
        import psycopg

        if self.idle.empty() and self.made < self.size:
            self.made += 1
            return await psycopg.AsyncConnection.connect(self.url)
        return await self.idle.get()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Callable[..., Any]]:
        conn = await self._get()
        q = _PgQuery(conn)
        try:
            yield q
        finally:
            await q.finish(commit=False)
            self.idle.put_nowait(conn)

    read = write = _transaction

    async def close(self) -> None:
        while not self.idle.empty():
            await self.idle.get_nowait().close()


class _PgQuery:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.done = False

    async def __call__(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        cursor = await self.conn.execute(sql, params)
        return await cursor.fetchall() if cursor.description else []  # type: ignore[no-any-return]

    async def finish(self, *, commit: bool) -> None:
        if not self.done:
            self.done = True
            await (self.conn.commit() if commit else self.conn.rollback())


# -- the routes ---------------------------------------------------------------------------------


class Ceiling:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.key = settings.server_key
        self.idle = timedelta(seconds=settings.session_idle_seconds)

    async def authenticate(self, request: Request, q: Any, *, write: bool) -> tuple[Any, ...]:
        """The live session's row (session and user columns); records the use when due."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        reason = "no_token" if scheme.lower() != "bearer" or not token else None
        row = None
        if reason is None:
            if len(token) > 128:
                reason = "invalid_token"
            else:
                digest = token_hash(self.key, token)
                rows = await q(_SESSION, (digest,))
                row = rows[0] if rows else None
                if row is None or not hmac.compare_digest(bytes(row[1]), digest):
                    reason = "invalid_token"
        if row is not None and reason is None:
            now = _now()
            last_used = self.store.read_ts(row[2])
            if (
                row[4] is not None
                or now >= self.store.read_ts(row[3])
                or now >= last_used + self.idle
            ):
                reason = "session_ended"
            elif coarse(now) > last_used:  # last use is a whole hour (app/retention.py)
                hour = self.store.ts(coarse(now))
                touch = (hour, row[0], hour)
                if write:
                    await q(_TOUCH_SQL, touch)
                else:
                    async with self.store.write() as w:
                        await w(_TOUCH_SQL, touch)
                        await w.finish(commit=True)
        if reason is not None:
            fields = security_log.request_fields(request)
            log_authentication(
                "session",
                outcome="failure",
                reason=reason,
                user=None,
                address=fields["address"],
                factor="session_token",
                method=fields["method"],
                path=fields["path"],
            )
            message = _ENDED_MESSAGE if reason == "session_ended" else _NO_TOKEN_MESSAGE
            raise Refused(401, "not_authenticated", message)
        request.scope.setdefault("state", {})["username"] = row[6]
        return tuple(row)

    def refusal(self, request: Request, exc: Refused) -> Response:
        if exc.event is not None:
            security_log.record(
                exc.event,
                outcome="refused",
                level=20 if exc.event == "request_rejected" else 30,
                status=exc.status,
                code=exc.code,
                **security_log.request_fields(request),
            )
        return _json(error_body(exc.code, exc.message), exc.status)

    @staticmethod
    def member(status: Any) -> None:
        if status is None:
            raise _not_found()
        if status == "pending":
            raise Refused(*_PENDING, "access_denied")
        if status != "active":
            raise Refused(*_REMOVED, "access_denied")

    async def me(self, request: Request) -> Response:
        try:
            async with self.store.read() as q:
                row = await self.authenticate(request, q, write=False)
                await q.finish(commit=True)
        except Refused as exc:
            return self.refusal(request, exc)
        (*_, username, salt, ops, mem, x_pub, ed_pub, x_sig, bundle, created) = row
        return _json(
            {
                "username": username,
                "fingerprint": fingerprint(bytes(ed_pub), bytes(x_pub)),
                "identity": {
                    "x25519_public": _b64(bytes(x_pub)),
                    "ed25519_public": _b64(bytes(ed_pub)),
                    "x25519_signature": _b64(bytes(x_sig)),
                },
                "kdf": {
                    "algorithm": "argon2id13",
                    "opslimit": ops,
                    "memlimit": mem,
                    "salt": _b64(bytes(salt)),
                },
                "key_bundle": _b64(bytes(bundle)),
                "created_at": _utc(self.store.read_ts(created)),
            }
        )

    async def feed(self, request: Request) -> Response:
        store = self.store
        try:
            async with store.read() as q:
                user = await self.authenticate(request, q, write=False)
                circle_id, limit, before = _feed_params(request)
                rows = await q(_CIRCLE_AND_MEMBERSHIP, (user[5], store.uid(circle_id)))
                if not rows:
                    raise _not_found()
                _, _, entry_seq, change_seq, _, status = rows[0]
                self.member(status)
                sql = _FEED.format(before="" if before is None else " AND e.seq < %s")
                params = (
                    (store.uid(circle_id), limit)
                    if before is None
                    else (
                        store.uid(circle_id),
                        before,
                        limit,
                    )
                )
                page = await q(sql, params)
                await q.finish(commit=True)
        except Refused as exc:
            return self.refusal(request, exc)
        entries = []
        for e in page:
            hidden = e[3] == "hidden"
            entries.append(
                {
                    "entry_id": str(store.read_uid(e[0])),
                    "seq": e[1],
                    "epoch": e[2],
                    "status": e[3],
                    "anonymous": store.read_bool(e[4]),
                    "author": e[5],
                    "author_key": _b64(bytes(e[6])),
                    "commitment": _b64(bytes(e[7])),
                    "nonce": None if hidden or e[8] is None else _b64(bytes(e[8])),
                    "ciphertext": None if hidden or e[9] is None else _b64(bytes(e[9])),
                    "signature": None if hidden or e[10] is None else _b64(bytes(e[10])),
                    "author_tag": None if e[15] is None else _b64(bytes(e[15])),
                    "terms_signature": None if e[16] is None else _b64(bytes(e[16])),
                    "corroborations": e[11],
                    "created_at": _utc(store.read_ts(e[12])),
                    "expires_at": _utc(store.read_ts(e[13])),
                    "change_seq": e[14],
                }
            )
        older = entries[-1]["seq"] if len(entries) == limit else None
        return _json(
            {
                "entries": entries,
                "next_before": older,
                "last_seq": entry_seq,
                "last_change_seq": change_seq,
            }
        )

    async def post(self, request: Request) -> Response:
        store = self.store
        raw = await request.body()
        try:
            try:
                document = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise Refused(
                    422, "invalid_request", f"{exc.pos}: JSON decode error", "request_rejected"
                ) from exc
            async with store.write() as q:
                user = await self.authenticate(request, q, write=True)
                circle_id = _path_uuid(request)
                body = _entry_create(document)
                answer = await self._post(q, user, circle_id, body)
                await q.finish(commit=True)
        except Refused as exc:
            return self.refusal(request, exc)
        return _json(answer, 201)

    async def _post(
        self, q: Any, user: tuple[Any, ...], circle_id: uuid.UUID, body: EntryCreate
    ) -> dict[str, Any]:
        store = self.store
        lock = " FOR UPDATE" if isinstance(store, PostgresStore) else ""
        circles = await q(_CIRCLE_LOCKED + lock, (store.uid(circle_id),))
        if not circles:
            raise _not_found()
        # The membership is read after the lock is held (app/circles/access.py says why).
        found = await q(_MEMBERSHIP, (store.uid(circle_id), user[5]))
        self.member(found[0][0] if found else None)
        _, epoch, entry_seq, change_seq, _ = circles[0]
        if body.anonymous:  # anonymous posts go with a token and no session (§38)
            raise Refused(
                422,
                "anonymous_needs_token",
                "Anonymous warnings and corroborations are sent with a token and no session.",
                "request_rejected",
            )
        existing = await q(_EXISTING, (store.uid(body.entry_id),))
        if existing:
            e_circle, e_author, e_sig, e_ct, e_seq, e_created, e_expires = existing[0]
            same = (
                store.read_uid(e_circle) == circle_id
                and e_author == user[5]
                and e_sig is not None
                and bytes(e_sig) == body.signature
                and e_ct is not None
                and bytes(e_ct) == body.ciphertext
            )
            if not same:
                raise Refused(
                    409, "entry_exists", "An entry with this id exists with different content."
                )
            return _posted(body.entry_id, e_seq, store.read_ts(e_created), store.read_ts(e_expires))
        if body.epoch != epoch:
            raise Refused(
                409,
                "stale_epoch",
                "The circle key rotated; sync and encrypt under the current epoch.",
            )
        if body.author_key != bytes(user[11]):
            raise Refused(
                422,
                "author_mismatch",
                "A named post must be signed with your own identity key.",
                "request_rejected",
            )
        if len(body.ciphertext) not in _CIPHERTEXT_SIZES:
            raise Refused(
                422,
                "bad_ciphertext_size",
                "Ciphertexts are padded to a size bucket.",
                "request_rejected",
            )
        envelope = Envelope(
            body.author_key, body.commitment, body.nonce, body.ciphertext, body.signature
        )
        try:
            envelope.verify(EnvelopeContext(ENTRY, circle_id, body.epoch, body.entry_id))
        except CryptoError as exc:
            raise Refused(
                422,
                "bad_signature",
                "The signature does not verify for this circle, epoch and id.",
                "request_rejected",
            ) from exc
        now = _now()
        # The signed terms (§24.2): the expiry window, then the author's signature over them.
        now_s = int(now.timestamp())
        if not now_s + 86_400 - 3_600 <= body.expires_at <= now_s + 3650 * 86_400 + 3_600:
            raise Refused(
                422,
                "bad_expiry",
                "expires_at is a whole Unix second between 1 and 3650 days from now.",
                "request_rejected",
            )
        try:
            verify_terms(
                body.author_key,
                body.terms_signature,
                circle_id=circle_id,
                entry_id=body.entry_id,
                tag=body.author_tag,
                expires_at=body.expires_at,
            )
        except CryptoError as exc:
            raise Refused(
                422,
                "bad_terms_signature",
                "The entry's terms (author tag, expiry) are not signed by its author key.",
                "request_rejected",
            ) from exc
        expires = datetime.fromtimestamp(body.expires_at, UTC)
        created = coarse(now) if body.anonymous else now  # an anonymous post's hour only
        seq, change = entry_seq + 1, change_seq + 1
        await q(_BUMP, (seq, change, store.uid(circle_id)))
        await q(
            _INSERT,
            (
                store.uid(body.entry_id),
                store.uid(circle_id),
                seq,
                body.epoch,
                user[5],
                body.anonymous,
                body.author_key,
                body.commitment,
                body.nonce,
                body.ciphertext,
                body.signature,
                body.author_tag,
                body.terms_signature,
                store.ts(created),
                store.ts(expires),
                change,
            ),
        )
        return _posted(body.entry_id, seq, created, expires)


def _posted(entry_id: uuid.UUID, seq: int, created: datetime, expires: datetime) -> dict[str, Any]:
    return {
        "entry_id": str(entry_id),
        "seq": seq,
        "created_at": _utc(created),
        "expires_at": _utc(expires),
    }


def _invalid(message: str) -> Refused:
    return Refused(422, "invalid_request", message, "request_rejected")


_UUID = TypeAdapter(uuid.UUID)
_LIMIT = TypeAdapter(Annotated[int, Field(ge=1, le=1000)])
_SEQ = TypeAdapter(Annotated[int, Field(ge=0, le=INTEGER_MAX)])


def _checked(adapter: TypeAdapter[Any], where: str, value: Any) -> Any:
    """A path or query value, refused as FastAPI refuses it (same pydantic messages)."""
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise _invalid(f"{where}: {exc.errors()[0]['msg']}") from exc


def _path_uuid(request: Request) -> uuid.UUID:
    return _checked(_UUID, "path.circle_id", request.path_params["circle_id"])  # type: ignore[no-any-return]


def _feed_params(request: Request) -> tuple[uuid.UUID, int, int | None]:
    circle_id = _path_uuid(request)
    query = request.query_params
    limit = _checked(_LIMIT, "query.limit", query["limit"]) if "limit" in query else 50
    before = _checked(_SEQ, "query.before", query["before"]) if "before" in query else None
    return circle_id, limit, before


def _entry_create(document: Any) -> EntryCreate:
    try:
        return EntryCreate.model_validate(document, from_attributes=True)
    except ValidationError as exc:
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()))
            parts.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
        raise _invalid("; ".join(parts)) from exc


def make_store(database_url: str) -> Store:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return SqliteStore(url.database or ":memory:")
    return PostgresStore(database_url)


def ceiling_app(settings: Settings) -> Starlette:
    """The ceiling over ``settings.database_url`` (the real server's settings)."""
    store = make_store(settings.database_url)
    ceiling = Ceiling(settings, store)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await store.close()

    app = Starlette(
        routes=[
            Route("/v1/me", ceiling.me, methods=["GET"]),
            Route("/v1/circles/{circle_id}/entries", ceiling.feed, methods=["GET"]),
            Route("/v1/circles/{circle_id}/entries", ceiling.post, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.store = store
    app.add_middleware(
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        large_body_bytes=settings.max_rotation_body_bytes,
    )
    app.add_middleware(NoSniff)
    return app


def create_ceiling() -> Starlette:
    """The uvicorn factory: the real server's settings from the environment."""
    return ceiling_app(Settings())
