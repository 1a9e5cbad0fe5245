"""HTTP for live updates: ``GET /v1/events``, a Server-Sent Events stream of circle ids and
sequence numbers (never content) for the caller's circles (docs/api.md, "Live updates").

The request is authenticated like any other (the bearer header, ``current_caller``);
then every ``events_poll_seconds`` the stream re-reads its session and the caller's
memberships from the database (``app.circles.live``), so a logout, an ended session, a
removal, a departure or a deletion ends it or its circle within one tick, whichever worker
made the change. The client fetches and verifies what changed through the usual routes.
"""

import json
import logging
import uuid
from collections import Counter
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import DBAPIError
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app.circles import live
from app.circles.live import CirclePosition
from app.db import finish, is_unavailable
from app.deps import CurrentCaller
from app.errors import StreamsFull, TooManyStreams
from app.openapi import error_responses
from app.settings import Settings

logger = logging.getLogger("backchannel")
router = APIRouter(prefix="/v1", tags=["events"])
RECONNECT_MS = 3000  # the ``retry:`` an EventSource waits before reconnecting


class StreamSlots:
    """How many streams this worker holds, per session, per account and in all (the bounds
    are per worker: with N workers a session can hold N times ``events_per_session``).
    The account bound matters because sessions are cheap (one login each): without it one
    member could fill the worker's table and shut everyone else out."""

    def __init__(self, *, per_session: int, per_account: int, total: int) -> None:
        self.per_session = per_session
        self.per_account = per_account
        self.total = total
        self.held: Counter[uuid.UUID] = Counter()
        self.by_account: Counter[uuid.UUID] = Counter()

    def take(self, session_id: uuid.UUID, user_id: uuid.UUID) -> None:
        if sum(self.held.values()) >= self.total:
            raise StreamsFull()
        if (
            self.held[session_id] >= self.per_session
            or self.by_account[user_id] >= self.per_account
        ):
            raise TooManyStreams()
        self.held[session_id] += 1
        self.by_account[user_id] += 1

    def give_back(self, session_id: uuid.UUID, user_id: uuid.UUID) -> None:
        for counter, key in ((self.held, session_id), (self.by_account, user_id)):
            counter[key] -= 1
            if counter[key] <= 0:
                del counter[key]


def frame(event: str, data: dict[str, Any]) -> bytes:
    """One Server-Sent Event: a name and one line of compact JSON."""
    body = json.dumps(data, separators=(",", ":"), sort_keys=True)
    return f"event: {event}\ndata: {body}\n\n".encode()


def _position(found: CirclePosition) -> dict[str, Any]:
    return {
        "circle_id": str(found.circle_id),
        "last_seq": found.last_seq,
        "last_change_seq": found.last_change_seq,
    }


class EventStream(Response):
    """The stream itself. Its slot is given back however it ends: the client went away
    (``http.disconnect``, or a failed send), the session ended, or it ran its course."""

    media_type = "text/event-stream"

    def __init__(self, request: Request, *, session_id: uuid.UUID, user_id: uuid.UUID) -> None:
        super().__init__(media_type=self.media_type)
        # No Content-Length: the body is open-ended. X-Accel-Buffering tells nginx not to
        # hold events back.
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),
        ]
        self.state = request.app.state
        self.settings: Settings = request.app.state.settings
        self.session_id = session_id
        self.user_id = user_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async with anyio.create_task_group() as group:

                async def until_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(until_disconnect)
                try:
                    await self._run(send)
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                except OSError:
                    pass  # the client went away mid-send
                group.cancel_scope.cancel()
        finally:
            self.state.event_streams.give_back(self.session_id, self.user_id)

    async def _body(self, send: Send, chunk: bytes) -> None:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def _run(self, send: Send) -> None:
        settings = self.settings
        started = anyio.current_time()
        beat = started
        await self._body(send, f"retry: {RECONNECT_MS}\n\n".encode())
        held: dict[uuid.UUID, CirclePosition] | None = None
        while True:
            try:
                found = await self._read()
            except DBAPIError as exc:
                if not is_unavailable(exc):
                    raise
                await self._body(send, frame("end", {"code": "database_unavailable"}))
                return
            if found is None:
                await self._body(send, frame("end", {"code": "session_ended"}))
                return
            now_live = {cid: p for cid, p in found.items() if not p.deleted}
            if held is None:
                circles = [_position(p) for p in sorted(now_live.values(), key=_by_id)]
                await self._body(send, frame("circles", {"circles": circles}))
            else:
                for cid, position in sorted(now_live.items(), key=lambda i: str(i[0])):
                    if held.get(cid) != position:
                        await self._body(send, frame("circle", _position(position)))
                for cid in sorted(held.keys() - now_live.keys(), key=str):
                    code = "circle_deleted" if cid in found else "not_a_member"
                    await self._body(send, frame("gone", {"circle_id": str(cid), "code": code}))
            held = now_live
            now = anyio.current_time()
            if now - started >= settings.events_max_seconds:
                await self._body(send, frame("end", {"code": "reconnect"}))
                return
            if now - beat >= settings.events_heartbeat_seconds:
                await self._body(send, b": keep-alive\n\n")
                beat = now
            await anyio.sleep(settings.events_poll_seconds)

    async def _read(self) -> dict[uuid.UUID, CirclePosition] | None:
        """One tick's reads, in a read-only session of their own: on the loop for SQLite
        (a WAL read never waits), on a worker thread for PostgreSQL (``app.deps.on_database``)."""
        if self.state.queries_on_loop:
            return self._read_now()
        return await run_in_threadpool(self._read_now)

    def _read_now(self) -> dict[uuid.UUID, CirclePosition] | None:
        session = self.state.session_factory()
        try:
            return live.positions(
                session, self.settings, session_id=self.session_id, user_id=self.user_id
            )
        finally:
            finish(session, commit=False)


def _by_id(position: CirclePosition) -> str:
    return str(position.circle_id)


@router.get(
    "/events",
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "Server-Sent Events: `circles`, `circle`, `gone`, `end` (docs/api.md).",
        },
        **error_responses(TooManyStreams, StreamsFull),
    },
)
async def events(request: Request, auth: CurrentCaller) -> Response:
    """Live updates for the caller's circles: ids and sequence numbers, never content."""
    request.app.state.event_streams.take(auth.id, auth.user_id)
    return EventStream(request, session_id=auth.id, user_id=auth.user_id)
