"""Moderation key generations the server refuses, each with its code; nothing is stored."""

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from app.crypto import b64decode, b64encode
from app.crypto.moderation import (
    ModerationKeyRecord,
    ModeratorEntry,
    open_previous_moderation_key,
)
from tests.conftest import World
from tests.moderation.conftest import Desk, error_of

Spoil = Callable[[Desk], dict[str, Any]]


def _flip(text: str, at: int = 5) -> str:
    raw = b64decode(text)
    return b64encode(raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1 :])


def _admins(desk: Desk, change: Callable[[list[ModeratorEntry]], list[ModeratorEntry]]) -> Any:
    def mutate(record: ModerationKeyRecord) -> ModerationKeyRecord:
        admins = sorted(change(list(record.admins)), key=lambda a: a.user)
        return dataclasses.replace(record, admins=tuple(admins))

    return mutate


def _body(desk: Desk, **kw: Any) -> dict[str, Any]:
    return desk.key_body(desk.world.alice, **kw)[0]


def _edit(desk: Desk, **fields: Any) -> dict[str, Any]:
    return _body(desk) | fields


# The first generation (the circle has none yet), as alice sends it.
FIRST: dict[str, tuple[Spoil, tuple[int, str]]] = {
    "unknown field": (lambda d: _edit(d, admins=["alice"]), (422, "invalid_request")),
    "short signature": (
        lambda d: _edit(d, signature=b64encode(bytes(63))),
        (422, "invalid_request"),
    ),
    "short wrap": (
        lambda d: _edit(d, wraps=[{"username": "alice", "wrap": b64encode(bytes(100))}]),
        (422, "invalid_request"),
    ),
    "generation as text": (lambda d: _edit(d, generation="0"), (422, "invalid_request")),
    "negative generation": (lambda d: _edit(d, generation=-1), (422, "invalid_request")),
    "bad signature": (
        lambda d: _edit(d, signature=_flip(_body(d)["signature"])),
        (422, "invalid_moderation_key"),
    ),
    "signed with carol's key": (
        lambda d: _body(d, signer=d.world.carol),
        (422, "invalid_moderation_key"),
    ),
    "carol's record sent by alice": (
        lambda d: d.key_body(d.world.carol)[0],
        (422, "invalid_moderation_key"),
    ),
    "not canonical": (
        lambda d: _edit(d, record=_body(d)["record"].replace(",", ", ", 1)),
        (422, "invalid_moderation_key"),
    ),
    "another circle": (
        lambda d: _body(d, mutate=lambda r: dataclasses.replace(r, circle_id=uuid.uuid4())),
        (422, "invalid_moderation_key"),
    ),
    "a key record that does not exist yet": (
        lambda d: _body(d, mutate=lambda r: dataclasses.replace(r, record_seq=r.record_seq + 1)),
        (422, "invalid_moderation_key"),
    ),
    "a previous-key box for generation 0": (
        lambda d: _edit(d, prev_key_box=b64encode(bytes(72))),
        (422, "invalid_moderation_key"),
    ),
    "skips generation 0": (lambda d: _edit(d, generation=1), (409, "moderation_key_conflict")),
    "carol left out": (
        lambda d: _body(
            d,
            mutate=_admins(d, lambda a: [x for x in a if x.user != "carol"]),
            wrap_to=["alice"],
        ),
        (409, "moderator_set_mismatch"),
    ),
    "bob added": (
        lambda d: _body(
            d,
            mutate=_admins(d, lambda a: [*a, ModeratorEntry("bob", d.world.bob.fingerprint)]),
            wrap_to=["alice", "bob", "carol"],
        ),
        (409, "moderator_set_mismatch"),
    ),
    "carol under another key": (
        lambda d: _body(
            d,
            mutate=_admins(
                d,
                lambda a: [
                    ModeratorEntry(x.user, d.world.frank.fingerprint) if x.user == "carol" else x
                    for x in a
                ],
            ),
        ),
        (409, "moderator_set_mismatch"),
    ),
    "no wrap for carol": (lambda d: _body(d, wrap_to=["alice"]), (409, "moderator_set_mismatch")),
    "a wrap for bob": (
        lambda d: _body(d, wrap_to=["alice", "bob", "carol"]),
        (409, "moderator_set_mismatch"),
    ),
    "two wraps for alice": (
        lambda d: _body(d, wrap_to=["alice", "alice", "carol"]),
        (409, "moderator_set_mismatch"),
    ),
    "a wrap for someone unknown": (
        lambda d: _edit(
            d,
            wraps=[*_body(d)["wraps"], {"username": "nobody", "wrap": b64encode(bytes(131))}],
        ),
        (409, "moderator_set_mismatch"),
    ),
}


