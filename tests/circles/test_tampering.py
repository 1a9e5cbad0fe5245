"""A malicious server: tamper with stored rows and check the client's specific error."""

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.circles.models import Circle, EpochKey, KeyRecordRow, Wrap
from app.client.errors import ProtocolError
from app.crypto import IdentityKeys
from app.crypto.circles import CircleKey, KeyRecord, RecordMember, seal_wrap
from tests.conftest import World


def _user_id(session: Session, name: str) -> object:
    return session.scalars(select(User.id).where(User.username == name)).one()


def _expect(world_person: object, circle_id: object, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        world_person.circles.sync(circle_id)  # type: ignore[attr-defined]
    assert caught.value.code == code, caught.value


def test_wrap_of_a_key_no_signed_record_names_is_refused(world: World, engine: Engine) -> None:
    with Session(engine) as session:
        bob = _user_id(session, "bob")
        x_pub = session.scalars(select(User.x25519_public).where(User.id == bob)).one()
        forged = seal_wrap(
            CircleKey.generate(), circle_id=world.circle_id, epoch=1, recipient=x_pub
        )
        session.execute(
            update(Wrap).where(Wrap.user_id == bob, Wrap.epoch == 1).values(wrap=forged)
        )
        session.commit()
    _expect(world.bob, world.circle_id, "untrusted_signer")


def test_wrap_for_another_epoch_is_refused(world: World, engine: Engine) -> None:
    with Session(engine) as session:
        bob = _user_id(session, "bob")
        old = session.scalars(select(Wrap.wrap).where(Wrap.user_id == bob, Wrap.epoch == 0)).one()
        session.execute(update(Wrap).where(Wrap.user_id == bob, Wrap.epoch == 1).values(wrap=old))
        session.commit()
    _expect(world.bob, world.circle_id, "wrong_epoch")


def test_record_signed_by_someone_not_trusted_is_refused(world: World, engine: Engine) -> None:
    frank = IdentityKeys.generate()
    with Session(engine) as session:
        circle = session.get(Circle, world.circle_id)
        assert circle is not None
        row = session.get(KeyRecordRow, (world.circle_id, circle.record_seq))
        assert row is not None
        record = KeyRecord.parse(row.record)
        # Same record, signed with a key the server controls, presented as frank's.
        row.signature = record.sign(frank)
        row.signer_id = _user_id(session, "frank")  # type: ignore[assignment]
        session.commit()
    _expect(world.bob, world.circle_id, "untrusted_signer")


def test_member_set_with_an_unconfirmed_key_is_refused(world: World, engine: Engine) -> None:
    with Session(engine) as session:
        circle = session.get(Circle, world.circle_id)
        assert circle is not None
        row = session.get(KeyRecordRow, (world.circle_id, circle.record_seq))
        assert row is not None
        record = KeyRecord.parse(row.record)
        dave = RecordMember("dave", world.dave.fingerprint, "member")
        widened = KeyRecord(
            record.circle_id,
            record.seq,
            record.epoch,
            record.key_id,
            tuple(sorted((*record.members, dave))),
            record.prev,
            record.signer,
        )
        row.record = widened.to_bytes()
        session.commit()
    _expect(world.bob, world.circle_id, "bad_signature")


def test_rollback_to_an_older_epoch_is_refused(world: World, engine: Engine) -> None:
    world.bob.circles.sync(world.circle_id)  # bob has now seen epoch 1
    with Session(engine) as session:
        circle = session.get(Circle, world.circle_id)
        assert circle is not None
        seq = circle.record_seq
        session.execute(
            delete(KeyRecordRow).where(
                KeyRecordRow.circle_id == world.circle_id, KeyRecordRow.seq == seq
            )
        )
        session.execute(delete(Wrap).where(Wrap.circle_id == world.circle_id, Wrap.epoch == 1))
        session.execute(
            delete(EpochKey).where(EpochKey.circle_id == world.circle_id, EpochKey.epoch == 1)
        )
        circle.record_seq, circle.epoch = seq - 1, 0
        session.commit()
    _expect(world.bob, world.circle_id, "rollback")


def test_a_rewritten_history_is_a_fork(world: World, engine: Engine) -> None:
    pinned = world.bob.circles.sync(world.circle_id).record
    mallory = IdentityKeys.generate()
    with Session(engine) as session:
        row = session.get(KeyRecordRow, (world.circle_id, pinned.seq))
        assert row is not None
        other = KeyRecord(
            pinned.circle_id,
            pinned.seq,
            pinned.epoch,
            pinned.key_id,
            pinned.members,
            bytes(32),
            pinned.signer,
        )
        row.record = other.to_bytes()
        row.signature = other.sign(mallory)
        session.commit()
    _expect(world.bob, world.circle_id, "fork")


def test_admin_refuses_to_wrap_to_a_member_whose_key_changed(world: World, engine: Engine) -> None:
    swapped = IdentityKeys.generate().public()
    with Session(engine) as session:
        session.execute(
            update(User)
            .where(User.username == "bob")
            .values(
                x25519_public=swapped.x25519_public,
                ed25519_public=swapped.ed25519_public,
                x25519_signature=swapped.x25519_signature,
            )
        )
        session.commit()
    with pytest.raises(ProtocolError) as caught:
        world.alice.circles.rotate(world.circle_id)
    assert caught.value.code == "member_key_changed"
    with Session(engine) as session:
        assert session.get(Circle, world.circle_id).epoch == 1  # type: ignore[union-attr]


def test_inviter_swapped_by_the_server_is_caught_at_join(world: World, engine: Engine) -> None:
    invite, _ = world.carol.circles.create_invite(world.circle_id)
    with Session(engine) as session:  # the server claims bob made the invite
        from app.invites.models import InviteRow

        session.execute(
            update(InviteRow)
            .where(InviteRow.id == invite.invite_id)
            .values(created_by=_user_id(session, "bob"))
        )
        session.commit()
    with pytest.raises(ProtocolError) as caught:
        world.frank.circles.join(str(invite))
    assert caught.value.code == "inviter_mismatch"


def test_history_made_up_by_server_accounts_is_refused_by_a_joiner(
    world: World, engine: Engine
) -> None:
    """The server builds a chain of its own that lists the real inviter as an admin."""
    from app.circles.models import Membership

    invite, _ = world.alice.circles.create_invite(world.circle_id)
    world.frank.circles.join(str(invite))
    world.alice.circles.confirm(world.circle_id, "frank", fingerprint=world.frank.fingerprint)
    mallory = IdentityKeys.generate()
    key = CircleKey.generate()
    cid = world.circle_id
    owner = RecordMember("mallory", mallory.public().fingerprint(), "owner")
    alice = RecordMember("alice", world.alice.fingerprint, "admin")
    frank = RecordMember("frank", world.frank.fingerprint, "member")
    r0 = KeyRecord(cid, 0, 0, key.key_id, (owner,), None, "mallory")
    r1 = KeyRecord(cid, 1, 0, key.key_id, (alice, owner), r0.hash(), "mallory")
    r2 = KeyRecord(cid, 2, 0, key.key_id, (alice, frank, owner), r1.hash(), "mallory")
    with Session(engine) as session:
        from app.accounts.models import User as UserRow

        frank_id = _user_id(session, "frank")
        dave_id = _user_id(session, "dave")
        # The server re-labels dave's account as "mallory" with mallory's keys.
        public = mallory.public()
        session.execute(
            update(UserRow)
            .where(UserRow.id == dave_id)
            .values(
                username="mallory",
                x25519_public=public.x25519_public,
                ed25519_public=public.ed25519_public,
                x25519_signature=public.x25519_signature,
            )
        )
        session.execute(delete(KeyRecordRow).where(KeyRecordRow.circle_id == cid))
        session.execute(delete(Wrap).where(Wrap.circle_id == cid))
        session.execute(delete(EpochKey).where(EpochKey.circle_id == cid, EpochKey.epoch > 0))
        session.execute(update(EpochKey).where(EpochKey.circle_id == cid).values(key_id=key.key_id))
        from app.db import utcnow

        for record in (r0, r1, r2):
            session.add(
                KeyRecordRow(
                    circle_id=cid,
                    seq=record.seq,
                    epoch=0,
                    record=record.to_bytes(),
                    signature=record.sign(mallory),
                    signer_id=dave_id,
                    created_at=utcnow(),
                )
            )
        x_pub = session.scalars(select(UserRow.x25519_public).where(UserRow.id == frank_id)).one()
        session.add(
            Wrap(
                circle_id=cid,
                epoch=0,
                user_id=frank_id,
                wrap=seal_wrap(key, circle_id=cid, epoch=0, recipient=x_pub),
            )
        )
        session.execute(update(Circle).where(Circle.id == cid).values(record_seq=2, epoch=0))
        assert session.get(Membership, (cid, frank_id)) is not None
        session.commit()
    _expect(world.frank, world.circle_id, "untrusted_circle")


def test_a_departure_the_member_did_not_sign_is_refused(world: World, engine: Engine) -> None:
    from app.circles.models import Membership

    with Session(engine) as session:
        session.execute(
            update(Membership)
            .where(Membership.user_id == _user_id(session, "bob"))
            .values(status="left")
        )
        session.execute(
            update(Circle).where(Circle.id == world.circle_id).values(rotation_due=True)
        )
        session.commit()
    with pytest.raises(ProtocolError) as caught:
        world.alice.circles.rotate(world.circle_id)
    assert caught.value.code == "unsigned_departure"


def test_a_signed_departure_lets_the_next_rotation_drop_the_member(world: World) -> None:
    world.bob.circles.leave(world.circle_id)
    world.alice.circles.rotate(world.circle_id)
    record = world.carol.circles.sync(world.circle_id).record
    assert [m.user for m in record.members] == ["alice", "carol"]


def test_removal_the_server_does_not_apply_is_reported(world: World, engine: Engine) -> None:
    from app.circles.models import Membership

    with Session(engine) as session:  # the server pretends bob is only pending
        session.execute(
            update(Membership)
            .where(Membership.user_id == _user_id(session, "bob"))
            .values(status="pending")
        )
        session.commit()
    with pytest.raises(ProtocolError) as caught:
        world.alice.circles.remove(world.circle_id, "bob")
    assert caught.value.code == "removal_not_applied"


def test_admin_refuses_to_admit_a_joiner_as_owner(world: World, engine: Engine) -> None:
    from app.circles.models import Membership

    with Session(engine) as session:
        session.execute(
            update(Membership)
            .where(Membership.user_id == _user_id(session, "dave"))
            .values(role="owner")
        )
        session.commit()
    with pytest.raises(ProtocolError) as caught:
        world.alice.circles.confirm(world.circle_id, "dave", fingerprint=world.dave.fingerprint)
    assert caught.value.code == "bad_role"


def test_an_old_departure_is_not_replayed_after_rejoining(world: World, engine: Engine) -> None:
    """bob leaves, is invited back and confirmed; the server replays his old departure."""
    from app.circles.models import Membership

    world.bob.circles.leave(world.circle_id)
    world.alice.circles.rotate(world.circle_id)
    with Session(engine) as session:
        old = session.get(Membership, (world.circle_id, _user_id(session, "bob")))
        assert old is not None
        statement, signature = old.departure, old.departure_signature
    invite, _ = world.alice.circles.create_invite(world.circle_id)
    world.bob.circles.join(str(invite))
    world.alice.circles.confirm(world.circle_id, "bob", fingerprint=world.bob.fingerprint)
    with Session(engine) as session:
        member = session.get(Membership, (world.circle_id, _user_id(session, "bob")))
        assert member is not None and member.departure is None  # cleared at redemption
        member.status, member.departure, member.departure_signature = "left", statement, signature
        session.commit()
    with pytest.raises(ProtocolError) as caught:
        world.alice.circles.rotate(world.circle_id)
    assert caught.value.code == "unsigned_departure"
