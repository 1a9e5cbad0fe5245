"""The audit log over HTTP: chained records, RFC 6962 leaves, signed heads and proofs."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.crypto import b64decode
from app.crypto.audit import TreeHead
from app.crypto.circles import event_hash
from app.crypto.errors import BadSignature
from app.crypto.merkle import EMPTY_ROOT, ProofError, root, verify_consistency, verify_inclusion
from tests.conftest import Person, World
from tests.moderation.conftest import Desk, error_of


@pytest.fixture
def busy(world: World, http: TestClient, person: Callable[[str], Person]) -> Desk:
    """A circle whose log holds membership changes, a moderation key, a report, a takedown
    request and decisions."""
    desk = Desk(world, http, person)
    desk.create_key()
    entry_id = desk.post_entry()
    desk.decide(desk.report(world.carol, entry_id), "hide")
    desk.decide(desk.takedown().case_id, "dismiss", entry_id=None, response="No.")
    return desk


def _records(desk: Desk, reader: Person, **params: int) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = desk.ok(
        reader, "GET", f"/v1/circles/{desk.cid}/audit/records", params=params
    )
    return records


def _head(desk: Desk, reader: Person) -> tuple[TreeHead, dict[str, Any]]:
    """A tree head, checked against the key the server publishes under its id."""
    signed = desk.ok(reader, "GET", f"/v1/circles/{desk.cid}/audit/head")
    keys = {k["key_id"]: k for k in desk.ok(None, "GET", "/v1/server/keys")["keys"]}
    assert keys[signed["key_id"]]["public_key"] == signed["public_key"]
    head = TreeHead.parse(signed["tree_head"].encode())
    head.verify_signature(b64decode(signed["signature"]), b64decode(signed["public_key"]))
    return head, signed


def _leaves(records: list[dict[str, Any]]) -> list[bytes]:
    return [r["body"].encode() for r in records]


def test_records_are_chained_and_their_leaf_hashes_are_rfc6962(busy: Desk) -> None:
    records = _records(busy, busy.world.bob)
    kinds = [json.loads(r["body"])["kind"] for r in records]
    for kind in ("moderation_key_rotated", "report_filed", "takedown_filed", "case_decided"):
        assert kind in kinds
    previous = None
    for seq, record in enumerate(records):
        body = record["body"].encode()
        fields = json.loads(body)
        assert (record["seq"], fields["seq"], fields["circle"]) == (seq, seq, busy.cid.hex)
        assert b64decode(record["leaf_hash"]) == hashlib.sha256(b"\x00" + body).digest()
        assert b64decode(record["hash"]) == event_hash(body)
        assert fields["prev"] == (None if previous is None else previous["hash"])
        previous = record
    # Pages after a cursor are the same records.
    assert _records(busy, busy.world.bob, after=2, limit=3) == records[3:6]
    assert _records(busy, busy.world.bob, after=len(records) - 1) == []


def test_the_tree_head_is_signed_by_the_published_server_key(busy: Desk) -> None:
    records = _records(busy, busy.world.carol)
    head, signed = _head(busy, busy.world.bob)
    assert (head.circle_id, head.size, head.root) == (
        busy.cid,
        len(records),
        root(_leaves(records)),
    )
    # The signature covers the head: another root does not verify.
    forged = TreeHead(head.circle_id, head.size, bytes(32), head.at)
    with pytest.raises(BadSignature):
        forged.verify_signature(b64decode(signed["signature"]), b64decode(signed["public_key"]))
    # Every member is shown the same tree.
    assert _head(busy, busy.world.alice)[0].root == head.root


def test_inclusion_proofs_verify_for_every_leaf(busy: Desk) -> None:
    leaves = _leaves(_records(busy, busy.world.bob))
    head, _ = _head(busy, busy.world.bob)
    for size in sorted({1, 2, 3, len(leaves) // 2, len(leaves) - 1, len(leaves)}):
        for index in range(size):
            proof = busy.ok(
                busy.world.bob,
                "GET",
                f"/v1/circles/{busy.cid}/audit/inclusion",
                params={"index": index, "size": size},
            )
            assert (proof["index"], proof["size"]) == (index, size)
            leaf = b64decode(proof["leaf_hash"])
            assert leaf == hashlib.sha256(b"\x00" + leaves[index]).digest()
            path = [b64decode(p) for p in proof["proof"]]
            expected = head.root if size == head.size else root(leaves[:size])
            verify_inclusion(leaf, index, size, path, expected)
            if path:
                with pytest.raises(ProofError):
                    verify_inclusion(leaf, index, size, [bytes(32), *path[1:]], expected)


def test_consistency_proofs_join_an_old_head_to_a_new_one(busy: Desk) -> None:
    world = busy.world
    old, _ = _head(busy, world.bob)
    busy.decide(busy.takedown().case_id, "dismiss", entry_id=None)
    world.alice.circles.remove(busy.cid, "dave")
    new, _ = _head(busy, world.bob)
    assert new.size > old.size + 1

    def proof(first: int, second: int) -> list[bytes]:
        body = busy.ok(
            world.bob,
            "GET",
            f"/v1/circles/{busy.cid}/audit/consistency",
            params={"first": first, "second": second},
        )
        assert (body["first"], body["second"]) == (first, second)
        return [b64decode(p) for p in body["proof"]]

    verify_consistency(old.size, new.size, old.root, new.root, proof(old.size, new.size))
    leaves = _leaves(_records(busy, world.bob))
    for first in range(new.size + 1):
        path = proof(first, new.size)
        verify_consistency(first, new.size, root(leaves[:first]), new.root, path)
    assert root([]) == EMPTY_ROOT and proof(0, new.size) == []
    with pytest.raises(ProofError):  # a head that rewrote history is caught
        verify_consistency(old.size, new.size, bytes(32), new.root, proof(old.size, new.size))


def test_proof_ranges_outside_the_log_are_refused(busy: Desk) -> None:
    size = len(_records(busy, busy.world.bob))
    base = f"/v1/circles/{busy.cid}/audit"
    refused = (422, "proof_range_invalid")
    invalid = (422, "invalid_request")
    cases = [
        ("inclusion", {"index": size, "size": size}, refused),
        ("inclusion", {"index": 2, "size": 2}, refused),
        ("inclusion", {"index": 0, "size": size + 1}, refused),
        ("inclusion", {"index": -1, "size": size}, invalid),
        ("inclusion", {"index": 0, "size": 0}, invalid),
        ("inclusion", {"index": 0, "size": 2**63}, invalid),
        ("inclusion", {"size": size}, invalid),
        ("consistency", {"first": 3, "second": 2}, refused),
        ("consistency", {"first": 0, "second": size + 1}, refused),
        ("consistency", {"first": -1, "second": size}, invalid),
        ("consistency", {"first": 1}, invalid),
    ]
    for what, params, expected in cases:
        got = error_of(busy.call(busy.world.bob, "GET", f"{base}/{what}", params=params))
        assert got == expected, (what, params)
    assert error_of(busy.call(busy.world.bob, "GET", f"{base}/records", params={"after": -2})) == (
        invalid
    )


def test_a_tree_head_is_for_one_circle(busy: Desk) -> None:
    """frank's own circle has its own log: his head says so and does not cover this one."""
    world = busy.world
    theirs = world.frank.circles.create("Frank's circle").circle_id
    frank = Desk(world, busy.http, busy.person)
    frank.cid = theirs
    head, signed = _head(frank, world.frank)
    mine, mine_signed = _head(busy, world.bob)
    assert head.circle_id == theirs and head.size == len(_records(frank, world.frank))
    assert head.root != mine.root
    assert signed["public_key"] == mine_signed["public_key"]  # one server key for every circle


def test_a_records_cursor_past_the_integer_column_is_refused(busy: Desk) -> None:
    # Found by the fuzz suite (tests/test_fuzz.py): PostgreSQL answered 500 for `after=2**31`.
    path = f"/v1/circles/{busy.cid}/audit/records"
    for after in (2**31, 2**62):
        got = error_of(busy.call(busy.world.bob, "GET", path, params={"after": after}))
        assert got == (422, "invalid_request"), after
    assert error_of(busy.call(busy.world.bob, "GET", path, params={"after": 2**31 - 1})) == (
        200,
        None,
    )
