"""A decided takedown request's words (the requester's name, contact and text) are wiped by
the retention pass ``BACKCHANNEL_TAKEDOWN_REQUEST_RETENTION_SECONDS`` after its last
decision. Its hash, status, signed decisions and response stay: the admins' clients still
verify the case, and the requester still reads the answer with the receipt."""

import uuid
from datetime import timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from app.client.cases import list_cases
from app.client.moderation import Moderation
from app.db import utcnow
from app.entries.purge import purge_all
from app.moderation.models import Case
from app.settings import Settings
from tests.moderation.conftest import Desk

CONTACT = "petr@example.org Marker-Tern-5521"


def _ciphertexts(engine: Engine) -> dict[uuid.UUID, bytes]:
    with Session(engine) as session:
        return {row.id: bytes(row.ciphertext) for row in session.scalars(select(Case))}


def _age(engine: Engine, seconds: int) -> None:
    """Every case's last change this long ago."""
    with Session(engine) as session:
        session.execute(update(Case).values(updated_at=utcnow() - timedelta(seconds=seconds)))
        session.commit()


def test_the_default_retention_is_two_weeks() -> None:
    assert Settings().takedown_request_retention_seconds == 14 * 24 * 3600


def test_a_decided_request_is_wiped_after_the_retention_and_its_case_still_verifies(
    desk: Desk, engine: Engine, settings: Settings
) -> None:
    entry_id = desk.post_entry()
    decided = desk.takedown(name="Petr Malý", contact=CONTACT)
    waiting = desk.takedown(name="Jan Novák", contact="jan@example.org")
    report = desk.report(desk.world.bob, entry_id)
    desk.decide(decided.case_id, "dismiss", entry_id=None, response="No.")
    desk.decide(report, "dismiss")
    before = _ciphertexts(engine)

    purge_all(settings)  # within the retention: nothing is wiped
    assert _ciphertexts(engine) == before
    _age(engine, settings.takedown_request_retention_seconds + 3600)
    purge_all(settings)
    after = _ciphertexts(engine)
    assert after[decided.case_id] == b""
    assert after[waiting.case_id] == before[waiting.case_id]  # undecided: the admins need it
    assert after[report] == before[report]  # reports are not takedown requests

    moderation = Moderation(desk.world.carol.circles)
    cases = {c["case_id"]: c for c in list_cases(moderation, desk.cid)}
    wiped = cases[str(decided.case_id)]
    assert "unreadable" not in wiped, wiped
    assert (wiped["wiped"], wiped["name"], wiped["contact"], wiped["text"]) == (
        True,
        None,
        None,
        None,
    )
    assert [(d["action"], d["response"]) for d in wiped["decisions"]] == [("dismiss", "No.")]
    assert cases[str(waiting.case_id)]["contact"] == "jan@example.org"
    status = desk.status(decided)
    assert status.status_code == 200 and status.json()["status"] == "dismissed"
    assert status.json()["response"] is not None


def test_a_zero_retention_wipes_a_decided_request_at_the_next_pass(
    desk: Desk, engine: Engine, settings: Settings
) -> None:
    decided = desk.takedown(contact=CONTACT)
    desk.decide(decided.case_id, "dismiss", entry_id=None)
    purge_all(settings.model_copy(update={"takedown_request_retention_seconds": 0}))
    assert _ciphertexts(engine)[decided.case_id] == b""


def test_an_undecided_request_the_server_empties_does_not_read_as_wiped(
    desk: Desk, engine: Engine
) -> None:
    """Only a decided case may be wiped: an open one emptied is a server hiding a request."""
    hidden = desk.takedown(contact=CONTACT)
    with Session(engine) as session:
        session.execute(update(Case).where(Case.id == hidden.case_id).values(ciphertext=b""))
        session.commit()
    moderation = Moderation(desk.world.carol.circles)
    [case] = [c for c in list_cases(moderation, desk.cid) if c["case_id"] == str(hidden.case_id)]
    assert case["unreadable"].startswith("case_changed"), case