def _try_all(
    desk: Desk, engine: Engine, cases: dict[str, tuple[Spoil, tuple[int, str]]]
) -> list[str]:
    failures = []
    path = f"/v1/circles/{desk.cid}/moderation/keys"
    for name, (spoil, expected) in cases.items():
        before = desk.counts(engine)
        got = error_of(desk.call(desk.world.alice, "POST", path, json=spoil(desk)))
        if got != expected:
            failures.append(f"{name}: got {got}, want {expected}")
        if desk.counts(engine) != before:
            failures.append(f"{name}: something was stored")
    return failures


def test_a_first_generation_must_be_signed_by_the_sender_for_exactly_the_admins(
    world: World, desk_without_key: Desk, engine: Engine
) -> None:
    failures = _try_all(desk_without_key, engine, FIRST)
    assert not failures, "\n".join(failures)
    assert (
        desk_without_key.ok(world.bob, "GET", f"/v1/circles/{world.circle_id}/moderation/keys")
        == []
    )
    desk_without_key.create_key()  # the unspoilt request is accepted


NEXT: dict[str, tuple[Spoil, tuple[int, str]]] = {
    "generation 0 again": (
        lambda d: _body(d, generation=0),
        (409, "moderation_key_conflict"),
    ),
    "skips generation 1": (lambda d: _edit(d, generation=2), (409, "moderation_key_conflict")),
    "no previous-key box": (
        lambda d: {k: v for k, v in _body(d).items() if k != "prev_key_box"},
        (422, "invalid_moderation_key"),
    ),
    "the same key again": (lambda d: _body(d, key=d.keys[0]), (422, "invalid_moderation_key")),
    "an older key record": (
        lambda d: _body(
            d, mutate=lambda r: dataclasses.replace(r, record_seq=d.records[0].record_seq - 1)
        ),
        (422, "invalid_moderation_key"),
    ),
    "a fork of the chain": (
        lambda d: _body(d, mutate=lambda r: dataclasses.replace(r, prev=bytes(32))),
        (422, "invalid_moderation_key"),
    ),
}


def test_the_next_generation_follows_the_last_one(desk: Desk, engine: Engine) -> None:
    failures = _try_all(desk, engine, NEXT)
    assert not failures, "\n".join(failures)
    new = desk.create_key(desk.world.carol)
    rows = desk.ok(desk.world.alice, "GET", f"/v1/circles/{desk.cid}/moderation/keys")
    assert [(r["generation"], r["signer"]) for r in rows] == [(0, "alice"), (1, "carol")]
    assert rows[0]["prev_key_box"] is None
    previous = open_previous_moderation_key(
        b64decode(rows[1]["prev_key_box"]),
        desk.admin_key(desk.world.alice, 1),
        circle_id=desk.cid,
        generation=1,
        expected_public=b64decode(rows[0]["public_key"]),
    )
    assert bytes(previous) == bytes(desk.keys[0]) and bytes(new) != bytes(previous)


def test_a_generation_for_yesterdays_admins_is_refused(desk: Desk, engine: Engine) -> None:
    """carol is demoted; a generation still naming her does not fit the circle any more."""
    world = desk.world
    stale, _, _ = desk.key_body(world.alice)
    world.alice.circles.set_role(desk.cid, "carol", "member")
    before = desk.counts(engine)
    response = desk.call(world.alice, "POST", f"/v1/circles/{desk.cid}/moderation/keys", json=stale)
    assert error_of(response) == (409, "moderator_set_mismatch")
    assert desk.counts(engine) == before
    desk.create_key(world.alice)
    [_, latest] = desk.ok(world.alice, "GET", f"/v1/circles/{desk.cid}/moderation/keys")
    record = ModerationKeyRecord.parse(latest["record"].encode())
    assert [a.user for a in record.admins] == ["alice"]
    assert record.public_key == b64decode(latest["public_key"]) == desk.records[1].public_key
