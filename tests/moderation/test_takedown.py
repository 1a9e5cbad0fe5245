"""Takedown requests from people without an account: filing, status, responses, limits."""

import dataclasses
import uuid

import pytest

from app.crypto import DecryptionFailed, b64decode, b64encode
from app.crypto.moderation import ModerationKey
from app.crypto.takedowns import (
    Receipt,
    TakedownLink,
    open_own_response,
    open_response,
    open_takedown,
)
from tests.moderation.conftest import Desk, error_of


def test_the_admins_answer_reaches_the_requester_and_nobody_else(desk: Desk) -> None:
    world = desk.world
    entry_id = desk.post_entry()
    receipt = desk.takedown(
        name="Jan Novák", contact="jan@example.org", text="I was never at that party."
    )
    status = desk.status(receipt)
    assert status.status_code == 200
    assert (status.json()["status"], status.json()["response"]) == ("open", None)

    [case] = desk.ok(world.carol, "GET", f"/v1/circles/{desk.cid}/moderation/cases")["cases"]
    assert (case["case_id"], case["kind"], case["entry_id"]) == (
        str(receipt.case_id),
        "takedown",
        None,
    )
    assert b64decode(case["receipt_key"]) == receipt.public_key
    key = desk.admin_key(world.carol)
    request = open_takedown(
        b64decode(case["ciphertext"]),
        key=key,
        receipt_public=b64decode(case["receipt_key"]),
        circle_id=desk.cid,
        case_id=receipt.case_id,
        generation=case["generation"],
    )
    assert (request.name, request.contact, request.text) == (
        "Jan Novák",
        "jan@example.org",
        "I was never at that party.",
    )

    answer = "We have hidden the warning while we look into it."
    decided = desk.decide(receipt.case_id, "hide", entry_id=entry_id, response=answer)
    assert decided["status"] == "hidden"
    entry = desk.entry_row(world.carol, entry_id)["entry"]
    assert entry["status"] == "hidden"

    status = desk.status(receipt)
    assert status.status_code == 200
    assert status.json()["status"] == "hidden"
    sealed = b64decode(status.json()["response"])
    assert open_response(sealed, receipt) == answer
    assert (
        open_own_response(
            sealed,
            key=key,
            receipt_public=receipt.public_key,
            circle_id=desk.cid,
            case_id=receipt.case_id,
            generation=case["generation"],
        )
        == answer
    )
    someone_else = Receipt.create(desk.link())
    with pytest.raises(DecryptionFailed):
        open_response(sealed, someone_else)
    # bob learns that a takedown request hid his entry; nothing about who asked.
    summary = desk.call(world.bob, "GET", f"/v1/circles/{desk.cid}/entries/{entry_id}/moderation")
    assert [(c["case_id"], c["kind"], c["actions"]) for c in summary.json()] == [
        (str(receipt.case_id), "takedown", ["hide"])
    ]
    assert "Nov" not in summary.text


def test_a_dismissed_request_gets_its_answer_and_the_entry_stays(desk: Desk) -> None:
    entry_id = desk.post_entry()
    receipt = desk.takedown()
    desk.decide(receipt.case_id, "dismiss", entry_id=None, response="The warning stands.")
    status = desk.status(receipt).json()
    assert status["status"] == "dismissed"
    assert open_response(b64decode(status["response"]), receipt) == "The warning stands."
    assert desk.entry_row(desk.world.bob, entry_id)["entry"]["status"] == "live"


