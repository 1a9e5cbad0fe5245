"""The soak's oracle, run once the drivers have stopped and the server is up again.

It checks what issue 14's first paragraph found true of the server, now as a rule:

1. no answer of 500 or above in the server's access logs except 503s (which the clients
   retry), and no client error that is a violation (``forked`` and ``decryption_failed``
   always; any other protocol or audit error met by someone whose membership did not change
   during the action);
2. every acknowledged warning is there exactly once for every current member (the members
   the newest signed key record lists), opened and verified by that member's SDK, with the
   words its author wrote (a retracted one as a tombstone); a warning whose answer was lost
   is there at most once; nothing else is there; and the member's copy (``read_all``, where
   the SDK keeps one) says the same as that fresh read;
3. no removed member can open anything posted after their removal: every entry created
   after it is tried against every circle key that member ever synced (pairs counted);
4. the audit log's event counts equal the acknowledged actions (plus at most the actions
   whose answer was lost, each counted as "maybe");
5. every member's final ``audit verify``, with the pins they kept all run, passes.
"""

import time
import uuid
from collections import Counter
from typing import Any

from app.client.entries import _envelope
from app.client.errors import ClientError
from app.crypto import CryptoError
from app.crypto.entries import ENTRY, EnvelopeContext, open_envelope
from bench.soak_server import Server
from bench.soak_world import World

AUDITED = (
    "invite_created",
    "invite_redeemed",
    "member_confirmed",
    "member_removed",
    "role_changed",
    "entry_retracted",
    "report_filed",
    "takedown_filed",
    "case_decided",
)


def _all_rows(person: Any, circle_id: uuid.UUID) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = 0
    while True:
        page = person.client.request(
            "GET", f"/v1/circles/{circle_id}/entries", params={"after": cursor, "limit": 500}
        )
        rows += page["entries"]
        if len(page["entries"]) < 500:
            return rows
        cursor = int(rows[-1]["seq"])


def _shown(entry: Any) -> tuple[Any, ...]:
    return (entry.entry_id, entry.status, entry.subject, entry.text, entry.author)


def _epoch_seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def check(world: World, server: Server, violations: list[str]) -> dict[str, Any]:
    """Run every check; append what fails to ``violations``; return the figures."""
    started = time.monotonic()
    figures: dict[str, Any] = {}
    errors = {s: n for s, n in server.server_errors().items() if s != 503}
    figures["server_5xx"] = server.server_errors()
    if errors:
        violations.append(f"server answered {errors} (5xx other than 503)")

    acked = [p for p in world.posts if p.entry_id is not None]
    lost = [p for p in world.posts if p.entry_id is None]
    figures["acknowledged_warnings"] = len(acked)
    figures["warnings_with_lost_answers"] = len(lost)
    readers = 0
    pairs = 0
    for circle in world.circles.values():
        owner = world.people[circle.owner]
        record = owner.circles.sync(circle.circle_id).record
        members = sorted(m.user for m in record.members)
        expected = {str(p.entry_id): p for p in acked if p.circle_id == circle.circle_id}
        maybe = {p.subject for p in lost if p.circle_id == circle.circle_id}
        for name in members:
            readers += 1
            try:
                read = list(world.people[name].entries.pages(circle.circle_id))
            except ClientError as exc:
                violations.append(f"{name} cannot read circle {circle.circle_id}: {exc}")
                continue
            read_all = getattr(world.people[name].entries, "read_all", None)
            if read_all is not None:  # the device's copy says what a fresh read says
                held = [_shown(e) for e in read_all(circle.circle_id)]
                if held != [_shown(e) for e in read]:
                    violations.append(f"{name}'s copy of {circle.circle_id} differs from a read")
            seen = Counter(e.entry_id for e in read)
            by_id = {e.entry_id: e for e in read}
            for entry_id, post in expected.items():
                if seen[entry_id] != 1:
                    violations.append(f"{name} sees warning {entry_id} {seen[entry_id]} times")
                    continue
                entry = by_id[entry_id]
                if post.retracted:
                    if entry.status != "retracted":
                        violations.append(f"{name}: retracted {entry_id} is {entry.status}")
                elif (entry.subject, entry.text, entry.author) != (
                    post.subject,
                    post.text,
                    post.author,
                ):
                    violations.append(f"{name}: warning {entry_id} does not say what was written")
            extra = [e for e in read if e.entry_id not in expected]
            for subject, n in Counter(e.subject for e in extra).items():
                if subject not in maybe:
                    violations.append(f"{name} sees {n} warning(s) nobody posted: {subject!r}")
                elif n > 1:
                    violations.append(f"{name} sees a warning {n} times: {subject!r}")

        # Removed members: nothing created after their removal opens with any key they held.
        gone = {}
        for removal in world.removals:
            if removal.circle_id == circle.circle_id and removal.person not in members:
                gone[removal.person] = removal.at  # the latest removal wins
        rows = _all_rows(owner, circle.circle_id) if gone else []
        for name, at in gone.items():
            if at < 0:
                continue  # the removal's answer was lost: no time to hold it to
            held = world.people[name].held.get(circle.circle_id, {})
            for row in rows:
                if row["ciphertext"] is None or _epoch_seconds(row["created_at"]) <= at:
                    continue
                pairs += 1
                context = EnvelopeContext(
                    ENTRY, circle.circle_id, int(row["epoch"]), uuid.UUID(row["entry_id"])
                )
                try:
                    open_envelope(_envelope(row), keys=held, context=context)
                except CryptoError:
                    continue
                violations.append(f"removed {name} opens {row['entry_id']} posted after")

        # Audit events against acknowledged actions.
        events = Counter(r["kind"] for r in owner.audit.show(circle.circle_id))
        for kind in AUDITED:
            low = world.acked[(circle.circle_id, kind)]
            high = low + world.maybe[(circle.circle_id, kind)]
            if not low <= events[kind] <= high:
                violations.append(
                    f"circle {str(circle.circle_id)[:8]}: {events[kind]} {kind} events, "
                    f"{low} acknowledged (+{high - low} maybe)"
                )
        figures.setdefault("audit_events", {})[str(circle.circle_id)] = dict(events)

        # Every member's final verify, with the pins they kept.
        for name in members:
            try:
                world.people[name].audit.verify(circle.circle_id)
            except ClientError as exc:
                violations.append(f"{name}'s final audit verify failed: {exc.code}: {exc}")
    figures["reader_checks"] = readers
    figures["removed_member_pairs"] = pairs
    figures["oracle_seconds"] = round(time.monotonic() - started, 1)
    return figures
