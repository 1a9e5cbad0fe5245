"""Reports and decisions end to end: real payloads from app.crypto.moderation, over HTTP."""

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.client.entries import Entries
from app.crypto import b64decode, b64encode
from app.crypto.decisions import (
    Decision,
    open_decision_note,
)
from app.crypto.entries import verify_commitment
from app.crypto.reports import (
    case_hash,
    open_report,
    verify_report,
)
from app.entries.models import Entry
from tests.conftest import Person
from tests.moderation.conftest import Desk, error_of

ENVELOPE = ("nonce", "ciphertext", "signature")


@pytest.fixture
def gina(desk: Desk) -> Person:
    """A plain member who reports bob's entry (bob is its author, carol an admin)."""
    return desk.add_member("gina")


def _feed(desk: Desk, reader: Person) -> dict[str, dict[str, Any]]:
    page = desk.ok(reader, "GET", f"/v1/circles/{desk.cid}/entries")
    return {row["entry_id"]: row for row in page["entries"]}


def _stored(engine: Engine, entry_id: uuid.UUID) -> tuple[object, ...]:
    with Session(engine) as session:
        entry = session.get(Entry, entry_id)
        assert entry is not None
        return (
            entry.status,
            entry.epoch,
            entry.author_key,
            entry.commitment,
            entry.nonce,
            entry.ciphertext,
            entry.signature,
        )


def test_admin_opens_a_report_and_checks_the_franking_reveal(desk: Desk, gina: Person) -> None:
    entry_id = desk.post_entry()
    case_id = desk.report(gina, entry_id, reason="doxxing", note="it names his street")

    cases = desk.ok(desk.world.carol, "GET", f"/v1/circles/{desk.cid}/moderation/cases")["cases"]
    assert [(c["case_id"], c["kind"], c["status"]) for c in cases] == [
        (str(case_id), "report", "open")
    ]
    case = cases[0]
    ciphertext = b64decode(case["ciphertext"])
    assert b64decode(case["case_hash"]) == case_hash(ciphertext)
    assert case["entry_id"] == str(entry_id) and case["decisions"] == []

    key = desk.admin_key(desk.world.carol)  # carol's own wrap, from the API
    report, signature = open_report(
        ciphertext,
        key=key,
        circle_id=desk.cid,
        case_id=case_id,
        entry_id=entry_id,
        generation=case["generation"],
    )
    assert (report.reporter, report.reason, report.note) == (
        "gina",
        "doxxing",
        "it names his street",
    )
    members = {m.username: m for m in desk.world.carol.circles.members(desk.cid)}
    verify_report(report, signature, members["gina"].identity)
    # The reveal is exactly what bob posted: it opens the commitment the server stored.
    stored = desk.entry_row(desk.world.carol, entry_id)["entry"]
    assert verify_commitment(report.body, report.opening, b64decode(stored["commitment"]))
    assert json.loads(report.body)["text"] == "He cornered me at the wrap party"
    assert not verify_commitment(
        report.body.replace(b"cornered", b"greeted!"),
        report.opening,
        b64decode(stored["commitment"]),
    )


def test_hide_takes_the_entry_out_of_feeds_and_restore_puts_it_back_unchanged(
    desk: Desk, gina: Person, engine: Engine
) -> None:
    world = desk.world
    entry_id = desk.post_entry()
    path = f"/v1/circles/{desk.cid}/entries/{entry_id}"
    before = {p.name: desk.ok(p, "GET", path) for p in (world.bob, world.carol, gina)}
    feed_before = _feed(desk, gina)[str(entry_id)]
    stored_before = _stored(engine, entry_id)
    case_id = desk.report(gina, entry_id)

    hidden = desk.decide(case_id, "hide")
    assert hidden["status"] == "hidden" and [d["action"] for d in hidden["decisions"]] == ["hide"]
    for reader in (world.alice, world.bob, world.carol, gina):
        row = _feed(desk, reader)[str(entry_id)]
        assert row["status"] == "hidden"
        assert all(row[f] is None for f in ENVELOPE), reader.name
    redacted = desk.ok(gina, "GET", path)
    assert redacted["entry"]["status"] == "hidden"
    assert all(redacted["entry"][f] is None for f in ENVELOPE)
    assert redacted["corroborations"] == []
    for reviewer in (world.bob, world.carol, world.alice):  # the author and the admins
        full = desk.ok(reviewer, "GET", path)["entry"]
        assert full["change_seq"] > before["carol"]["entry"]["change_seq"]  # a change to sync
        assert _unchanged(full | {"status": "live"}) == _unchanged(before["carol"]["entry"])
    assert Entries(gina.circles).check(desk.cid, "Jan Novák").matches == []

    restored = desk.decide(case_id, "restore")
    assert restored["status"] == "restored"
    assert [d["action"] for d in restored["decisions"]] == ["hide", "restore"]
    for reader in (world.bob, world.carol, gina):
        assert _unchanged(desk.ok(reader, "GET", path)) == _unchanged(before[reader.name])
    assert _unchanged(_feed(desk, gina)[str(entry_id)]) == _unchanged(feed_before)
    assert _stored(engine, entry_id) == stored_before
    [read] = list(Entries(gina.circles).pages(desk.cid))
    assert read.text == "He cornered me at the wrap party"
    assert [
        m.warning["entry_id"] for m in Entries(gina.circles).check(desk.cid, "Jan Novák").matches
    ] == [str(entry_id)]


