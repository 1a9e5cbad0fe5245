"""Bad input to the sealed-warning routes: a clear 4xx with a stable code, nothing stored;
and what members file never reaches the database or the logs in the clear."""

import json
import logging
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.client.errors import ApiError
from app.crypto import b64encode
from app.crypto.moderation import ModerationKey
from app.crypto.sealed import NamePolynomial
from app.crypto.sealed_filings import seal_filing
from app.sealed.models import (
    SealedEvaluation,
    SealedFiling,
    SealedMatch,
    SealedSettingsRow,
    SealedTag,
)
from tests.conftest import Person
from tests.moderation.test_confidentiality import _raw_database
from tests.sealed.conftest import Ring, sealed_of

SUBJECT = "Kasimir Markerbach-SW7"
TEXT = "MARKER-SEALED-SW7 he waited outside my flat"


def _refused(who: Person, path: str, body: Any) -> tuple[int, str]:
    with pytest.raises(ApiError) as caught:
        who.client.request("POST", path, json=body)
    return caught.value.status, caught.value.code


def _filings(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(SealedFiling)) or 0)


def _filing(ring: Ring, who: Person, **changes: Any) -> dict[str, Any]:
    """A well-formed filing by ``who`` (points sealed to the real current moderation key)."""
    state = sealed_of(who).moderation.state(who.circles.sync(ring.cid))
    assert state.current is not None
    arguments: dict[str, Any] = {
        "circle_id": ring.cid,
        "filing_id": uuid.uuid4(),
        "filer": who.name,
        "identity": who.account.identity,
        "polynomials": [NamePolynomial.derive(bytes(32), 2)],
        "moderation_public": state.current.public_key,
        "generation": state.current.generation,
    }
    arguments.update(changes)
    filing, signature = seal_filing({"subject": "x", "text": "y"}, **arguments)
    return {"record": filing.to_bytes().decode(), "signature": b64encode(signature)}


def test_malformed_or_foreign_filings_are_refused_and_nothing_is_stored(
    ring: Ring, engine: Engine
) -> None:
    bob, carol = ring.world.bob, ring.world.carol
    path = f"/v1/circles/{ring.cid}/sealed/filings"
    good = _filing(ring, bob)
    assert _refused(bob, path, {**good, "extra": 1}) == (422, "invalid_request")
    assert _refused(bob, path, {**good, "record": good["record"] + " "}) == (
        422,
        "invalid_sealed_filing",
    )
    assert _refused(carol, path, good) == (422, "invalid_sealed_filing")  # bob's, sent by carol
    other_circle = _filing(ring, bob, circle_id=uuid.uuid4())
    assert _refused(bob, path, other_circle) == (422, "invalid_sealed_filing")
    k3 = _filing(ring, bob, polynomials=[NamePolynomial.derive(bytes(32), 3)])
    assert _refused(bob, path, k3) == (409, "sealed_k_changed")
    stale = _filing(ring, bob, generation=7, moderation_public=ModerationKey.generate().public_key)
    assert _refused(bob, path, stale) == (409, "moderation_key_stale")
    assert _filings(engine) == 0
    bob.client.request("POST", path, json=good)
    assert _refused(bob, path, good) == (409, "filing_exists")
    assert _filings(engine) == 1


def test_bad_evaluations_and_settings_are_refused(ring: Ring) -> None:
    bob, alice = ring.world.bob, ring.world.alice
    evaluate = f"/v1/circles/{ring.cid}/sealed/evaluate"
    assert _refused(bob, evaluate, {"blinded": [b64encode(bytes(32))]}) == (422, "invalid_blinded")
    assert _refused(bob, evaluate, {"blinded": []}) == (422, "invalid_request")
    eleven = [b64encode(bytes(32))] * 11
    assert _refused(bob, evaluate, {"blinded": eleven}) == (422, "invalid_request")
    settings = f"/v1/circles/{ring.cid}/sealed/settings"
    current = alice.client.request("GET", settings)["records"][-1]
    assert _refused(
        alice, settings, {"record": current["record"], "signature": current["signature"]}
    ) == (
        409,
        "sealed_settings_conflict",
    )
    record = json.loads(current["record"])
    again = {**record, "seq": 1, "prev": None}
    text = json.dumps(again, sort_keys=True, separators=(",", ":"))
    assert _refused(alice, settings, {"record": text, "signature": current["signature"]}) == (
        422,
        "invalid_sealed_settings",
    )


def test_a_withdrawal_of_someone_elses_filing_is_not_found(ring: Ring) -> None:
    filed = ring.seal(ring.world.bob, "Jan Novák")
    with pytest.raises(ApiError) as caught:
        sealed_of(ring.world.carol).withdraw(ring.cid, filed["filing_id"])
    assert (caught.value.status, caught.value.code) == (404, "filing_not_found")


def test_names_and_text_never_reach_the_database_or_the_logs(
    ring: Ring, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ring.seal(ring.world.bob, SUBJECT, text=TEXT, aliases=["@markerbach_sw7"])
    ring.seal(ring.world.carol, SUBJECT, text=TEXT)
    assert len(ring.matches()) == 1
    stored = _raw_database(engine)
    for marker in (SUBJECT, TEXT, "Markerbach", "markerbach", "MARKER-SEALED"):
        assert marker.encode() not in stored, marker
        assert marker not in caplog.text, marker


def test_a_deleted_circle_keeps_no_sealed_warning(ring: Ring, engine: Engine) -> None:
    ring.seal(ring.world.bob, SUBJECT, text=TEXT)
    ring.seal(ring.world.carol, SUBJECT, text=TEXT)
    ring.world.alice.circles.delete(ring.cid)
    with Session(engine) as session:
        for model in (SealedFiling, SealedTag, SealedMatch, SealedSettingsRow, SealedEvaluation):
            count = session.scalar(select(func.count()).select_from(model))
            assert count == 0, model.__name__
