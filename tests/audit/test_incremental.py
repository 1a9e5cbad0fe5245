"""`audit verify` after a pin fetches only what is new (issue 13 item 7): the records since the
pin, a consistency proof from the pinned head, and the pinned frontier extended to the new
signed root. A rewritten history is still `forked`; `full=True` re-reads everything."""

import json

import pytest
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from app.client.audit import Audit, AuditFailure, AuditPins
from app.client.moderation import Moderation
from app.crypto import b64decode, b64encode, merkle
from app.crypto.circles import canonical_json, event_hash
from tests.client.test_concurrent_changes import _bob
from tests.conftest import World


def _db_id(engine: Engine, circle_id: object) -> str:
    return str(circle_id) if engine.dialect.name == "postgresql" else circle_id.hex  # type: ignore[attr-defined]


def _records_asked(bob: object) -> list[int]:
    """The ``after`` of each audit records request bob sent."""
    return [
        int(url.params.get("after", -1))
        for url in bob.urls  # type: ignore[attr-defined]
        if url.path.endswith("/audit/records")
    ]


def test_a_verify_after_a_pin_fetches_only_the_new_records(http: TestClient, world: World) -> None:
    bob = _bob(http, world)
    first = bob.audit.verify(world.circle_id)
    assert first["new_records"] == first["tree_size"]
    world.alice.circles.confirm(world.circle_id, "dave", fingerprint=world.dave.fingerprint)
    world.alice.circles.set_role(world.circle_id, "bob", "admin")
    bob.urls.clear()
    second = bob.audit.verify(world.circle_id)
    assert second["tree_size"] == first["tree_size"] + 2 and second["new_records"] == 2
    assert _records_asked(bob) == [first["tree_size"] - 1]
    pin = bob.audit.pins.circles[str(world.circle_id)]
    assert "leaves" not in pin and len(b64decode(pin["frontier"])) == 32 * bin(
        second["tree_size"]
    ).count("1")
    bob.urls.clear()
    assert bob.audit.verify(world.circle_id)["new_records"] == 0
    assert _records_asked(bob) == []  # nothing new: not even a request for records


def test_the_decision_chain_is_checked_across_verifies(http: TestClient, world: World) -> None:
    """A case filed before the pin and decided after it: the filing is carried in the pin."""
    from app.client.decisions import decide
    from app.client.entries import Entries

    moderation = Moderation(world.alice.circles)
    moderation.ensure_key(world.circle_id)
    entry = Entries(world.alice.circles).post(
        world.circle_id, subject="Jan Novák", text="t", categories=["other"]
    )
    case = Moderation(world.bob.circles).report(
        world.circle_id, entry["entry_id"], reason="false", note="n"
    )
    bob = _bob(http, world)
    bob.audit.verify(world.circle_id)
    decide(moderation, world.circle_id, case["case_id"], action="dismiss", reason="no")
    result = bob.audit.verify(world.circle_id)
    assert result["new_records"] == 1 and result["signatures_checked"] == 1


def test_a_rewritten_old_record_with_its_tree_is_forked(
    http: TestClient, world: World, engine: Engine
) -> None:
    """The server rewrites record 2 and recomputes every stored node to match: its new head
    verifies on its own, but cannot be an extension of the pinned one."""
    bob = _bob(http, world)
    bob.audit.verify(world.circle_id)
    world.alice.circles.confirm(world.circle_id, "dave", fingerprint=world.dave.fingerprint)
    cid = _db_id(engine, world.circle_id)
    with engine.begin() as conn:
        rows = conn.execute(
            text("SELECT seq, body FROM membership_events WHERE circle_id = :c ORDER BY seq"),
            {"c": cid},
        ).all()
        bodies = [str(b) for _, b in rows]
        forged = json.loads(bodies[2])
        forged["actor"] = "mallory"
        bodies[2] = canonical_json(forged).decode()
        prev = None
        for seq, body in enumerate(bodies):  # re-chain so every record's own checks pass
            data = json.loads(body)
            data["prev"] = None if prev is None else b64encode(prev)
            raw = canonical_json(data)
            bodies[seq], prev = raw.decode(), event_hash(raw)
            conn.execute(
                text(
                    "UPDATE membership_events SET body = :b, record_hash = :h, leaf_hash = :l "
                    "WHERE circle_id = :c AND seq = :s"
                ),
                {"b": raw.decode(), "h": prev, "l": merkle.leaf_hash(raw), "c": cid, "s": seq},
            )
        tree = merkle.MerkleTree([b.encode() for b in bodies])
        for level in range(tree.size.bit_length()):
            for position in range(tree.size >> level):
                conn.execute(
                    text("UPDATE audit_nodes SET hash = :h WHERE circle_id = :c AND node = :n"),
                    {"h": tree.node(level, position), "c": cid, "n": position * 64 + level},
                )
    before = json.dumps(bob.audit.pins.circles, sort_keys=True)
    with pytest.raises(AuditFailure) as failed:
        bob.audit.verify(world.circle_id)
    assert failed.value.code == "forked"
    assert json.dumps(bob.audit.pins.circles, sort_keys=True) == before
    fresh = Audit(world.bob.circles, AuditPins.in_memory())
    assert fresh.verify(world.circle_id)["ok"]  # a device with no pin cannot tell


