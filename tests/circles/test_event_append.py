"""``events.append`` writes with Core statements (``app.circles.queries``): the chain and the
audit tree's stored nodes are what the tree of the leaves says, whether the appends come one
per transaction or several in one (where a leaf's left sibling was written by the same
transaction), and an ORM object the use case added first is written before the event."""

import uuid

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.audit.models import AuditNode, node_key
from app.circles import events
from app.circles.models import Circle, MembershipEvent
from app.crypto.circles import event_hash, load_json
from app.crypto.encoding import b64decode
from app.crypto.merkle import MerkleTree
from app.db import utcnow
from tests.conftest import World


def _check_log(session: Session, circle_id: uuid.UUID) -> int:
    rows = session.scalars(
        select(MembershipEvent)
        .where(MembershipEvent.circle_id == circle_id)
        .order_by(MembershipEvent.seq)
    ).all()
    tree = MerkleTree()
    prev = None
    for seq, row in enumerate(rows):
        body = load_json(row.body.encode())
        assert (row.seq, body["seq"]) == (seq, seq)
        if prev is None:
            assert body["prev"] is None
        else:
            assert b64decode(body["prev"]) == prev
        assert row.record_hash == event_hash(row.body.encode())
        prev = row.record_hash
        tree.append(row.body.encode())
    stored = {
        node: hash_
        for node, hash_ in session.execute(
            select(AuditNode.node, AuditNode.hash).where(AuditNode.circle_id == circle_id)
        )
    }
    expected = {}
    for seq in range(len(rows)):
        level, position = 0, seq
        expected[node_key(0, seq)] = tree.node(0, seq)
        while position & 1:
            level, position = level + 1, position >> 1
            expected[node_key(level, position)] = tree.node(level, position)
    assert stored == expected
    circle = session.get(Circle, circle_id)
    assert circle is not None and circle.event_seq == len(rows) - 1
    return len(rows)


def test_appends_in_one_transaction_and_across_them_build_the_same_tree(
    world: World, engine: Engine
) -> None:
    with Session(engine) as session:
        before = _check_log(session, world.circle_id)
    for batch in (1, 5, 11):  # ends at several levels of the tree, within and across commits
        with Session(engine) as session, session.begin():
            for i in range(batch):
                events.append(
                    session, circle_id=world.circle_id, kind="test", actor="", details={"i": i}
                )
    with Session(engine) as session:
        assert _check_log(session, world.circle_id) == before + 17


def test_an_object_the_use_case_added_first_is_written_before_its_event(engine: Engine) -> None:
    circle_id = uuid.uuid4()
    with Session(engine) as session, session.begin():
        session.add(
            Circle(
                id=circle_id,
                epoch=0,
                record_seq=0,
                event_seq=-1,
                meta_epoch=0,
                meta_ciphertext=b"x",
                created_at=utcnow(),
            )
        )
        events.append(session, circle_id=circle_id, kind="circle_created", actor="alice")
        events.append(session, circle_id=circle_id, kind="test", actor="alice")
    with Session(engine) as session:
        assert _check_log(session, circle_id) == 2
