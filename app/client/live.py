"""Live updates (docs/protocol.md §37): the stream says which circle moved, never what; the
warnings themselves are fetched and verified through the device's copy (``Entries.sync``),
exactly as a manual read does. Mirrors web/src/client/live.js.
"""

import json
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.client.errors import ApiError, ProtocolError, TransportError

if TYPE_CHECKING:
    from app.client.entries import Entries, ReadEntry

__all__ = ["GONE_CODES", "Arrival", "Gone", "LiveEvent", "gone_event", "parse_events", "watch"]

# Reconnect after a dropped stream or a busy server: 1, 2, 4 … seconds, at most this.
MAX_BACKOFF = 30.0
GONE_CODES = frozenset({"not_a_member", "circle_not_found", "circle_deleted"})


@dataclass(frozen=True)
class LiveEvent:
    kind: str  # circles | circle | gone | end
    data: dict[str, Any]


@dataclass(frozen=True)
class Arrival:
    """Warnings new since the last look, verified, oldest first."""

    circle_id: uuid.UUID
    entries: list["ReadEntry"] = field(default_factory=list)


@dataclass(frozen=True)
class Gone:
    """The caller no longer reads this circle: ``not_a_member`` or ``circle_deleted``."""

    circle_id: uuid.UUID
    code: str


def parse_events(lines: Iterable[str]) -> Iterator[LiveEvent]:
    """Server-Sent Events from a stream's lines; comments and ``retry:`` are skipped, an
    event whose data is not a JSON object is refused."""
    kind, data = "", ""
    for line in lines:
        if line == "":
            if kind:
                try:
                    body = json.loads(data)
                except ValueError as exc:
                    raise ProtocolError("bad_event", "the server sent an unreadable event") from exc
                if not isinstance(body, dict):
                    raise ProtocolError("bad_event", "the server sent an unreadable event")
                yield LiveEvent(kind, body)
            kind, data = "", ""
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            kind = value
        elif name == "data":
            data = value


def _circle(data: dict[str, Any]) -> tuple[uuid.UUID, int]:
    try:
        return uuid.UUID(str(data["circle_id"])), int(data["last_seq"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError("bad_event", "the server sent an unreadable event") from exc


def gone_event(data: dict[str, Any]) -> tuple[uuid.UUID, str]:
    """A ``gone`` event's circle and reason, or ``bad_event``: the server's word decides
    only which known message is shown, never an unknown one or a malformed id."""
    try:
        circle_id = uuid.UUID(str(data["circle_id"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError("bad_event", "the server sent an unreadable event") from exc
    code = data.get("code")
    if not isinstance(code, str) or code not in GONE_CODES:
        raise ProtocolError("bad_event", "the server sent an unreadable event")
    return circle_id, code


def _id(row: dict[str, Any]) -> uuid.UUID:
    return _circle(row)[0]


def watch(
    entries: "Entries",
    only: uuid.UUID | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[float, str], None] | None = None,
) -> Iterator[Arrival | Gone]:
    """Warnings as they arrive in ``only`` (or in every circle), until the session ends
    (``ApiError`` 401) or, with ``only``, that circle is gone (a ``Gone``, then the end).
    What was there when watching began is the baseline, not news. A dropped stream, a busy
    server or ``end: reconnect`` reconnects after 1, 2, 4 … s (``on_retry`` is told)."""
    seen: dict[uuid.UUID, int] = {}
    backoff = 1.0
    while True:
        try:
            with entries.client.stream("/v1/events") as lines:
                for event in parse_events(lines):
                    backoff = 1.0
                    if event.kind == "end":
                        if event.data.get("code") == "session_ended":
                            raise ApiError(401, "session_ended", "Your session has ended.")
                        break
                    if event.kind == "gone":
                        cid, code = gone_event(event.data)
                        if only in (None, cid) and cid in seen:
                            del seen[cid]
                            yield Gone(cid, code)
                            if only is not None:
                                return
                        continue
                    rows = event.data.get("circles", []) if event.kind == "circles" else []
                    if event.kind == "circle":
                        rows = [event.data]
                    if event.kind == "circles" and only not in {None, *map(_id, rows)}:
                        # Not listed: removed, left or deleted while away; the feed says which.
                        gone = _catch_up(entries, only, seen, sys.maxsize)  # type: ignore[arg-type]
                        if isinstance(gone, Gone):
                            yield gone
                            return
                    for row in rows:
                        cid, last_seq = _circle(row)
                        if only not in (None, cid):
                            continue
                        found = _catch_up(entries, cid, seen, last_seq)
                        if isinstance(found, Gone):
                            yield found
                            if only is not None:
                                return
                        elif found is not None:
                            yield found
        except TransportError as exc:
            reason = str(exc)
        except ApiError as exc:
            if exc.status not in (429, 503):
                raise
            reason = exc.code
        else:
            reason = "reconnect"
        if on_retry is not None:
            on_retry(backoff, reason)
        sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF)


def _catch_up(
    entries: "Entries", cid: uuid.UUID, seen: dict[uuid.UUID, int], last_seq: int
) -> Arrival | Gone | None:
    """Sync the circle when it moved past what was seen; the first look is the baseline."""
    from app.client.entries import ReadEntry

    if cid in seen and last_seq <= seen[cid]:
        return None  # another kind of change (a corroboration, a retraction): not news
    try:
        copy = entries.sync(cid)
    except ApiError as exc:
        if exc.code in GONE_CODES:
            seen.pop(cid, None)
            return Gone(cid, "circle_deleted" if exc.code == "circle_deleted" else "not_a_member")
        raise
    before = seen.get(cid)
    seen[cid] = copy.last_seq
    if before is None:
        return None
    new = [
        ReadEntry.from_held(held.data)
        for held in copy.warnings.values()
        if held.data["seq"] > before and held.data["subject"] is not None
    ]
    return Arrival(cid, sorted(new, key=lambda e: e.seq)) if new else None