def test_receipt_status_reveals_nothing_without_the_right_token(desk: Desk) -> None:
    world = desk.world
    mine = desk.takedown()
    desk.decide(mine.case_id, "dismiss", entry_id=None, response="The warning stands.")
    report = desk.report(world.carol, desk.post_entry())
    other_circle = world.frank.circles.create("Frank's circle")
    frank_desk = Desk(world, desk.http, desk.person)
    frank_desk.cid = other_circle.circle_id
    frank_desk.create_key(world.frank)
    theirs = frank_desk.takedown()

    def ask(case_id: uuid.UUID, token: bytes) -> tuple[int, str | None]:
        response = desk.call(
            None,
            "POST",
            "/v1/takedown/status",
            json={"case_id": str(case_id), "receipt_token": b64encode(token)},
        )
        assert "response" not in response.text.replace('"receipt_not_found"', "")
        return error_of(response)

    refused = (404, "receipt_not_found")
    assert ask(mine.case_id, bytes(32)) == refused  # a guessed token
    assert ask(mine.case_id, mine.secret) == refused  # the receipt secret is not the token
    assert ask(uuid.uuid4(), mine.token) == refused  # right token, wrong case
    assert ask(report, mine.token) == refused  # a report's case id with someone's token
    assert ask(theirs.case_id, mine.token) == refused  # another circle's case
    assert ask(mine.case_id, theirs.token) == refused
    assert error_of(desk.status(mine)) == (200, None)
    assert error_of(desk.status(theirs)) == (200, None)


def test_a_link_must_name_a_moderation_key_the_circle_has(desk: Desk) -> None:
    world = desk.world
    other = world.frank.circles.create("Frank's circle")
    real = desk.link()
    wrong = [
        TakedownLink(real.base_url, real.circle_id, 0, ModerationKey.generate().public_key),
        TakedownLink(real.base_url, real.circle_id, 1, real.public_key),
        TakedownLink(real.base_url, other.circle_id, 0, real.public_key),  # no key there
        TakedownLink(real.base_url, uuid.uuid4(), 0, real.public_key),
    ]
    for link in wrong:
        body, _ = desk.takedown_body(link)
        assert error_of(desk.call(None, "POST", "/v1/takedown", json=body)) == (
            404,
            "takedown_link_invalid",
        )
    body, _ = desk.takedown_body(real)
    assert error_of(desk.call(None, "POST", "/v1/takedown", json=body)) == (201, None)


def test_a_takedown_that_hid_an_entry_must_decide_on_that_entry(desk: Desk) -> None:
    hidden, other = desk.post_entry(), desk.post_entry()
    receipt = desk.takedown()
    desk.decide(receipt.case_id, "hide", entry_id=hidden)
    for action in ("remove", "restore"):
        body = desk.decision_body(receipt.case_id, action, entry_id=other)
        response = desk.decide_call(receipt.case_id, body)
        assert error_of(response) == (409, "decision_not_allowed"), action
    assert desk.entry_row(desk.world.bob, other)["entry"]["status"] == "live"
    desk.decide(receipt.case_id, "restore", entry_id=hidden)
    assert desk.status(receipt).json()["status"] == "restored"


def test_a_low_order_receipt_key_is_refused(desk: Desk) -> None:
    body, _ = desk.takedown_body(desk.link())
    response = desk.call(
        None, "POST", "/v1/takedown", json=body | {"receipt_key": b64encode(bytes(32))}
    )
    assert error_of(response) == (422, "invalid_request")


def test_a_generation_past_the_integer_column_is_refused(desk: Desk) -> None:
    # Found by the fuzz suite (tests/test_fuzz.py): the schema allowed 2**31, one more than an
    # INTEGER column holds, and PostgreSQL answered 500 for it.
    body, _ = desk.takedown_body(dataclasses.replace(desk.link(), generation=2**31))
    assert error_of(desk.call(None, "POST", "/v1/takedown", json=body)) == (422, "invalid_request")
    entry_id = desk.post_entry()
    report = {**desk.report_body(desk.world.carol, entry_id), "generation": 2**31}
    got = desk.call(desk.world.carol, "POST", f"/v1/circles/{desk.cid}/reports", json=report)
    assert error_of(got) == (422, "invalid_request")
    key, _, _ = desk.key_body(desk.world.alice)
    key["generation"] = 2**31
    got = desk.call(desk.world.alice, "POST", f"/v1/circles/{desk.cid}/moderation/keys", json=key)
    assert error_of(got) == (422, "invalid_request")