def test_an_old_record_changed_in_place_is_found_by_a_full_verify(
    http: TestClient, world: World, engine: Engine
) -> None:
    """Only the stored row changes (its hashes rewritten to match, the tree left): an
    incremental verify does not read it again; a full one finds it against the pinned root."""
    bob = _bob(http, world)
    bob.audit.verify(world.circle_id)
    cid = _db_id(engine, world.circle_id)
    with engine.begin() as conn:
        body = conn.execute(
            text("SELECT body FROM membership_events WHERE circle_id = :c AND seq = 1"),
            {"c": cid},
        ).scalar_one()
        forged = str(body).replace('"at":"', '"at":"1', 1)
        conn.execute(
            text(
                "UPDATE membership_events SET body = :b, record_hash = :h, leaf_hash = :l "
                "WHERE circle_id = :c AND seq = 1"
            ),
            {
                "b": forged,
                "h": event_hash(forged.encode()),
                "l": merkle.leaf_hash(forged.encode()),
                "c": cid,
            },
        )
    assert bob.audit.verify(world.circle_id)["new_records"] == 0
    with pytest.raises(AuditFailure) as failed:
        bob.audit.verify(world.circle_id, full=True)
    assert failed.value.code == "changed_record"


def test_a_damaged_pin_is_named(http: TestClient, world: World) -> None:
    bob = _bob(http, world)
    bob.audit.verify(world.circle_id)
    bob.audit.pins.circles[str(world.circle_id)]["frontier"] = b64encode(bytes(32 * 3))
    with pytest.raises(AuditFailure) as failed:
        bob.audit.verify(world.circle_id)
    assert failed.value.code == "bad_pin"


def test_a_pin_from_before_frontiers_is_verified_in_full_and_upgraded(
    http: TestClient, world: World
) -> None:
    bob = _bob(http, world)
    first = bob.audit.verify(world.circle_id)
    records = bob.audit.fetch_records(world.circle_id, first["tree_size"])
    bob.audit.pins.circles[str(world.circle_id)] = {  # what audit.json held before
        "size": first["tree_size"],
        "root": b64encode(bytes.fromhex(first["root"])),
        "leaves": b64encode(b"".join(r.leaf for r in records)),
    }
    world.alice.circles.confirm(world.circle_id, "dave", fingerprint=world.dave.fingerprint)
    again = bob.audit.verify(world.circle_id)
    assert again["new_records"] == again["tree_size"]  # read in full once
    assert "frontier" in bob.audit.pins.circles[str(world.circle_id)]
    assert bob.audit.verify(world.circle_id)["new_records"] == 0


def test_key_records_are_verified_once_and_a_changed_one_is_forked(
    http: TestClient, world: World
) -> None:
    """After the first verify, only the key records from the last one verified are fetched
    (the chain's history is not re-read); that record coming back changed is a fork."""
    bob = _bob(http, world)
    bob.audit.verify(world.circle_id)
    world.alice.circles.confirm(world.circle_id, "dave", fingerprint=world.dave.fingerprint)
    bob.urls.clear()
    assert bob.audit.verify(world.circle_id)["ok"]
    key_records = [u for u in bob.urls if u.path.endswith(f"{world.circle_id}/records")]
    assert key_records and all(int(u.params["after"]) >= 0 for u in key_records)

    original = bob.audit.client.request
    head_seen = False

    def changed_after_the_head(method: str, path: str, **kw: object) -> object:
        nonlocal head_seen
        answer = original(method, path, **kw)  # type: ignore[arg-type]
        head_seen = head_seen or path.endswith("/audit/head")
        if head_seen and path.endswith("/records"):
            record = json.loads(answer[0]["record"])
            record["epoch"] += 1
            answer[0] = {**answer[0], "record": canonical_json(record).decode()}
        return answer

    bob.audit.client.request = changed_after_the_head  # type: ignore[method-assign]
    with pytest.raises(AuditFailure) as caught:
        bob.audit.verify(world.circle_id)
    assert caught.value.code == "forked"
