"""The server SIGKILLed in the middle of a moderation decision (both engines).

Alice hides the warning bob reported; the request is frozen with every write flushed and
the transaction open, or just after its commit with the response unsent, and the process
is killed there. On restart the decision is all there (entry hidden, case hidden, the
signed decision row, its ``case_decided`` audit record) or none of it is; alice decides
again, and her pinned audit log still verifies as an extension of the one before the crash.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.circles.models import MembershipEvent
from app.client import cases, decisions
from app.client.audit import Audit, AuditPins
from app.client.entries import Entries
from app.client.errors import ApiError, TransportError
from app.client.moderation import Moderation
from app.crypto.circles import load_json
from app.db import make_engine
from app.entries.models import Entry
from app.moderation.models import Case, DecisionRow
from tests.faults.conftest import ServerProcess, assert_writes_uncommitted, circle_of, register
from tests.faults.halting_server import POINTS

DECIDE = ("POST", r"/v1/circles/[^/]+/moderation/cases/[^/]+/decisions")
DECISION_TABLES = ("entries", "moderation_cases", "moderation_decisions", "membership_events")
ENTRY_AFTER = {"hide": "hidden", "remove": "removed", "restore": "live"}


@dataclass(frozen=True)
class StoredCase:
    entry_status: str
    entry_wiped: bool
    status: str
    decision_seq: int
    decisions: list[tuple[int, str, str]]  # (seq, action, signed decision)
    audited: list[tuple[str, str]]  # the case's case_decided records: (action, decision)


def stored(database_url: str, entry_id: uuid.UUID, case_id: uuid.UUID) -> StoredCase:
    """What is in the database, read directly (not through the server)."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            entry = session.get_one(Entry, entry_id)
            case = session.get_one(Case, case_id)
            decisions = session.execute(
                select(DecisionRow.seq, DecisionRow.action, DecisionRow.decision)
                .where(DecisionRow.case_id == case_id)
                .order_by(DecisionRow.seq)
            ).all()
            bodies = [
                load_json(body.encode())
                for body in session.scalars(
                    select(MembershipEvent.body)
                    .where(MembershipEvent.circle_id == case.circle_id)
                    .order_by(MembershipEvent.seq)
                )
            ]
            return StoredCase(
                entry_status=entry.status,
                entry_wiped=entry.ciphertext is None,
                status=case.status,
                decision_seq=case.decision_seq,
                decisions=[(seq, action, decision) for seq, action, decision in decisions],
                audited=[
                    (b["details"]["action"], b["details"]["decision"])
                    for b in bodies
                    if b["kind"] == "case_decided" and b["details"]["case_id"] == case_id.hex
                ],
            )
    finally:
        engine.dispose()


def assert_whole(case: StoredCase) -> None:
    """Every decision complete: its row, its audit record, and the case and entry it moved."""
    assert [seq for seq, _, _ in case.decisions] == list(range(case.decision_seq))
    assert case.audited == [(action, decision) for _, action, decision in case.decisions]
    if not case.decisions:
        assert (case.status, case.entry_status, case.entry_wiped) == ("open", "live", False)
        return
    last = case.decisions[-1][1]
    assert case.status == {"hide": "hidden", "remove": "removed", "restore": "restored"}[last]
    assert case.entry_status == ENTRY_AFTER[last]
    assert case.entry_wiped == (last == "remove")


@pytest.mark.parametrize("point", POINTS)
def test_a_decision_killed_mid_transaction_lands_whole_or_not_at_all(
    server: ServerProcess, point: str
) -> None:
    server.start(halt=(*DECIDE, point))
    alice, bob, carol = (register(server.url, n) for n in ("alice", "bob", "carol"))
    cid = circle_of(alice, bob, carol)
    moderation = Moderation(alice.circles)
    moderation.ensure_key(cid)
    entry_id = Entries(carol.circles).post(
        cid, subject="Jan Novák", text="He cornered me at the wrap party", categories=["other"]
    )["entry_id"]
    case_id = Moderation(bob.circles).report(
        cid, entry_id, reason="false", note="this never happened"
    )["case_id"]
    audit = Audit(alice.circles, AuditPins.in_memory())
    pinned = audit.verify(cid)["tree_size"]  # what alice's device verified before the crash
    eid, kid = uuid.UUID(entry_id), uuid.UUID(case_id)

    def decide(action: str) -> str:
        result = decisions.decide(
            moderation, cid, case_id, action=action, reason=f"admins chose {action}"
        )
        return str(result["status"])

    with ThreadPoolExecutor(max_workers=1) as pool:
        hiding = pool.submit(decide, "hide")
        assert server.wait_halted() == point
        frozen = stored(server.database_url, eid, kid)
        if point == "before_commit":  # written, uncommitted, invisible
            assert_writes_uncommitted(server.database_url, *DECISION_TABLES)
            assert frozen.decisions == [] and frozen.entry_status == "live"
        else:  # committed; the response is what never left
            assert len(frozen.decisions) == 1 and frozen.entry_status == "hidden"
        server.kill()
        with pytest.raises(TransportError):  # the admin never heard back
            hiding.result(timeout=20)
    server.start()

    after_crash = stored(server.database_url, eid, kid)
    assert_whole(after_crash)
    if point == "before_commit":
        assert after_crash.decisions == [] and after_crash.status == "open"
        assert decide("hide") == "hidden"  # deciding again goes through
    else:
        assert [a for _, a, _ in after_crash.decisions] == ["hide"]
        with pytest.raises(ApiError) as again:  # the same decision again is refused cleanly
            decide("hide")
        assert (again.value.status, again.value.code) == (409, "decision_not_allowed")
    assert_whole(stored(server.database_url, eid, kid))

    # The admin decides on from the recovered state; the log extends what was pinned.
    assert decide("remove") == "removed"
    final = stored(server.database_url, eid, kid)
    assert_whole(final)
    assert [a for _, a, _ in final.decisions] == ["hide", "remove"]
    verified = audit.verify(cid)
    assert verified["ok"] and verified["tree_size"] == pinned + 2
    case = next(c for c in cases.list_cases(moderation, cid) if c["case_id"] == case_id)
    assert [(d["action"], d["signer_verified"]) for d in case["decisions"]] == [
        ("hide", True),
        ("remove", True),
    ]
    removed = [e for e in Entries(bob.circles).pages(cid) if e.entry_id == entry_id]
    assert [(e.status, e.text) for e in removed] == [("removed", None)]
