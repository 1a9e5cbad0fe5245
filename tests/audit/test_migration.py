"""Migration 0005 turns the membership events that already exist into the audit tree's leaves."""

import hashlib
import uuid

from sqlalchemy import Engine, inspect, text
from starlette.testclient import TestClient

from app.crypto import b64decode
from app.crypto.audit import TreeHead
from app.crypto.circles import canonical_json
from app.crypto.merkle import MerkleTree, root, verify_inclusion
from app.migrate import downgrade, upgrade
from tests.conftest import World


def _leaves(engine: Engine) -> dict[tuple[uuid.UUID, int], tuple[str, bytes]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT circle_id, seq, body, leaf_hash FROM membership_events"))
        return {(uuid.UUID(str(c)), seq): (body, bytes(leaf)) for c, seq, body, leaf in rows}


def test_0005_backfills_the_leaf_hash_of_every_existing_event(
    world: World, engine: Engine, database_url: str, http: TestClient
) -> None:
    written = _leaves(engine)  # as the app hashed them when it wrote the events
    assert len(written) > 5
    engine.dispose()
    downgrade(database_url, "0004")
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("membership_events")}
    assert "leaf_hash" not in columns
    # An event written before 0005 with text outside ASCII: hashed as its UTF-8 bytes.
    circle_id = uuid.uuid4()
    key = circle_id.hex if engine.dialect.name == "sqlite" else str(circle_id)
    body = canonical_json({"v": 1, "seq": 0, "kind": "created", "actor": "zoë", "note": "Ünïcödé"})
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO circles (id, epoch, record_seq, event_seq, rotation_due, meta_epoch,"
                " meta_ciphertext, created_at, entry_seq, entry_ttl_days) VALUES"
                " (:id, 0, 0, 0, false, 0, :meta, CURRENT_TIMESTAMP, 0, 730)"
            ),
            {"id": key, "meta": bytes(40)},
        )
        conn.execute(
            text(
                "INSERT INTO membership_events (circle_id, seq, body, record_hash, created_at)"
                " VALUES (:id, 0, :body, :hash, CURRENT_TIMESTAMP)"
            ),
            {"id": key, "body": body.decode(), "hash": bytes(32)},
        )
    upgrade(database_url)
    engine.dispose()

    backfilled = _leaves(engine)
    assert {k: v for k, v in backfilled.items() if k[0] != circle_id} == written
    [(_, leaf)] = [v for k, v in backfilled.items() if k[0] == circle_id]
    assert leaf == hashlib.sha256(b"\x00" + body).digest()

    # The audit API serves the migrated log: heads and proofs verify over the old events.
    headers = {"Authorization": f"Bearer {world.carol.client.token}"}
    base = f"/v1/circles/{world.circle_id}/audit"
    records = http.get(f"{base}/records", headers=headers).json()
    leaves = [r["body"].encode() for r in records]
    signed = http.get(f"{base}/head", headers=headers).json()
    head = TreeHead.parse(signed["tree_head"].encode())
    head.verify_signature(b64decode(signed["signature"]), b64decode(signed["public_key"]))
    assert (head.size, head.root) == (len(leaves), root(leaves))
    proof = http.get(f"{base}/inclusion", headers=headers, params={"index": 0, "size": head.size})
    path = [b64decode(p) for p in proof.json()["proof"]]
    verify_inclusion(b64decode(proof.json()["leaf_hash"]), 0, head.size, path, head.root)


def _nodes(engine: Engine) -> dict[tuple[uuid.UUID, int, int], bytes]:
    """(circle, level, position) -> hash; the key is position * 64 + level."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT circle_id, node, hash FROM audit_nodes"))
        return {(uuid.UUID(str(c)), node % 64, node // 64): bytes(h) for c, node, h in rows}


def test_0014_backfills_every_complete_subtree_as_the_app_writes_them(
    world: World, engine: Engine, database_url: str
) -> None:
    written = _nodes(engine)  # as the app stored them, leaf by leaf
    leaves = _leaves(engine)
    by_circle: dict[uuid.UUID, list[bytes]] = {}
    for (circle, _seq), (_body, leaf) in sorted(leaves.items()):
        by_circle.setdefault(circle, []).append(leaf)
    expected = {}
    for circle, hashes in by_circle.items():
        tree = MerkleTree.from_leaf_hashes(hashes)
        for level in range(tree.size.bit_length()):
            for position in range(tree.size >> level):
                expected[(circle, level, position)] = tree.node(level, position)
    assert written == expected
    engine.dispose()
    downgrade(database_url, "0013")
    with engine.connect() as conn:
        assert "audit_nodes" not in inspect(conn).get_table_names()
    upgrade(database_url)
    assert _nodes(engine) == expected
