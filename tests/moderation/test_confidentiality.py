"""What reporters, requesters and admins write never reaches the database or the logs."""

import logging
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from app.crypto import b64decode
from app.crypto.decisions import open_decision_note
from app.crypto.reports import open_report
from app.crypto.takedowns import (
    open_response,
    open_takedown,
)
from tests.accounts.test_at_rest import _all_stored_bytes
from tests.moderation.conftest import Desk

ENTRY_TEXT = "MARKER-ENTRY-KV4 happened on set"
NOTE = "MARKER-NOTE-KV4 he posted my address"
NAME = "Kasimir Markerbach-KV4"
CONTACT = "marker-contact-kv4@example.org"
REQUEST = "MARKER-TAKEDOWN-KV4 this is about me"
REASON = "MARKER-REASON-KV4 doxxing confirmed"
RESPONSE = "MARKER-RESPONSE-KV4 we removed it"
MARKERS = [ENTRY_TEXT, NOTE, NAME, CONTACT, REQUEST, REASON, RESPONSE, "Markerbach", "MARKER-"]


def _raw_database(engine: Engine) -> bytes:
    """Every stored value, and for SQLite the database files themselves (with the WAL)."""
    stored = _all_stored_bytes(engine)
    if engine.dialect.name == "sqlite":
        path = make_url(str(engine.url)).database
        assert path is not None
        engine.dispose()
        for suffix in ("", "-wal"):
            file = Path(path + suffix)
            if file.exists():
                stored += file.read_bytes()
    return stored


def test_reports_requests_reasons_and_responses_stay_sealed(
    desk: Desk, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world = desk.world
    entry_id = desk.post_entry(subject="Jan Novák", text=ENTRY_TEXT)
    report = desk.report(world.carol, entry_id, reason="doxxing", note=NOTE)
    receipt = desk.takedown(name=NAME, contact=CONTACT, text=REQUEST)
    desk.decide(report, "hide", reason=REASON)
    desk.decide(receipt.case_id, "remove", entry_id=entry_id, reason=REASON, response=RESPONSE)

    # The markers really were sent: the admins and the requester can read them.
    key = desk.admin_key(world.alice)
    reported = desk.case(report)
    opened, _ = open_report(
        b64decode(reported["ciphertext"]),
        key=key,
        circle_id=desk.cid,
        case_id=report,
        entry_id=entry_id,
        generation=0,
    )
    assert opened.note == NOTE and ENTRY_TEXT.encode() in opened.body
    requested = desk.case(receipt.case_id)
    request = open_takedown(
        b64decode(requested["ciphertext"]),
        key=key,
        receipt_public=receipt.public_key,
        circle_id=desk.cid,
        case_id=receipt.case_id,
        generation=0,
    )
    assert (request.name, request.contact, request.text) == (NAME, CONTACT, REQUEST)
    note = b64decode(requested["decisions"][0]["note"])
    assert (
        open_decision_note(note, key=key, circle_id=desk.cid, case_id=receipt.case_id, generation=0)
        == REASON
    )
    assert open_response(b64decode(desk.status(receipt).json()["response"]), receipt) == RESPONSE

    stored = _raw_database(engine)
    logs = caplog.text.encode()
    for marker in MARKERS:
        assert marker.encode() not in stored, marker
        assert marker.encode() not in logs, marker
    assert receipt.token not in stored  # only its hash is kept
    assert receipt.secret not in stored
    # Sanity: the search sees what is stored (the sealed report, byte for byte).
    assert b64decode(reported["ciphertext"]) in stored


def test_members_other_than_admins_see_no_moderation_content(desk: Desk) -> None:
    world = desk.world
    entry_id = desk.post_entry(text=ENTRY_TEXT)
    report = desk.report(world.alice, entry_id, note=NOTE)
    receipt = desk.takedown(name=NAME, contact=CONTACT, text=REQUEST)
    desk.decide(report, "hide", reason=REASON)
    desk.decide(receipt.case_id, "dismiss", entry_id=None, reason=REASON, response=RESPONSE)
    sealed = {
        desk.case(report)["ciphertext"],
        desk.case(receipt.case_id)["ciphertext"],
        desk.case(report)["decisions"][0]["note"],
    }
    cid = desk.cid
    paths = [
        f"/v1/circles/{cid}/events",
        f"/v1/circles/{cid}/audit/records",
        f"/v1/circles/{cid}/entries",
        f"/v1/circles/{cid}/entries/{entry_id}",
        f"/v1/circles/{cid}/entries/{entry_id}/moderation",
        f"/v1/circles/{cid}/moderation/keys",
    ]
    for path in paths:
        response = desk.call(world.bob, "GET", path)  # bob wrote the entry; he is no admin
        assert response.status_code == 200, path
        for blob in sealed:
            assert blob not in response.text, path
    summary = desk.call(world.bob, "GET", f"/v1/circles/{cid}/entries/{entry_id}/moderation")
    assert "alice" not in summary.text  # the reporter
