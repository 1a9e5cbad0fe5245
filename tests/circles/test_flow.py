"""Circles through the SDK: keys per epoch, history for current members, nothing for removed."""

import pytest

from app.client.errors import ApiError
from tests.conftest import World


def test_members_share_the_key_and_read_the_name(world: World) -> None:
    bob = world.bob.circles.sync(world.circle_id)
    carol = world.carol.circles.sync(world.circle_id)
    assert bob.name == carol.name == "Film crews Berlin"
    assert bob.key == carol.key
    assert bob.epoch == 1  # erin's removal rotated the key


def test_removal_rotates_and_current_members_keep_history(world: World) -> None:
    before = world.bob.circles.sync(world.circle_id)
    world.alice.circles.remove(world.circle_id, "bob")
    carol = world.carol.circles.sync(world.circle_id)
    assert carol.epoch == before.epoch + 1
    assert carol.key != before.key
    assert carol.keys[before.epoch] == before.key  # history via the previous-key chain
    assert [m.user for m in carol.record.members] == ["alice", "carol"]


def test_removed_member_is_refused_every_circle_resource(world: World) -> None:
    for path in ("", "/members", "/records", "/keys", "/events"):
        with pytest.raises(ApiError) as caught:
            world.erin.client.request("GET", f"/v1/circles/{world.circle_id}{path}")
        assert (caught.value.status, caught.value.code) == (403, "not_a_member")


def test_later_joiner_reads_the_whole_history(world: World) -> None:
    old = world.bob.circles.sync(world.circle_id)
    world.alice.circles.confirm(world.circle_id, "dave", fingerprint=world.dave.fingerprint)
    dave = world.dave.circles.sync(world.circle_id)
    assert set(dave.keys) == {0, 1}
    assert dave.keys[0] == old.keys[0]


def test_leaving_marks_rotation_due_and_the_next_admin_action_rotates(world: World) -> None:
    epoch = world.bob.circles.sync(world.circle_id).epoch
    world.bob.circles.leave(world.circle_id)
    assert world.alice.circles.sync(world.circle_id).rotation_due
    with pytest.raises(ApiError) as caught:
        world.bob.client.request("GET", f"/v1/circles/{world.circle_id}/keys")
    assert caught.value.code == "not_a_member"
    world.alice.circles.confirm(world.circle_id, "dave", fingerprint=world.dave.fingerprint)
    after = world.carol.circles.sync(world.circle_id)
    assert after.epoch == epoch + 1 and not after.rotation_due
    assert "bob" not in [m.user for m in after.record.members]


def test_confirm_with_a_wrong_fingerprint_is_refused(world: World) -> None:
    from app.client.errors import ProtocolError

    with pytest.raises(ProtocolError) as caught:
        world.alice.circles.confirm(world.circle_id, "dave", fingerprint=world.bob.fingerprint)
    assert caught.value.code == "fingerprint_mismatch"
    statuses = {m.username: m.status for m in world.alice.circles.members(world.circle_id)}
    assert statuses["dave"] == "pending"


def test_roles_owner_rules_and_last_owner(world: World) -> None:
    circles = world.carol.circles  # an admin, not an owner
    with pytest.raises(ApiError) as caught:
        circles.set_role(world.circle_id, "bob", "owner")
    assert caught.value.code == "owner_required"
    world.carol.circles.set_role(world.circle_id, "bob", "admin")
    assert world.bob.circles.sync(world.circle_id).role == "admin"
    with pytest.raises(ApiError) as last:
        world.alice.circles.set_role(world.circle_id, "alice", "admin")
    assert last.value.code == "last_owner"
    with pytest.raises(ApiError) as leave:
        world.alice.circles.leave(world.circle_id)
    assert leave.value.code == "last_owner"


def test_server_never_sees_the_circle_name(world: World, engine: object) -> None:
    from sqlalchemy import Engine

    from tests.accounts.test_at_rest import _all_stored_bytes

    assert isinstance(engine, Engine)
    assert b"Film crews Berlin" not in _all_stored_bytes(engine)


def test_events_form_a_hash_chain(world: World) -> None:
    import json

    from app.circles.events import event_hash
    from app.crypto import b64decode

    events = world.bob.client.request("GET", f"/v1/circles/{world.circle_id}/events")
    previous = None
    for event in events:
        body = json.loads(event["body"])
        assert event_hash(event["body"].encode()) == b64decode(event["hash"])
        assert body["prev"] == previous
        previous = event["hash"]
    kinds = [json.loads(e["body"])["kind"] for e in events]
    assert kinds[0] == "circle_created"
    assert {
        "invite_created",
        "invite_redeemed",
        "member_confirmed",
        "member_removed",
        "key_rotated",
    } <= set(kinds)


def test_a_cursor_past_the_integer_columns_is_refused_not_a_server_error(world: World) -> None:
    # Found by the fuzz suite (tests/test_fuzz.py): PostgreSQL failed on `after=2**31`
    # (integer out of range) and SQLite on `after=2**63`, both as 500s.
    for path in ("/records", "/events"):
        for after in (2**31, 2**63):
            with pytest.raises(ApiError) as caught:
                world.bob.client.request(
                    "GET", f"/v1/circles/{world.circle_id}{path}", params={"after": after}
                )
            assert (caught.value.status, caught.value.code) == (422, "invalid_request")
    events = f"/v1/circles/{world.circle_id}/events"
    assert world.bob.client.request("GET", events, params={"after": 2**31 - 1}) == []
