"""Reports, takedown requests and decisions the server refuses: a stable code, nothing stored."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.client.entries import Entries
from app.crypto import b64decode, b64encode
from app.crypto.decisions import (
    Decision,
    blob_hash,
    seal_decision_note,
)
from app.entries.models import Entry
from tests.conftest import World
from tests.moderation.conftest import Desk, error_of

Expected = tuple[int, str]


def _flip(text: str, at: int = 5) -> str:
    raw = b64decode(text)
    return b64encode(raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1 :])


def _check_all(
    desk: Desk,
    engine: Engine,
    send: Callable[[dict[str, Any]], tuple[int, str | None]],
    cases: dict[str, tuple[dict[str, Any], Expected]],
) -> None:
    failures = []
    for name, (body, expected) in cases.items():
        before = desk.counts(engine)
        got = send(body)
        if got != expected:
            failures.append(f"{name}: got {got}, want {expected}")
        if desk.counts(engine) != before:
            failures.append(f"{name}: something was stored")
    assert not failures, "\n".join(failures)


# --- Reports ---------------------------------------------------------------------------------


def test_reports_that_are_malformed_or_repeated_are_refused(desk: Desk, engine: Engine) -> None:
    world = desk.world
    entry_id = desk.post_entry()
    good = desk.report_body(world.carol, entry_id)
    taken = desk.report(world.alice, entry_id)
    takedown = desk.takedown()
    gone = desk.post_entry(subject="Someone Else")
    Entries(world.bob.circles).retract(desk.cid, str(gone))

    def send(body: dict[str, Any]) -> tuple[int, str | None]:
        return error_of(
            desk.call(world.carol, "POST", f"/v1/circles/{desk.cid}/reports", json=body)
        )

    _check_all(
        desk,
        engine,
        send,
        {
            "unknown field": (good | {"reporter": "carol"}, (422, "invalid_request")),
            "short ciphertext": (
                good | {"ciphertext": b64encode(bytes(100))},
                (422, "invalid_request"),
            ),
            "huge ciphertext": (
                good | {"ciphertext": b64encode(bytes(160 * 1024 + 1))},
                (422, "invalid_request"),
            ),
            "not base64": (good | {"ciphertext": "%%%%"}, (422, "invalid_request")),
            "case id not a uuid": (good | {"case_id": "case-1"}, (422, "invalid_request")),
            "generation as text": (good | {"generation": "0"}, (422, "invalid_request")),
            "unknown entry": (good | {"entry_id": str(uuid.uuid4())}, (404, "entry_not_found")),
            "retracted entry": (good | {"entry_id": str(gone)}, (410, "entry_gone")),
            "a generation not made yet": (
                good | {"generation": 1},
                (409, "moderation_key_stale"),
            ),
            "a report's case id": (good | {"case_id": str(taken)}, (409, "case_exists")),
            "a takedown's case id": (
                good | {"case_id": str(takedown.case_id)},
                (409, "case_exists"),
            ),
        },
    )
    assert send(good) == (201, None)
    again = desk.report_body(world.carol, entry_id)
    before = desk.counts(engine)
    assert send(again) == (409, "already_reported")
    assert desk.counts(engine) == before


def test_a_circle_without_a_moderation_key_takes_no_reports(
    desk_without_key: Desk, world: World, engine: Engine
) -> None:
    entry_id = desk_without_key.post_entry()
    before = desk_without_key.counts(engine)
    response = desk_without_key.call(
        world.carol,
        "POST",
        f"/v1/circles/{world.circle_id}/reports",
        json={
            "case_id": str(uuid.uuid4()),
            "entry_id": str(entry_id),
            "generation": 0,
            "ciphertext": b64encode(bytes(200)),
        },
    )
    assert error_of(response) == (409, "moderation_key_missing")
    assert desk_without_key.counts(engine) == before


def test_reports_are_sealed_to_the_newest_generation_only(desk: Desk, engine: Engine) -> None:
    world = desk.world
    entry_id = desk.post_entry()
    old = desk.report_body(world.carol, entry_id)
    desk.create_key(world.carol)
    before = desk.counts(engine)
    response = desk.call(world.carol, "POST", f"/v1/circles/{desk.cid}/reports", json=old)
    assert error_of(response) == (409, "moderation_key_stale")
    assert desk.counts(engine) == before
    case_id = desk.report(world.carol, entry_id)
    assert desk.case(case_id)["generation"] == 1
    # A takedown link of the older generation still works: links are handed out and kept.
    receipt = desk.takedown(desk.link(0))
    assert desk.case(receipt.case_id)["generation"] == 0


# --- Takedown requests -------------------------------------------------------------------------


def test_takedown_requests_that_are_malformed_or_reuse_ids_are_refused(
    desk: Desk, engine: Engine
) -> None:
    good, _ = desk.takedown_body(desk.link())
    filed, _ = desk.takedown_body(desk.link())
    desk.ok(None, "POST", "/v1/takedown", json=filed)
    report = desk.report(desk.world.carol, desk.post_entry())

    def send(body: dict[str, Any]) -> tuple[int, str | None]:
        return error_of(desk.call(None, "POST", "/v1/takedown", json=body))

    _check_all(
        desk,
        engine,
        send,
        {
            "unknown field": (good | {"name": "Jan"}, (422, "invalid_request")),
            "short receipt key": (
                good | {"receipt_key": b64encode(bytes(31))},
                (422, "invalid_request"),
            ),
            "long token": (
                good | {"receipt_token": b64encode(bytes(33))},
                (422, "invalid_request"),
            ),
            "short ciphertext": (
                good | {"ciphertext": b64encode(bytes(41))},
                (422, "invalid_request"),
            ),
            "missing generation": (
                {k: v for k, v in good.items() if k != "generation"},
                (422, "invalid_request"),
            ),
            "no proof": (
                {k: v for k, v in good.items() if k != "proof"},
                (422, "invalid_request"),
            ),
            "seven nonces": (
                good | {"proof": good["proof"] | {"nonces": good["proof"]["nonces"][:7]}},
                (422, "invalid_request"),
            ),
            "a nonce past 2^32": (
                good | {"proof": good["proof"] | {"nonces": [*good["proof"]["nonces"][:7], 2**32]}},
                (422, "invalid_request"),
            ),
            "a nonce as a string": (
                good | {"proof": good["proof"] | {"nonces": ["0", *good["proof"]["nonces"][1:]]}},
                (422, "invalid_request"),
            ),
            "a challenge of another size": (
                good | {"proof": good["proof"] | {"challenge": b64encode(bytes(76))}},
                (422, "invalid_request"),
            ),
            "a challenge the server never made": (
                good | {"proof": good["proof"] | {"challenge": b64encode(bytes(77))}},
                (422, "challenge_invalid"),
            ),
            "a challenge with its keyed hash changed": (
                good
                | {"proof": good["proof"] | {"challenge": _flip(good["proof"]["challenge"], 76)}},
                (422, "challenge_invalid"),
            ),
            "the nonces out of order": (
                good | {"proof": good["proof"] | {"nonces": good["proof"]["nonces"][::-1]}},
                (422, "proof_invalid"),
            ),
            "longer than 4 KiB": (
                good | {"ciphertext": b64encode(bytes(4097))},
                (422, "invalid_request"),
            ),
            "another key": (
                good | {"moderation_key": b64encode(bytes(32))},
                (404, "takedown_link_invalid"),
            ),
            "a filed request's case id": (
                good | {"case_id": filed["case_id"]},
                (409, "case_exists"),
            ),
            "a report's case id": (good | {"case_id": str(report)}, (409, "case_exists")),
            "a filed request's token": (
                good | {"receipt_token": filed["receipt_token"]},
                (409, "case_exists"),
            ),
        },
    )
    assert send(good) == (201, None)


# --- Decisions -------------------------------------------------------------------------------


@pytest.fixture
def cases(desk: Desk) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """bob's entry, carol's report of it, and a takedown request."""
    entry_id = desk.post_entry()
    return entry_id, desk.report(desk.world.carol, entry_id), desk.takedown().case_id


def _state(desk: Desk, engine: Engine, *case_ids: uuid.UUID) -> object:
    with Session(engine) as session:
        entries = sorted(session.execute(select(Entry.id, Entry.status)).all())
    return desk.counts(engine), entries, [desk.case(c) for c in case_ids]


def test_decisions_that_do_not_fit_the_case_are_refused(
    desk: Desk, engine: Engine, cases: tuple[uuid.UUID, uuid.UUID, uuid.UUID]
) -> None:
    world = desk.world
    _, report, takedown = cases
    other_entry = desk.post_entry(subject="Someone Else")
    body = desk.decision_body(report, "hide")

    def signed(**changes: Any) -> dict[str, Any]:
        return desk.decision_body(report, "hide", **changes)

    other_note = seal_decision_note(
        "a different reason",
        public_key=desk.records[0].public_key,
        circle_id=desk.cid,
        case_id=report,
        generation=0,
    )
    refusals: dict[str, tuple[dict[str, Any], Expected]] = {
        "unknown field": (body | {"action": "hide"}, (422, "invalid_request")),
        "short note": (body | {"note": b64encode(bytes(40))}, (422, "invalid_request")),
        "short signature": (body | {"signature": b64encode(bytes(32))}, (422, "invalid_request")),
        "bad signature": (
            body | {"signature": _flip(body["signature"])},
            (422, "invalid_decision"),
        ),
        "signed with alice's key": (
            signed(signer_identity=world.alice.account.identity),
            (422, "invalid_decision"),
        ),
        "alice's decision sent by carol": (
            signed(admin=world.alice),
            (422, "invalid_decision"),
        ),
        "not canonical": (
            body | {"decision": body["decision"].replace(",", ", ", 1)},
            (422, "invalid_decision"),
        ),
        "another case's hash": (signed(case_hash=bytes(32)), (422, "invalid_decision")),
        "another note": (body | {"note": b64encode(other_note)}, (422, "invalid_decision")),
        "note hash of nothing": (signed(note_hash=bytes(32)), (422, "invalid_decision")),
        "for another case": (signed(case_id=takedown), (422, "invalid_decision")),
        "for another circle": (signed(circle_id=uuid.uuid4()), (422, "invalid_decision")),
        "a generation the circle lacks": (signed(generation=3), (422, "invalid_decision")),
        "a response to a reporter": (
            signed(response_hash=blob_hash(bytes(60))) | {"response": b64encode(bytes(60))},
            (422, "invalid_decision"),
        ),
        "a response hash without a response": (
            signed(response_hash=bytes(32)),
            (422, "invalid_decision"),
        ),
        "another entry than the reported one": (
            signed(entry_id=other_entry),
            (422, "invalid_decision"),
        ),
        "hide without an entry": (signed(entry_id=None), (422, "invalid_decision")),
        "a second decision numbered 1": (
            signed(seq=1, prev=bytes(32)),
            (409, "decision_conflict"),
        ),
        "restore a live entry": (
            desk.decision_body(report, "restore"),
            (409, "decision_not_allowed"),
        ),
    }
    before = _state(desk, engine, report, takedown)
    failures = []
    for name, (request, expected) in refusals.items():
        got = error_of(desk.decide_call(report, request))
        if got != expected:
            failures.append(f"{name}: got {got}, want {expected}")
    assert not failures, "\n".join(failures)
    assert _state(desk, engine, report, takedown) == before
    assert error_of(desk.decide_call(report, body)) == (201, None)  # the unspoilt one lands


def test_a_takedown_decision_names_an_entry_of_this_circle(
    desk: Desk, engine: Engine, cases: tuple[uuid.UUID, uuid.UUID, uuid.UUID]
) -> None:
    world = desk.world
    _, report, takedown = cases
    other = world.frank.circles.create("Frank's circle").circle_id
    theirs = Entries(world.frank.circles).post(
        other, subject="Jan Novák", text="elsewhere", categories=["other"]
    )["entry_id"]
    before = _state(desk, engine, report, takedown)
    for entry_id in (uuid.uuid4(), uuid.UUID(theirs)):
        body = desk.decision_body(takedown, "hide", entry_id=entry_id)
        assert error_of(desk.decide_call(takedown, body)) == (404, "entry_not_found")
    no_entry = desk.decision_body(takedown, "remove", entry_id=None)
    assert error_of(desk.decide_call(takedown, no_entry)) == (422, "invalid_decision")
    assert _state(desk, engine, report, takedown) == before


def test_a_stale_decision_is_a_conflict(
    desk: Desk, engine: Engine, cases: tuple[uuid.UUID, uuid.UUID, uuid.UUID]
) -> None:
    """alice and carol both decide from the same view of the case; the second one loses."""
    world = desk.world
    entry_id, report, _ = cases
    alices = desk.decision_body(report, "hide", admin=world.alice)
    carols = desk.decision_body(report, "dismiss")
    assert error_of(desk.decide_call(report, alices, world.alice)) == (201, None)
    before = _state(desk, engine, report)
    assert error_of(desk.decide_call(report, carols)) == (409, "decision_conflict")
    # A decision numbered next but chained to something else is stale too.
    forked = desk.decision_body(
        report, "restore", prev=Decision.parse(carols["decision"].encode()).hash()
    )
    assert error_of(desk.decide_call(report, forked)) == (409, "decision_conflict")
    assert _state(desk, engine, report) == before
    restore = desk.decision_body(report, "restore")
    assert Decision.parse(restore["decision"].encode()).seq == 1
    assert error_of(desk.decide_call(report, restore)) == (201, None)
    assert desk.entry_row(world.carol, entry_id)["entry"]["status"] == "live"