def _unchanged(value: Any) -> Any:
    """A row or answer without its change numbers (each decision is a change to sync)."""
    if isinstance(value, dict):
        return {k: _unchanged(v) for k, v in value.items() if k != "change_seq"}
    return value


def test_remove_leaves_a_tombstone_that_nothing_brings_back(
    desk: Desk, gina: Person, engine: Engine
) -> None:
    world = desk.world
    entry_id = desk.post_entry()
    Entries(world.carol.circles).corroborate(desk.cid, str(entry_id), text="same here")
    case_id = desk.report(gina, entry_id)
    desk.decide(case_id, "hide")
    removed = desk.decide(case_id, "remove")
    assert removed["status"] == "removed"

    for reader in (world.bob, world.carol, gina):
        detail = desk.ok(reader, "GET", f"/v1/circles/{desk.cid}/entries/{entry_id}")
        assert detail["entry"]["status"] == "removed"
        assert all(detail["entry"][f] is None for f in ENVELOPE)
        assert all(c["ciphertext"] is None for c in detail["corroborations"])
    status, _, _, _, *envelope = _stored(engine, entry_id)
    assert status == "removed" and envelope == [None, None, None]  # wiped, not just flagged

    # The case is closed; a takedown case cannot restore a removed entry either.
    again = desk.decide_call(case_id, desk.decision_body(case_id, "restore"))
    assert error_of(again) == (409, "decision_not_allowed")
    receipt = desk.takedown()
    restore = desk.decision_body(receipt.case_id, "restore", entry_id=entry_id)
    assert error_of(desk.decide_call(receipt.case_id, restore)) == (409, "decision_not_allowed")
    assert _stored(engine, entry_id)[0] == "removed"
    # Nor can it be reported again (the server cannot read a report; any well-sized one will do).
    late = desk.call(
        world.alice,
        "POST",
        f"/v1/circles/{desk.cid}/reports",
        json={
            "case_id": str(uuid.uuid4()),
            "entry_id": str(entry_id),
            "generation": 0,
            "ciphertext": b64encode(bytes(200)),
        },
    )
    assert error_of(late) == (410, "entry_gone")


def test_dismiss_closes_the_case_and_leaves_the_entry_alone(
    desk: Desk, gina: Person, engine: Engine
) -> None:
    entry_id = desk.post_entry()
    stored = _stored(engine, entry_id)
    case_id = desk.report(gina, entry_id)
    dismissed = desk.decide(case_id, "dismiss", entry_id=None)
    assert dismissed["status"] == "dismissed"
    assert _stored(engine, entry_id) == stored
    closed = desk.decide_call(case_id, desk.decision_body(case_id, "hide"))
    assert error_of(closed) == (409, "decision_not_allowed")
    assert _stored(engine, entry_id) == stored
    open_cases = desk.ok(
        desk.world.carol,
        "GET",
        f"/v1/circles/{desk.cid}/moderation/cases",
        params={"status": "open"},
    )["cases"]
    assert open_cases == []
    dismissed_cases = desk.ok(
        desk.world.alice,
        "GET",
        f"/v1/circles/{desk.cid}/moderation/cases",
        params={"status": "dismissed"},
    )["cases"]
    assert [c["case_id"] for c in dismissed_cases] == [str(case_id)]


def test_a_hidden_case_must_be_restored_or_removed_not_dismissed(desk: Desk, gina: Person) -> None:
    entry_id = desk.post_entry()
    case_id = desk.report(gina, entry_id)
    desk.decide(case_id, "hide")
    response = desk.decide_call(case_id, desk.decision_body(case_id, "dismiss"))
    assert error_of(response) == (409, "decision_not_allowed")
    hide_again = desk.decide_call(case_id, desk.decision_body(case_id, "hide"))
    assert error_of(hide_again) == (409, "decision_not_allowed")
    assert desk.case(case_id)["status"] == "hidden"


