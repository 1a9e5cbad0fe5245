"""Incremental sync of a circle's warnings into the device's copy (docs/protocol.md §26.9).

The server stamps every entry with the circle's change number whenever what a reader
sees changes (posted, corroborated, hidden, restored, retracted, expired, removed);
``GET …/entries?changed_after=N`` lists every entry whose last change is newer, in change
order. Applying those rows in order makes the copy equal to what the server shows, at a
cost proportional to the changes, not to the circle's history.
"""

import uuid
from typing import TYPE_CHECKING, Any

from app.client.cache import CachedWarning, CircleCopy
from app.client.errors import ApiError, ProtocolError
from app.client.name_rules import load_name_rules
from app.crypto.matching import name_forms

if TYPE_CHECKING:
    from app.client.entries import Entries, ReadEntry

__all__ = ["PAGE_SIZE", "sync_copy"]

PAGE_SIZE = 500
# The server refuses every circle resource to someone no longer (or never) a member:
# the copy is then deleted from the device.
_GONE = frozenset({"not_a_member", "circle_not_found"})


def cached_warning(entry: "ReadEntry", change_seq: int) -> CachedWarning:
    """What the copy keeps of one opened row: its fields, and for a live warning the
    analysed forms of its subject and aliases (analysed once, here)."""
    data = {
        **entry.as_json(),
        "seq": entry.seq,
        "change_seq": change_seq,
        "author_key": entry.author_key,
    }
    if entry.subject is None:
        return CachedWarning(data, [])
    rules = load_name_rules()
    return CachedWarning(data, [name_forms(n, rules) for n in [entry.subject, *entry.aliases]])


def sync_copy(entries: "Entries", circle_id: uuid.UUID) -> CircleCopy:
    """Fetch the changes since the copy's cursor, verify and open each, apply, save."""
    try:
        circle = entries.circles.sync(circle_id)
    except ApiError as exc:
        if exc.code in _GONE:
            entries.cache.drop(circle_id)
        raise
    held = entries.cache.load(circle_id) or CircleCopy(circle_id)
    # Work on a new copy: a sync that fails half-way leaves the held one as it was.
    copy = CircleCopy(circle_id, held.change_seq, held.last_seq, dict(held.warnings))
    cursor = copy.change_seq
    changes: list[tuple[CachedWarning | None, CachedWarning]] = []
    while True:
        page: dict[str, Any] = entries.client.request(
            "GET",
            f"/v1/circles/{circle_id}/entries",
            params={"changed_after": cursor, "limit": PAGE_SIZE},
        )
        if int(page["last_change_seq"]) < copy.change_seq:
            raise ProtocolError(
                "rollback", "the server shows fewer changes than this device already synced"
            )
        rows = page["entries"]
        for row in rows:
            change = int(row["change_seq"])
            if change <= cursor:
                raise ProtocolError("bad_page", "the server returned changes out of order")
            cursor = change
            circle, entry = entries.open_current(circle, row)
            new = cached_warning(entry, change)
            changes.append((copy.warnings.get(entry.entry_id), new))
            copy.warnings[entry.entry_id] = new
        copy.last_seq = int(page["last_seq"])
        if len(rows) < PAGE_SIZE:
            break
    if cursor == held.change_seq and copy.last_seq == held.last_seq:
        return held  # nothing changed: nothing to write
    copy.change_seq = cursor
    if held.index is not None:
        # The name index moves to the new copy and takes in the changes (a check then costs
        # what its candidates cost, not a rebuild over the history); the held copy is done.
        copy.index, held.index = held.index, None
        for old, new in changes:
            copy.index.update(old, new)
    entries.cache.save(copy)
    return copy
