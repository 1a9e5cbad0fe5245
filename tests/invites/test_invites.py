"""Invites: distinct refusals for expired, revoked, used-up and wrong-secret invites."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from app.client.errors import ApiError, ProtocolError
from app.crypto.circles import Invite
from app.db import utcnow
from app.invites.models import InviteRow
from tests.conftest import World


def _refused(world: World, invite: object) -> tuple[int, str]:
    with pytest.raises(ApiError) as caught:
        world.frank.circles.join(str(invite))
    return caught.value.status, caught.value.code


def test_expired_invite_is_410_invite_expired(world: World, engine: Engine) -> None:
    invite, _ = world.alice.circles.create_invite(world.circle_id, expires_in_days=1)
    with Session(engine) as session:
        session.execute(
            update(InviteRow)
            .where(InviteRow.id == invite.invite_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    assert _refused(world, invite) == (410, "invite_expired")


def test_revoked_invite_is_410_invite_revoked(world: World) -> None:
    invite, _ = world.alice.circles.create_invite(world.circle_id)
    world.carol.circles.revoke_invite(world.circle_id, str(invite.invite_id))
    assert _refused(world, invite) == (410, "invite_revoked")
    listed = {i["invite_id"]: i for i in world.alice.circles.invites(world.circle_id)}
    assert listed[str(invite.invite_id)]["revoked"] is True


def test_used_up_invite_is_410_invite_used_up(world: World, person: object) -> None:
    invite, _ = world.alice.circles.create_invite(world.circle_id, max_uses=1)
    world.frank.circles.join(str(invite))
    gina = person("gina")  # type: ignore[operator]
    with pytest.raises(ApiError) as caught:
        gina.circles.join(str(invite))
    assert (caught.value.status, caught.value.code) == (410, "invite_used_up")


def test_wrong_secret_is_404_like_an_unknown_invite(world: World) -> None:
    real, _ = world.alice.circles.create_invite(world.circle_id)
    forged = Invite(
        real.circle_id, real.invite_id, b"\x07" * 32, real.inviter_fingerprint, real.record_hash
    )
    assert _refused(world, forged) == (404, "invite_not_found")
    statuses = {m.username: m.status for m in world.alice.circles.members(world.circle_id)}
    assert "frank" not in statuses


def test_secret_is_never_stored(world: World, engine: Engine) -> None:
    invite, _ = world.alice.circles.create_invite(world.circle_id)
    with Session(engine) as session:
        stored = session.scalars(
            select(InviteRow.secret_hash).where(InviteRow.id == invite.invite_id)
        ).one()
    assert stored == invite.secret_hash and invite.secret not in stored


def test_redeeming_makes_you_pending_never_active(world: World) -> None:
    invite, _ = world.alice.circles.create_invite(world.circle_id)
    assert world.frank.circles.join(str(invite)) == {
        "circle_id": str(world.circle_id),
        "status": "pending",
    }
    with pytest.raises(ApiError) as caught:
        world.frank.client.request("GET", f"/v1/circles/{world.circle_id}/keys")
    assert caught.value.code == "membership_pending"


def test_active_member_cannot_redeem_again(world: World) -> None:
    invite, _ = world.alice.circles.create_invite(world.circle_id)
    with pytest.raises(ApiError) as caught:
        world.bob.circles.join(str(invite))
    assert (caught.value.status, caught.value.code) == (409, "already_member")


def test_removed_member_can_be_invited_back_and_must_be_confirmed_again(world: World) -> None:
    invite, _ = world.alice.circles.create_invite(world.circle_id)
    world.erin.circles.join(str(invite))
    world.alice.circles.confirm(world.circle_id, "erin", fingerprint=world.erin.fingerprint)
    assert world.erin.circles.sync(world.circle_id).name == "Film crews Berlin"


def test_damaged_invite_string_is_refused_before_any_request(world: World) -> None:
    with pytest.raises(ProtocolError) as caught:
        world.frank.circles.join("bcinvite1.not-a-real-invite")
    assert caught.value.code == "bad_invite"


def test_members_cannot_create_invites(world: World) -> None:
    with pytest.raises(ApiError) as caught:
        world.bob.circles.create_invite(world.circle_id)
    assert (caught.value.status, caught.value.code) == (403, "admin_required")


def test_redeeming_your_own_used_up_invite_again_says_you_are_in(world: World) -> None:
    """Joining twice is `already_member`, not `invite_used_up` (issue 12, item 5)."""
    invite, _ = world.alice.circles.create_invite(world.circle_id, max_uses=1)
    world.frank.circles.join(str(invite))
    with pytest.raises(ApiError) as caught:
        world.frank.circles.join(str(invite))
    assert (caught.value.status, caught.value.code) == (409, "already_member")