def test_a_hidden_entry_its_author_retracted_lets_the_case_be_dismissed(
    desk: Desk, gina: Person
) -> None:
    entry_id = desk.post_entry()
    case_id = desk.report(gina, entry_id)
    desk.decide(case_id, "hide")
    Entries(desk.world.bob.circles).retract(desk.cid, str(entry_id))
    restore = desk.decide_call(case_id, desk.decision_body(case_id, "restore"))
    assert error_of(restore) == (409, "decision_not_allowed")
    assert desk.decide(case_id, "dismiss", entry_id=None)["status"] == "dismissed"
    assert desk.entry_row(gina, entry_id)["entry"]["status"] == "retracted"


def test_cases_are_listed_by_status(desk: Desk, gina: Person) -> None:
    world = desk.world
    hidden = desk.report(gina, desk.post_entry())
    desk.decide(hidden, "hide")
    fresh = desk.report(gina, desk.post_entry(subject="Someone Else"))
    path = f"/v1/circles/{desk.cid}/moderation/cases"

    def listed(status: str | None) -> list[str]:
        params = None if status is None else {"status": status}
        return [c["case_id"] for c in desk.ok(world.carol, "GET", path, params=params)["cases"]]

    assert listed(None) == [str(fresh), str(hidden)]  # newest first
    assert listed("open") == [str(fresh), str(hidden)]  # a hidden entry still needs a ruling
    assert listed("hidden") == [str(hidden)]
    assert listed("removed") == []
    bogus = desk.call(world.carol, "GET", path, params={"status": "closed"})
    assert error_of(bogus) == (422, "invalid_request")


def test_decisions_are_signed_chained_and_in_the_audit_log(desk: Desk, gina: Person) -> None:
    world = desk.world
    entry_id = desk.post_entry()
    case_id = desk.report(gina, entry_id)
    desk.decide(case_id, "hide", admin=world.alice, reason="hidden while we ask bob")
    desk.decide(case_id, "restore", reason="bob showed us the messages")
    case = desk.case(case_id, world.alice)
    members = {m.username: m.identity for m in world.alice.circles.members(desk.cid)}
    key = desk.admin_key(world.alice)
    decisions = [Decision.parse(d["decision"].encode()) for d in case["decisions"]]
    assert [(d.seq, d.action, d.signer) for d in decisions] == [
        (0, "hide", "alice"),
        (1, "restore", "carol"),
    ]
    assert decisions[0].prev is None and decisions[1].prev == decisions[0].hash()
    for shown, decision in zip(case["decisions"], decisions, strict=True):
        assert shown["signer"] == decision.signer
        decision.verify_signature(b64decode(shown["signature"]), members[decision.signer])
        assert decision.case_hash == b64decode(case["case_hash"])
    reasons = [
        open_decision_note(
            b64decode(d["note"]), key=key, circle_id=desk.cid, case_id=case_id, generation=0
        )
        for d in case["decisions"]
    ]
    assert reasons == ["hidden while we ask bob", "bob showed us the messages"]

    records = desk.ok(world.bob, "GET", f"/v1/circles/{desk.cid}/audit/records")
    bodies = [json.loads(r["body"]) for r in records]
    filed = [b for b in bodies if b["kind"] == "report_filed"]
    assert [(b["actor"], b["details"]["case_id"]) for b in filed] == [("", case_id.hex)]
    decided = [b for b in bodies if b["kind"] == "case_decided"]
    assert [(b["actor"], b["details"]["action"]) for b in decided] == [
        ("alice", "hide"),
        ("carol", "restore"),
    ]
    for logged, shown in zip(decided, case["decisions"], strict=True):
        assert logged["details"]["decision"] == shown["decision"]
        assert logged["details"]["signature"] == shown["signature"]
        Decision.parse(logged["details"]["decision"].encode()).verify_signature(
            b64decode(logged["details"]["signature"]), members[logged["actor"]]
        )


def test_the_author_sees_the_outcome_but_never_the_reporter(desk: Desk, gina: Person) -> None:
    world = desk.world
    entry_id = desk.post_entry()
    case_id = desk.report(gina, entry_id, note="gina-was-here")
    desk.decide(case_id, "hide")
    path = f"/v1/circles/{desk.cid}/entries/{entry_id}/moderation"
    for reader in (world.bob, world.carol, world.alice):
        response = desk.call(reader, "GET", path)
        assert response.status_code == 200
        assert [(c["case_id"], c["kind"], c["status"], c["actions"]) for c in response.json()] == [
            (str(case_id), "report", "hidden", ["hide"])
        ]
        assert "gina" not in response.text
    # Another plain member (even the reporter) does not learn about the entry's cases.
    assert error_of(desk.call(gina, "GET", path)) == (404, "entry_not_found")
