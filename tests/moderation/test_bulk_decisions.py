"""Decisions on many cases in one request (a flood of junk takedown requests dismissed):
all or none, each a signed decision with its own audit record, as if posted alone."""

import uuid
from typing import Any

from sqlalchemy import Engine

from tests.moderation.conftest import Desk, error_of


def _batch(desk: Desk, bodies: list[tuple[uuid.UUID, dict[str, Any]]]) -> Any:
    return desk.call(
        desk.world.carol,
        "POST",
        f"/v1/circles/{desk.cid}/moderation/decisions",
        json={"decisions": [{"case_id": str(case_id), **body} for case_id, body in bodies]},
    )


def test_a_batch_is_decided_all_or_nothing(desk: Desk, engine: Engine) -> None:
    entry_id = desk.post_entry()
    first, second, hidden = (desk.takedown().case_id for _ in range(3))
    desk.decide(hidden, "hide", entry_id=entry_id)
    before = desk.counts(engine)
    refused = _batch(
        desk,
        [
            (first, desk.decision_body(first, "dismiss", entry_id=None)),
            (hidden, desk.decision_body(hidden, "dismiss", entry_id=None)),
        ],
    )
    assert error_of(refused) == (409, "decision_not_allowed")
    assert str(hidden) in refused.json()["error"]["message"]
    assert desk.counts(engine) == before
    assert desk.case(first)["status"] == "open"

    done = _batch(
        desk,
        [
            (case_id, desk.decision_body(case_id, "dismiss", entry_id=None))
            for case_id in (first, second)
        ],
    )
    assert done.status_code == 201
    assert done.json() == [
        {"case_id": str(first), "status": "dismissed"},
        {"case_id": str(second), "status": "dismissed"},
    ]
    after = desk.counts(engine)
    assert after["DecisionRow"] == before["DecisionRow"] + 2
    assert after["MembershipEvent"] == before["MembershipEvent"] + 2  # one audit record each
    for case_id in (first, second):
        [decision] = desk.case(case_id)["decisions"]
        assert (decision["action"], decision["signer"]) == ("dismiss", "carol")


def test_a_batch_names_each_case_once_and_holds_at_most_100(desk: Desk, engine: Engine) -> None:
    case_id = desk.takedown().case_id
    body = desk.decision_body(case_id, "dismiss", entry_id=None)
    before = desk.counts(engine)
    assert error_of(_batch(desk, [(case_id, body), (case_id, body)])) == (422, "invalid_decision")
    assert error_of(_batch(desk, [])) == (422, "invalid_request")
    assert error_of(_batch(desk, [(case_id, body)] * 101)) == (422, "invalid_request")
    assert desk.counts(engine) == before
