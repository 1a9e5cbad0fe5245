"""The rules of the circles layer in app.crypto.circles, one test per rule.

Fresh random keys throughout; docs/vectors/circles-v1.json pins the bytes.
"""

import base64
import json
import uuid
from dataclasses import replace

import nacl.exceptions
import nacl.secret
import pytest
from nacl.public import PrivateKey

from app.crypto import IdentityKeys, PublicIdentity, b64encode, labels
from app.crypto.circles import (
    ADMIN_ROLES,
    INVITE_SECRET_BYTES,
    ROLES,
    CircleKey,
    Invite,
    KeyRecord,
    RecordMember,
    canonical_json,
    check_successor,
    invite_secret_hash,
    leave_statement,
    open_circle_meta,
    open_previous_key,
    open_wrap,
    seal_circle_meta,
    seal_previous_key,
    seal_wrap,
    sign_leave,
    signer_fingerprint,
    verify_leave,
    verify_record,
)
from app.crypto.errors import (
    BadSignature,
    CryptoError,
    DecryptionFailed,
    InvalidKey,
    RecordChainBroken,
    UntrustedSigner,
    WrongEpoch,
)

CIRCLE = uuid.UUID("8a3f0c6e-5b1d-4f2a-9c7e-1d2b3a4c5d6e")
OTHER_CIRCLE = uuid.UUID("11111111-2222-4333-8444-555555555555")


class People:
    def __init__(self) -> None:
        self.keys = {name: IdentityKeys.generate() for name in ("alice", "bob", "carol", "eve")}

    def fp(self, name: str) -> str:
        return self.keys[name].public().fingerprint()

    def public(self, name: str) -> PublicIdentity:
        return self.keys[name].public()

    def member(self, name: str, role: str) -> RecordMember:
        return RecordMember(name, self.fp(name), role)


@pytest.fixture(scope="module")
def people() -> People:
    return People()


@pytest.fixture(scope="module")
def key0() -> CircleKey:
    return CircleKey.generate()


@pytest.fixture(scope="module")
def genesis(people: People, key0: CircleKey) -> KeyRecord:
    return KeyRecord(CIRCLE, 0, 0, key0.key_id, (people.member("alice", "owner"),), None, "alice")


@pytest.fixture(scope="module")
def two(people: People, key0: CircleKey, genesis: KeyRecord) -> KeyRecord:
    """alice (owner) adds bob (member) and carol (admin) in epoch 0."""
    members = (
        people.member("alice", "owner"),
        people.member("bob", "member"),
        people.member("carol", "admin"),
    )
    return KeyRecord(CIRCLE, 1, 0, key0.key_id, members, genesis.hash(), "alice")


def successor(previous: KeyRecord, **changes: object) -> KeyRecord:
    """The no-op successor of ``previous`` signed by alice, with ``changes`` applied."""
    record = KeyRecord(
        previous.circle_id,
        previous.seq + 1,
        previous.epoch,
        previous.key_id,
        previous.members,
        previous.hash(),
        "alice",
    )
    return replace(record, **changes)  # type: ignore[arg-type]


# -- epoch keys ------------------------------------------------------------------------


def test_circle_key_is_32_bytes() -> None:
    for size in (0, 16, 31, 33, 64):
        with pytest.raises(InvalidKey):
            CircleKey(bytes(size))


def test_key_id_and_subkeys_are_distinct_and_deterministic(key0: CircleKey) -> None:
    values = [key0.key_id, key0.entry_key, key0.meta_key]
    assert len(key0.key_id) == 16
    assert all(len(v) == 32 for v in values[1:])
    assert len({*values, bytes(key0)}) == 4
    assert CircleKey(bytes(key0)).key_id == key0.key_id
    assert CircleKey(bytes(key0)) == key0
    assert CircleKey.generate() != key0


def test_circle_key_repr_shows_only_the_key_id(key0: CircleKey) -> None:
    assert bytes(key0).hex() not in repr(key0)
    assert key0.key_id.hex() in repr(key0)


# -- record encoding -------------------------------------------------------------------


def test_record_round_trips_through_its_canonical_bytes(two: KeyRecord) -> None:
    raw = two.to_bytes()
    assert raw == canonical_json(json.loads(raw))
    assert raw.count(b" ") == 5 * len(two.members)  # only inside fingerprints
    assert KeyRecord.parse(raw) == two


def test_canonical_json_keeps_utf8_and_sorts_keys() -> None:
    assert canonical_json({"b": "\u00fc", "a": [1, {"d": None, "c": True}]}) == (
        '{"a":[1,{"c":true,"d":null}],"b":"\u00fc"}'.encode()
    )


@pytest.mark.parametrize(
    "edit",
    [
        lambda raw: raw.replace(b",", b", ", 1),
        lambda raw: raw.replace(b":", b": ", 1),
        lambda raw: b" " + raw,
        lambda raw: raw + b"\n",
        lambda raw: json.dumps(
            dict(reversed(json.loads(raw).items())), separators=(",", ":")
        ).encode(),
        lambda raw: raw.replace(b'"alice"', b'"\\u0061lice"', 1),
        lambda raw: raw.replace(b'"v":1', b'"v":1.0'),
        lambda raw: raw.replace(b'"v":1', b'"v":true'),
        lambda raw: raw.replace(b'"v":1', b'"v":1,"v":1'),
    ],
    ids=[
        "space-after-comma",
        "space-after-colon",
        "leading-space",
        "trailing-newline",
        "unsorted-keys",
        "escaped-letter",
        "float-version",
        "bool-version",
        "duplicate-key",
    ],
)
def test_parse_refuses_non_canonical_bytes(two: KeyRecord, edit: object) -> None:
    raw = edit(two.to_bytes())  # type: ignore[operator]
    assert json.loads(raw)  # still JSON, still the same data or close to it
    with pytest.raises(InvalidKey):
        KeyRecord.parse(raw)


def _reencoded(record: KeyRecord, **changes: object) -> bytes:
    data = {**record.to_json(), **changes}
    return canonical_json(data)


def test_parse_refuses_unsorted_members(two: KeyRecord) -> None:
    members = list(reversed(two.to_json()["members"]))
    with pytest.raises(InvalidKey, match="sorted"):
        KeyRecord.parse(_reencoded(two, members=members))


def test_parse_refuses_duplicate_members(two: KeyRecord) -> None:
    first = two.to_json()["members"][0]
    with pytest.raises(InvalidKey, match="unique"):
        KeyRecord.parse(_reencoded(two, members=[first, first]))


def test_parse_refuses_the_same_user_twice_with_different_roles(two: KeyRecord) -> None:
    first = two.to_json()["members"][0]
    with pytest.raises(InvalidKey):
        KeyRecord.parse(_reencoded(two, members=[first, {**first, "role": "member"}]))


def test_parse_refuses_an_empty_member_list(two: KeyRecord) -> None:
    with pytest.raises(InvalidKey):
        KeyRecord.parse(_reencoded(two, members=[]))


@pytest.mark.parametrize("role", ["moderator", "Owner", "", "admin "])
def test_parse_refuses_unknown_roles(two: KeyRecord, role: str) -> None:
    members = [{**m, "role": role} if m["user"] == "bob" else m for m in two.to_json()["members"]]
    with pytest.raises(InvalidKey, match="role"):
        KeyRecord.parse(_reencoded(two, members=members))


def test_parse_refuses_a_record_without_an_owner(two: KeyRecord) -> None:
    members = [{**m, "role": "admin"} for m in two.to_json()["members"]]
    with pytest.raises(InvalidKey, match="owner"):
        KeyRecord.parse(_reencoded(two, members=members))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("v", 2),
        ("type", "backchannel.key-record.v2"),
        ("circle", str(CIRCLE)),
        ("circle", CIRCLE.hex.upper()),
        ("circle", "not-a-uuid"),
        ("seq", -1),
        ("seq", "1"),
        ("epoch", -1),
        ("key_id", b64encode(bytes(15))),
        ("key_id", b64encode(bytes(17))),
        ("key_id", "AAAAAAAAAAAAAAAAAAAAAA"),
        ("prev", b64encode(bytes(31))),
        ("prev", ""),
        ("signer", None),
        ("members", None),
    ],
)
def test_parse_refuses_malformed_fields(two: KeyRecord, field: str, value: object) -> None:
    with pytest.raises(InvalidKey):
        KeyRecord.parse(_reencoded(two, **{field: value}))


@pytest.mark.parametrize("field", ["v", "type", "circle", "seq", "members", "prev", "signer"])
def test_parse_refuses_a_missing_field(two: KeyRecord, field: str) -> None:
    data = two.to_json()
    del data[field]
    with pytest.raises(InvalidKey):
        KeyRecord.parse(canonical_json(data))


def test_parse_refuses_an_unknown_field(two: KeyRecord) -> None:
    with pytest.raises(InvalidKey):
        KeyRecord.parse(_reencoded(two, note="hi"))


def test_parse_refuses_a_fingerprint_not_in_canonical_form(two: KeyRecord) -> None:
    members = [{**m, "fp": m["fp"].replace(" ", "-")} for m in two.to_json()["members"]]
    with pytest.raises(InvalidKey):
        KeyRecord.parse(_reencoded(two, members=members))


def test_parse_refuses_bytes_that_are_not_json() -> None:
    for raw in (b"", b"\xff", b"[]", b"null", b'{"v":1}', "\ufeff{}".encode()):
        with pytest.raises(InvalidKey):
            KeyRecord.parse(raw)


def test_record_hash_is_over_the_canonical_bytes(two: KeyRecord) -> None:
    assert two.hash() != replace(two, signer="carol").hash()
    assert KeyRecord.parse(two.to_bytes()).hash() == two.hash()
    assert len(two.hash()) == 32


# -- the first record ------------------------------------------------------------------


def test_first_record_is_accepted(people: People, genesis: KeyRecord) -> None:
    check_successor(None, genesis)
    signature = genesis.sign(people.keys["alice"])
    verify_record(None, genesis, signature, people.public("alice"))


@pytest.mark.parametrize(
    "changes",
    [{"seq": 1}, {"epoch": 1}, {"prev": bytes(32)}, {"signer": "bob"}],
    ids=["seq-1", "epoch-1", "has-prev", "signer-not-listed"],
)
def test_first_record_rules(genesis: KeyRecord, changes: dict[str, object]) -> None:
    with pytest.raises(RecordChainBroken):
        check_successor(None, replace(genesis, **changes))  # type: ignore[arg-type]


def test_first_record_lists_only_its_signer_as_owner(people: People, genesis: KeyRecord) -> None:
    with pytest.raises(RecordChainBroken):
        check_successor(None, replace(genesis, members=(people.member("alice", "admin"),)))
    with_bob = (people.member("alice", "owner"), people.member("bob", "member"))
    with pytest.raises(RecordChainBroken):
        check_successor(None, replace(genesis, members=with_bob))


def test_first_record_signer_key_must_be_the_listed_one(people: People, genesis: KeyRecord) -> None:
    eve = people.keys["eve"]
    with pytest.raises(UntrustedSigner):
        verify_record(None, genesis, genesis.sign(eve), eve.public())


# -- successors ------------------------------------------------------------------------


def test_adding_a_member_in_the_same_epoch_is_accepted(
    people: People, genesis: KeyRecord, two: KeyRecord
) -> None:
    verify_record(genesis, two, two.sign(people.keys["alice"]), people.public("alice"))


def test_an_admin_may_sign_and_change_roles(people: People, two: KeyRecord) -> None:
    members = tuple(replace(m, role="admin") if m.user == "bob" else m for m in two.members)
    record = successor(two, members=members, signer="carol")
    verify_record(two, record, record.sign(people.keys["carol"]), people.public("carol"))


def test_a_rotation_removing_a_member_is_accepted(people: People, two: KeyRecord) -> None:
    new = CircleKey.generate()
    members = tuple(m for m in two.members if m.user != "bob")
    record = successor(two, epoch=1, key_id=new.key_id, members=members)
    verify_record(two, record, record.sign(people.keys["alice"]), people.public("alice"))


def test_refuses_a_record_of_another_circle(two: KeyRecord) -> None:
    with pytest.raises(RecordChainBroken):
        check_successor(two, successor(two, circle_id=OTHER_CIRCLE))


@pytest.mark.parametrize("delta", [-1, 0, 2, 100])
def test_refuses_a_wrong_seq(two: KeyRecord, delta: int) -> None:
    with pytest.raises(RecordChainBroken):
        check_successor(two, successor(two, seq=two.seq + delta))


@pytest.mark.parametrize("prev", [None, bytes(32), "genesis"])
def test_refuses_a_wrong_prev(two: KeyRecord, genesis: KeyRecord, prev: object) -> None:
    value = genesis.hash() if prev == "genesis" else prev
    with pytest.raises(RecordChainBroken):
        check_successor(two, successor(two, prev=value))


def test_refuses_an_epoch_jump(two: KeyRecord) -> None:
    new = CircleKey.generate()
    with pytest.raises(WrongEpoch):
        check_successor(two, successor(two, epoch=two.epoch + 2, key_id=new.key_id))


def test_refuses_an_epoch_going_back(people: People, two: KeyRecord) -> None:
    rotated = successor(two, epoch=1, key_id=CircleKey.generate().key_id)
    with pytest.raises(WrongEpoch):
        check_successor(rotated, successor(rotated, epoch=0, key_id=two.key_id))


def test_refuses_a_key_change_without_a_new_epoch(two: KeyRecord) -> None:
    with pytest.raises(RecordChainBroken, match="without a new epoch"):
        check_successor(two, successor(two, key_id=CircleKey.generate().key_id))


def test_refuses_a_new_epoch_with_the_same_key(two: KeyRecord) -> None:
    with pytest.raises(RecordChainBroken, match="new key"):
        check_successor(two, successor(two, epoch=two.epoch + 1))


@pytest.mark.parametrize("signer", ["bob", "eve", "nobody"])
def test_refuses_a_signer_who_was_not_an_admin(two: KeyRecord, signer: str) -> None:
    with pytest.raises(UntrustedSigner):
        check_successor(two, successor(two, signer=signer))


def test_authority_comes_from_the_previous_record_not_the_new_one(
    people: People, two: KeyRecord
) -> None:
    """bob promotes himself: he is admin in the new record but was not in the previous one."""
    members = tuple(replace(m, role="owner") if m.user == "bob" else m for m in two.members)
    record = successor(two, members=members, signer="bob")
    with pytest.raises(UntrustedSigner):
        verify_record(two, record, record.sign(people.keys["bob"]), people.public("bob"))


def test_refuses_a_member_fingerprint_change(people: People, two: KeyRecord) -> None:
    members = tuple(replace(m, fp=people.fp("eve")) if m.user == "bob" else m for m in two.members)
    with pytest.raises(UntrustedSigner, match="key changed"):
        check_successor(two, successor(two, members=members))


def test_refuses_a_member_fingerprint_change_in_a_new_epoch(people: People, two: KeyRecord) -> None:
    members = tuple(replace(m, fp=people.fp("eve")) if m.user == "bob" else m for m in two.members)
    record = successor(two, members=members, epoch=1, key_id=CircleKey.generate().key_id)
    with pytest.raises(UntrustedSigner):
        check_successor(two, record)


def test_signer_fingerprint_is_the_previous_records_listing(
    people: People, genesis: KeyRecord, two: KeyRecord
) -> None:
    assert signer_fingerprint(None, genesis) == people.fp("alice")
    assert signer_fingerprint(two, successor(two, signer="carol")) == people.fp("carol")
    with pytest.raises(UntrustedSigner):
        signer_fingerprint(two, successor(two, signer="eve"))


def test_verify_refuses_a_signer_key_other_than_the_listed_one(
    people: People, two: KeyRecord
) -> None:
    record = successor(two)
    eve = people.keys["eve"]
    with pytest.raises(UntrustedSigner, match="not the one the circle lists"):
        verify_record(two, record, record.sign(eve), eve.public())


def test_verify_refuses_a_bad_signature(people: People, two: KeyRecord) -> None:
    record = successor(two)
    good = record.sign(people.keys["alice"])
    alice = people.public("alice")
    verify_record(two, record, good, alice)
    flipped = bytes([good[0] ^ 1]) + good[1:]
    for signature in (
        flipped,
        bytes(64),
        good[:63],
        people.keys["eve"].signing_key.sign(b"x")[:64],
    ):
        with pytest.raises(BadSignature):
            verify_record(two, record, signature, alice)


def test_signature_covers_the_context_label(people: People, two: KeyRecord) -> None:
    record = successor(two)
    bare = bytes(people.keys["alice"].signing_key.sign(record.to_bytes()).signature)
    with pytest.raises(BadSignature):
        verify_record(two, record, bare, people.public("alice"))


def test_signature_of_one_record_does_not_verify_another(people: People, two: KeyRecord) -> None:
    record = successor(two)
    members = tuple(replace(m, role="admin") if m.user == "bob" else m for m in two.members)
    other = successor(two, members=members)
    check_successor(two, other)  # a valid successor: only the signature is wrong
    with pytest.raises(BadSignature):
        verify_record(two, other, record.sign(people.keys["alice"]), people.public("alice"))


def test_removal_without_a_new_epoch_is_refused(two: KeyRecord) -> None:
    """Whoever is dropped still holds the epoch key: only a new epoch may drop them."""
    members = tuple(m for m in two.members if m.user != "bob")
    with pytest.raises(RecordChainBroken, match="without a new epoch"):
        check_successor(two, successor(two, members=members))


def test_dropping_everyone_but_the_signer_without_a_new_epoch_is_refused(
    people: People, two: KeyRecord
) -> None:
    record = successor(two, members=(people.member("alice", "owner"),))
    with pytest.raises(RecordChainBroken):
        verify_record(two, record, record.sign(people.keys["alice"]), people.public("alice"))


def test_swapping_a_member_for_another_without_a_new_epoch_is_refused(
    people: People, two: KeyRecord
) -> None:
    """The member count stays the same, but bob leaves the set while keeping the key."""
    members = tuple(
        sorted((*(m for m in two.members if m.user != "bob"), people.member("eve", "member")))
    )
    assert len(members) == len(two.members)
    with pytest.raises(RecordChainBroken):
        check_successor(two, successor(two, members=members))


def test_the_drop_rule_applies_to_any_signer_who_passes_the_signer_rule(two: KeyRecord) -> None:
    members = tuple(m for m in two.members if m.user != "bob")
    with pytest.raises(RecordChainBroken):
        check_successor(two, successor(two, members=members, signer="carol"))
    with pytest.raises(UntrustedSigner):  # the signer rule comes first
        check_successor(two, successor(two, members=members, signer="bob"))


def test_adding_a_member_in_a_new_epoch_is_accepted(people: People, two: KeyRecord) -> None:
    members = tuple(sorted((*two.members, people.member("eve", "member"))))
    record = successor(two, members=members, epoch=1, key_id=CircleKey.generate().key_id)
    check_successor(two, record)


# -- owners ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_owners(people: People, two: KeyRecord) -> KeyRecord:
    """alice (owner) makes bob an owner: alice and bob owners, carol admin."""
    members = tuple(replace(m, role="owner") if m.user == "bob" else m for m in two.members)
    record = successor(two, members=members)
    verify_record(two, record, record.sign(people.keys["alice"]), people.public("alice"))
    return record


def _with_role(record: KeyRecord, user: str, role: str) -> tuple[RecordMember, ...]:
    return tuple(replace(m, role=role) if m.user == user else m for m in record.members)


def test_an_owner_may_make_an_owner(two: KeyRecord) -> None:
    check_successor(two, successor(two, members=_with_role(two, "carol", "owner")))


def test_an_owner_may_unmake_an_owner(two_owners: KeyRecord) -> None:
    check_successor(
        two_owners, successor(two_owners, members=_with_role(two_owners, "bob", "admin"))
    )


@pytest.mark.parametrize(("user", "role"), [("bob", "owner"), ("carol", "owner")])
def test_an_admin_may_not_make_an_owner(
    people: People, two: KeyRecord, user: str, role: str
) -> None:
    """carol (admin) makes bob or herself an owner."""
    record = successor(two, members=_with_role(two, user, role), signer="carol")
    with pytest.raises(UntrustedSigner, match="only an owner"):
        verify_record(two, record, record.sign(people.keys["carol"]), people.public("carol"))


def test_an_admin_may_not_add_a_new_member_as_owner(people: People, two: KeyRecord) -> None:
    members = tuple(sorted((*two.members, people.member("eve", "owner"))))
    with pytest.raises(UntrustedSigner, match="only an owner"):
        check_successor(two, successor(two, members=members, signer="carol"))
    # the same addition as a plain member is fine
    members = tuple(sorted((*two.members, people.member("eve", "member"))))
    check_successor(two, successor(two, members=members, signer="carol"))


@pytest.mark.parametrize("role", ["admin", "member"])
def test_an_admin_may_not_unmake_an_owner(two_owners: KeyRecord, role: str) -> None:
    record = successor(two_owners, members=_with_role(two_owners, "bob", role), signer="carol")
    with pytest.raises(UntrustedSigner, match="only an owner"):
        check_successor(two_owners, record)


def test_an_admin_may_not_unmake_an_owner_in_a_new_epoch(two_owners: KeyRecord) -> None:
    record = successor(
        two_owners,
        members=_with_role(two_owners, "bob", "member"),
        signer="carol",
        epoch=1,
        key_id=CircleKey.generate().key_id,
    )
    with pytest.raises(UntrustedSigner, match="only an owner"):
        check_successor(two_owners, record)


def test_an_admin_may_change_roles_below_owner(two_owners: KeyRecord) -> None:
    record = successor(
        two_owners, members=_with_role(two_owners, "carol", "member"), signer="carol"
    )
    check_successor(two_owners, record)


def test_an_admin_may_rotate_an_owner_out(two_owners: KeyRecord) -> None:
    """Known limit (docs/protocol.md §10.6): dropping someone in a new epoch is not
    "unmaking" them, so an admin's rotation may drop an owner. That is how an owner who
    left is rotated out; the chain cannot tell it from a removal the owner did not sign."""
    members = tuple(m for m in two_owners.members if m.user != "bob")
    record = successor(
        two_owners, members=members, signer="carol", epoch=1, key_id=CircleKey.generate().key_id
    )
    check_successor(two_owners, record)


def test_authority_for_owner_changes_comes_from_the_previous_record(
    people: People, two: KeyRecord
) -> None:
    """carol is made an owner by alice; only the record after that may use her ownership."""
    promoted = successor(two, members=_with_role(two, "carol", "owner"))
    check_successor(two, promoted)
    both = tuple(replace(m, role="owner") if m.user in ("bob", "carol") else m for m in two.members)
    with pytest.raises(UntrustedSigner):  # carol is still only an admin in ``two``
        check_successor(two, successor(two, members=both, signer="carol"))
    check_successor(promoted, successor(promoted, members=both, signer="carol"))


# -- wraps -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bob_wrap(people: People, key0: CircleKey) -> bytes:
    return seal_wrap(key0, circle_id=CIRCLE, epoch=0, recipient=people.public("bob").x25519_public)


def test_wrap_opens_for_its_recipient(people: People, key0: CircleKey, bob_wrap: bytes) -> None:
    assert len(bob_wrap) == 32 + 16 + (20 + 16 + 8 + 32)
    opened = open_wrap(
        bob_wrap,
        circle_id=CIRCLE,
        epoch=0,
        identity=people.keys["bob"],
        expected_key_id=key0.key_id,
    )
    assert opened == key0


def test_wraps_are_randomised(people: People, key0: CircleKey, bob_wrap: bytes) -> None:
    again = seal_wrap(key0, circle_id=CIRCLE, epoch=0, recipient=people.public("bob").x25519_public)
    assert again != bob_wrap


def test_wrap_for_another_recipient_does_not_open(
    people: People, key0: CircleKey, bob_wrap: bytes
) -> None:
    with pytest.raises(DecryptionFailed):
        open_wrap(
            bob_wrap,
            circle_id=CIRCLE,
            epoch=0,
            identity=people.keys["carol"],
            expected_key_id=key0.key_id,
        )


@pytest.mark.parametrize(("circle", "epoch"), [(CIRCLE, 1), (OTHER_CIRCLE, 0), (OTHER_CIRCLE, 1)])
def test_wrap_made_for_another_epoch_or_circle_is_wrong_epoch(
    people: People, key0: CircleKey, circle: uuid.UUID, epoch: int
) -> None:
    wrap = seal_wrap(
        key0, circle_id=circle, epoch=epoch, recipient=people.public("bob").x25519_public
    )
    with pytest.raises(WrongEpoch):
        open_wrap(
            wrap,
            circle_id=CIRCLE,
            epoch=0,
            identity=people.keys["bob"],
            expected_key_id=key0.key_id,
        )


def test_wrap_of_a_key_the_record_does_not_name_is_untrusted(
    people: People, key0: CircleKey
) -> None:
    wrap = seal_wrap(
        CircleKey.generate(),
        circle_id=CIRCLE,
        epoch=0,
        recipient=people.public("bob").x25519_public,
    )
    with pytest.raises(UntrustedSigner):
        open_wrap(
            wrap,
            circle_id=CIRCLE,
            epoch=0,
            identity=people.keys["bob"],
            expected_key_id=key0.key_id,
        )


@pytest.mark.parametrize("extra", [-1, 1])
def test_wrap_plaintext_of_the_wrong_length_is_refused(
    people: People, key0: CircleKey, extra: int
) -> None:
    from nacl.public import PublicKey, SealedBox

    plaintext = labels.WRAP_PREFIX + CIRCLE.bytes + bytes(8) + bytes(key0)
    plaintext = plaintext[:extra] if extra < 0 else plaintext + b"\x00"
    wrap = SealedBox(PublicKey(people.public("bob").x25519_public)).encrypt(plaintext)
    with pytest.raises(WrongEpoch):
        open_wrap(
            bytes(wrap),
            circle_id=CIRCLE,
            epoch=0,
            identity=people.keys["bob"],
            expected_key_id=key0.key_id,
        )


@pytest.mark.parametrize("size", [0, 47, 48, 80, 200])
def test_garbage_wraps_do_not_open(people: People, key0: CircleKey, size: int) -> None:
    with pytest.raises(DecryptionFailed):
        open_wrap(
            bytes(size),
            circle_id=CIRCLE,
            epoch=0,
            identity=people.keys["bob"],
            expected_key_id=key0.key_id,
        )


@pytest.mark.parametrize("epoch", [-1, 2**63])
def test_epoch_outside_u63_is_refused(people: People, key0: CircleKey, epoch: int) -> None:
    with pytest.raises(InvalidKey):
        seal_wrap(key0, circle_id=CIRCLE, epoch=epoch, recipient=people.public("bob").x25519_public)


# -- previous-key box ------------------------------------------------------------------


@pytest.fixture(scope="module")
def key1() -> CircleKey:
    return CircleKey.generate()


@pytest.fixture(scope="module")
def prev_box(key0: CircleKey, key1: CircleKey) -> bytes:
    return seal_previous_key(key1, key0, circle_id=CIRCLE, epoch=1)


def test_previous_key_box_opens(key0: CircleKey, key1: CircleKey, prev_box: bytes) -> None:
    assert len(prev_box) == 24 + 32 + 16
    opened = open_previous_key(
        prev_box, key1, circle_id=CIRCLE, epoch=1, expected_key_id=key0.key_id
    )
    assert opened == key0


@pytest.mark.parametrize(("circle", "epoch"), [(CIRCLE, 0), (CIRCLE, 2), (OTHER_CIRCLE, 1)])
def test_previous_key_box_for_another_epoch_or_circle_does_not_open(
    key0: CircleKey, key1: CircleKey, prev_box: bytes, circle: uuid.UUID, epoch: int
) -> None:
    with pytest.raises(DecryptionFailed):
        open_previous_key(
            prev_box, key1, circle_id=circle, epoch=epoch, expected_key_id=key0.key_id
        )


def test_previous_key_box_under_another_key_does_not_open(key0: CircleKey, prev_box: bytes) -> None:
    with pytest.raises(DecryptionFailed):
        open_previous_key(prev_box, key0, circle_id=CIRCLE, epoch=1, expected_key_id=key0.key_id)


def test_previous_key_not_named_by_the_record_is_untrusted(
    key1: CircleKey, prev_box: bytes
) -> None:
    with pytest.raises(UntrustedSigner):
        open_previous_key(prev_box, key1, circle_id=CIRCLE, epoch=1, expected_key_id=bytes(16))


def test_previous_key_box_uses_a_fresh_nonce(key0: CircleKey, key1: CircleKey) -> None:
    boxes = {seal_previous_key(key1, key0, circle_id=CIRCLE, epoch=1)[:24] for _ in range(3)}
    assert len(boxes) == 3


@pytest.mark.parametrize("size", [0, 1, 23, 24, 30, 39, 40, 71, 73])
def test_short_or_garbage_previous_key_box_is_decryption_failed(
    key0: CircleKey, key1: CircleKey, size: int
) -> None:
    """PyNaCl raises ValueError for a box shorter than nonce + tag; that must not leak."""
    with pytest.raises(DecryptionFailed):
        open_previous_key(bytes(size), key1, circle_id=CIRCLE, epoch=1, expected_key_id=key0.key_id)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_previous_key_box_holding_the_wrong_size_is_decryption_failed(
    key1: CircleKey, size: int
) -> None:
    """A box that opens (so the sealer held key 1) but does not hold a 32-byte key."""
    ad = labels.PREV_KEY_AD_PREFIX + CIRCLE.bytes + (1).to_bytes(8, "big")
    box = bytes(nacl.secret.Aead(bytes(key1)).encrypt(bytes(range(size)), ad))
    with pytest.raises(DecryptionFailed, match="wrong size"):
        open_previous_key(box, key1, circle_id=CIRCLE, epoch=1, expected_key_id=bytes(16))


# -- circle metadata -------------------------------------------------------------------


def test_circle_meta_round_trip(key0: CircleKey) -> None:
    meta = {"name": "Filmcrews M\u00fcnchen", "description": ""}
    box = seal_circle_meta(key0, circle_id=CIRCLE, epoch=0, meta=meta)
    assert open_circle_meta(box, key0, circle_id=CIRCLE, epoch=0) == meta
    plaintext = nacl.secret.Aead(key0.meta_key).decrypt(
        box, labels.CIRCLE_META_AD_PREFIX + CIRCLE.bytes + bytes(8)
    )
    assert plaintext == canonical_json(meta)


@pytest.mark.parametrize(("circle", "epoch"), [(CIRCLE, 1), (OTHER_CIRCLE, 0)])
def test_circle_meta_is_bound_to_circle_and_epoch(
    key0: CircleKey, circle: uuid.UUID, epoch: int
) -> None:
    box = seal_circle_meta(key0, circle_id=CIRCLE, epoch=0, meta={"name": "x"})
    with pytest.raises(DecryptionFailed):
        open_circle_meta(box, key0, circle_id=circle, epoch=epoch)


def test_circle_meta_is_under_the_meta_subkey_not_the_epoch_key(key0: CircleKey) -> None:
    box = seal_circle_meta(key0, circle_id=CIRCLE, epoch=0, meta={"name": "x"})
    with pytest.raises(nacl.exceptions.CryptoError):
        nacl.secret.Aead(bytes(key0)).decrypt(
            box, labels.CIRCLE_META_AD_PREFIX + CIRCLE.bytes + bytes(8)
        )


def _meta_box(key: CircleKey, plaintext: bytes) -> bytes:
    ad = labels.CIRCLE_META_AD_PREFIX + CIRCLE.bytes + bytes(8)
    return bytes(nacl.secret.Aead(key.meta_key).encrypt(plaintext, ad))


@pytest.mark.parametrize("plaintext", [b"[]", b'{"name":1}', b'"x"'])
def test_circle_meta_that_is_not_an_object_of_strings_is_refused(
    key0: CircleKey, plaintext: bytes
) -> None:
    with pytest.raises(DecryptionFailed):
        open_circle_meta(_meta_box(key0, plaintext), key0, circle_id=CIRCLE, epoch=0)


@pytest.mark.parametrize("size", [0, 23, 24, 30, 39])
def test_short_circle_meta_box_is_decryption_failed(key0: CircleKey, size: int) -> None:
    with pytest.raises(DecryptionFailed):
        open_circle_meta(bytes(size), key0, circle_id=CIRCLE, epoch=0)


@pytest.mark.parametrize(
    "plaintext",
    [b"", b"not json", b"\xff\xfe", b'{"name":"M\xfcnchen"}', b"{", b"NaN"],
    ids=["empty", "words", "not-utf8", "latin-1", "truncated", "nan"],
)
def test_circle_meta_that_is_not_json_is_decryption_failed(
    key0: CircleKey, plaintext: bytes
) -> None:
    with pytest.raises(DecryptionFailed):
        open_circle_meta(_meta_box(key0, plaintext), key0, circle_id=CIRCLE, epoch=0)


# -- invites ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def invite(people: People, two: KeyRecord) -> Invite:
    return Invite.create(
        circle_id=CIRCLE, inviter_fingerprint=people.fp("alice"), record_hash=two.hash()
    )


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_invite_round_trip(invite: Invite, two: KeyRecord) -> None:
    text = str(invite)
    prefix, circle, invite_id, secret, digits, anchor = text.split(".")
    assert prefix == "bcinvite1"
    assert circle == CIRCLE.hex and invite_id == invite.invite_id.hex
    assert len(secret) == 43 and "=" not in secret
    assert secret == _b64url(invite.secret)
    assert len(digits) == 30 and digits.isdigit()
    assert len(anchor) == 43 and anchor == _b64url(two.hash())
    assert invite.record_hash == two.hash()
    assert Invite.parse(text) == invite
    assert Invite.parse(text).record_hash == two.hash()
    for padded in (f"  {text}\n", f"\t{text}\r\n", f"\n\n{text}"):
        assert Invite.parse(padded) == invite


def test_the_record_hash_is_part_of_the_invite(people: People, invite: Invite) -> None:
    other = replace(invite, record_hash=bytes(32))
    assert str(other) != str(invite)
    assert str(other).rsplit(".", 1)[0] == str(invite).rsplit(".", 1)[0]
    assert Invite.parse(str(other)).record_hash == bytes(32)
    assert Invite.parse(str(other)) != invite


def test_invites_are_random(people: People, invite: Invite) -> None:
    other = Invite.create(
        circle_id=CIRCLE, inviter_fingerprint=people.fp("alice"), record_hash=invite.record_hash
    )
    assert other.secret != invite.secret and other.invite_id != invite.invite_id
    assert len(invite.secret) == INVITE_SECRET_BYTES


def test_invite_repr_hides_the_secret(invite: Invite) -> None:
    assert invite.secret.hex() not in repr(invite)
    assert str(invite).split(".")[3] not in repr(invite)


def test_invite_secret_hash_is_personalised_blake2b(invite: Invite) -> None:
    import hashlib

    expected = hashlib.blake2b(invite.secret, digest_size=32, person=labels.PERSON_INVITE_HASH)
    assert invite.secret_hash == invite_secret_hash(invite.secret) == expected.digest()


def _replace_part(text: str, index: int, value: str) -> str:
    parts = text.split(".")
    parts[index] = value
    return ".".join(parts)


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _unused_bit_set(text: str, index: int) -> str:
    """Set an unused low bit of the last character: the same bytes, non-canonical text."""
    part = text.split(".")[index]
    edited = part[:-1] + _ALPHABET[_ALPHABET.index(part[-1]) | 1]
    assert edited != part
    assert base64.urlsafe_b64decode(edited + "=") == base64.urlsafe_b64decode(part + "=")
    return _replace_part(text, index, edited)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: "",
        lambda t: "hello",
        lambda t: t.replace("bcinvite1", "bcinvite2"),
        lambda t: t.replace("bcinvite1", "BCINVITE1"),
        lambda t: t.rsplit(".", 1)[0],
        lambda t: t.rsplit(".", 2)[0],
        lambda t: t + ".extra",
        lambda t: t + ".",
        lambda t: "." + t,
        lambda t: _replace_part(t, 1, "nothex"),
        lambda t: _replace_part(t, 1, t.split(".")[1][:-2]),
        lambda t: _replace_part(t, 1, t.split(".")[1].upper()),
        lambda t: _replace_part(t, 1, str(CIRCLE)),
        lambda t: _replace_part(t, 1, "{" + CIRCLE.hex + "}"),
        lambda t: _replace_part(t, 1, "urn:uuid:" + CIRCLE.hex),
        lambda t: _replace_part(t, 2, ""),
        lambda t: _replace_part(t, 3, t.split(".")[3][:-3]),
        lambda t: _replace_part(t, 3, t.split(".")[3] + "AAAA"),
        lambda t: _replace_part(t, 3, t.split(".")[3] + "="),
        lambda t: _replace_part(t, 3, "+" + t.split(".")[3][1:]),
        lambda t: _replace_part(t, 3, "/" + t.split(".")[3][1:]),
        lambda t: _replace_part(t, 3, ""),
        lambda t: _unused_bit_set(t, 3),
        lambda t: _replace_part(t, 4, t.split(".")[4][:-1]),
        lambda t: _replace_part(t, 4, t.split(".")[4] + "1"),
        lambda t: _replace_part(t, 4, "x" * 30),
        lambda t: _replace_part(
            t, 4, "-".join(t.split(".")[4][i : i + 5] for i in range(0, 30, 5))
        ),
        lambda t: _replace_part(t, 5, ""),
        lambda t: _replace_part(t, 5, t.split(".")[5][:-1]),
        lambda t: _replace_part(t, 5, t.split(".")[5] + "A"),
        lambda t: _replace_part(t, 5, t.split(".")[5] + "="),
        lambda t: _unused_bit_set(t, 5),
        lambda t: t.replace(".", "\n", 1),
        lambda t: t + "A" * 300,
    ],
    ids=[
        "empty",
        "word",
        "version-2",
        "upper-prefix",
        "five-parts",
        "four-parts",
        "seven-parts",
        "trailing-dot",
        "leading-dot",
        "circle-not-hex",
        "circle-short",
        "circle-upper-case",
        "circle-dashed",
        "circle-braces",
        "circle-urn",
        "no-invite-id",
        "secret-short",
        "secret-long",
        "secret-padded",
        "secret-plus",
        "secret-slash",
        "secret-empty",
        "secret-unused-bit",
        "fingerprint-29",
        "fingerprint-31",
        "fingerprint-letters",
        "fingerprint-dashes",
        "record-hash-empty",
        "record-hash-short",
        "record-hash-long",
        "record-hash-padded",
        "record-hash-unused-bit",
        "newline-instead-of-a-dot",
        "too-long",
    ],
)
def test_invite_parse_refuses(invite: Invite, mangle: object) -> None:
    with pytest.raises(InvalidKey):
        Invite.parse(mangle(str(invite)))  # type: ignore[operator]


@pytest.mark.parametrize(
    "paste",
    [
        lambda t: t.replace(".", " .", 1),
        lambda t: "\n".join(t[i : i + 60] for i in range(0, len(t), 60)),
        lambda t: "\r\n".join(t[i : i + 79] for i in range(0, len(t), 79)),
        lambda t: f"<{t}>",
        lambda t: f"  <http://127.0.0.1:8000/join#{t}>\n",
        lambda t: "https://bc.example/join#" + t[:30] + "\n" + t[30:],
    ],
    ids=["space", "wrapped-60", "wrapped-79-crlf", "angle-brackets", "web-link", "link-wrapped"],
)
def test_invite_parse_ignores_how_it_was_pasted(invite: Invite, paste: object) -> None:
    assert Invite.parse(paste(str(invite))) == invite  # type: ignore[operator]


@pytest.mark.parametrize("size", [0, 31, 33])
def test_invite_create_refuses_a_record_hash_that_is_not_32_bytes(
    people: People, size: int
) -> None:
    try:
        invite = Invite.create(
            circle_id=CIRCLE, inviter_fingerprint=people.fp("alice"), record_hash=bytes(size)
        )
    except InvalidKey:
        return
    raise AssertionError(f"created an invite that does not parse: {str(invite)[-50:]}")


# -- leave statements ------------------------------------------------------------------


def _leave(user: str = "bob", seq: int = 1, circle: uuid.UUID = CIRCLE) -> bytes:
    return leave_statement(circle_id=circle, user=user, record_seq=seq)


def test_leave_statement_is_canonical_json() -> None:
    statement = _leave()
    assert statement == (
        b'{"circle":"' + CIRCLE.hex.encode() + b'","record_seq":1,'
        b'"type":"backchannel.leave","user":"bob","v":1}'
    )
    assert statement == canonical_json(json.loads(statement))
    assert json.loads(statement)["type"] == labels.LEAVE_TYPE


def test_leave_round_trip(people: People) -> None:
    statement = _leave(seq=7)
    signature = sign_leave(people.keys["bob"], statement)
    assert len(signature) == 64
    assert sign_leave(people.keys["bob"], statement) == signature  # Ed25519 is deterministic
    seq = verify_leave(
        statement, signature, circle_id=CIRCLE, user="bob", signer=people.public("bob")
    )
    assert seq == 7


def test_leave_signature_covers_the_context_label(people: People) -> None:
    statement = _leave()
    signing = people.keys["bob"].signing_key
    assert sign_leave(people.keys["bob"], statement) == bytes(
        signing.sign(labels.LEAVE_SIGNATURE_CONTEXT + statement).signature
    )
    for context in (b"", labels.KEY_RECORD_SIGNATURE_CONTEXT, b"backchannel.leave.v2\x00"):
        signature = bytes(signing.sign(context + statement).signature)
        with pytest.raises(BadSignature):
            verify_leave(
                statement, signature, circle_id=CIRCLE, user="bob", signer=people.public("bob")
            )


@pytest.mark.parametrize("circle", [OTHER_CIRCLE, uuid.UUID(int=CIRCLE.int ^ 1)])
def test_leave_for_another_circle_is_refused(people: People, circle: uuid.UUID) -> None:
    statement = _leave()
    signature = sign_leave(people.keys["bob"], statement)
    with pytest.raises(InvalidKey, match="another circle or member"):
        verify_leave(
            statement, signature, circle_id=circle, user="bob", signer=people.public("bob")
        )
    other = _leave(circle=circle)  # bob's real statement, but about another circle
    with pytest.raises(InvalidKey):
        verify_leave(
            other,
            sign_leave(people.keys["bob"], other),
            circle_id=CIRCLE,
            user="bob",
            signer=people.public("bob"),
        )


def test_leave_for_another_user_is_refused(people: People) -> None:
    """A statement naming carol, even signed by carol, does not let anyone drop bob."""
    statement = _leave(user="carol")
    signature = sign_leave(people.keys["carol"], statement)
    for signer in ("bob", "carol"):
        with pytest.raises(InvalidKey, match="another circle or member"):
            verify_leave(
                statement, signature, circle_id=CIRCLE, user="bob", signer=people.public(signer)
            )


def test_leave_with_an_edited_seq_is_refused(people: People) -> None:
    signature = sign_leave(people.keys["bob"], _leave(seq=1))
    for seq in (0, 2, 100):
        with pytest.raises(BadSignature):
            verify_leave(
                _leave(seq=seq),
                signature,
                circle_id=CIRCLE,
                user="bob",
                signer=people.public("bob"),
            )


def test_leave_returns_the_seq_it_was_signed_at(people: People) -> None:
    """verify_leave does not know the circle's current record: the caller compares the seq
    (the server answers 409 circle_changed for a stale one)."""
    for seq in (0, 1, 2**40):
        statement = _leave(seq=seq)
        signature = sign_leave(people.keys["bob"], statement)
        assert (
            verify_leave(
                statement, signature, circle_id=CIRCLE, user="bob", signer=people.public("bob")
            )
            == seq
        )


def test_leave_signed_by_someone_else_is_refused(people: People) -> None:
    statement = _leave()
    bob = people.public("bob")
    good = sign_leave(people.keys["bob"], statement)
    for signature in (
        sign_leave(people.keys["eve"], statement),
        sign_leave(people.keys["alice"], statement),
        bytes([good[0] ^ 1]) + good[1:],
        bytes(64),
        good[:63],
        good + b"\x00",
        b"",
    ):
        with pytest.raises(BadSignature):
            verify_leave(statement, signature, circle_id=CIRCLE, user="bob", signer=bob)


def test_a_record_signature_is_not_a_leave_signature(people: People, two: KeyRecord) -> None:
    record = successor(two)
    with pytest.raises(InvalidKey):
        verify_leave(
            record.to_bytes(),
            record.sign(people.keys["alice"]),
            circle_id=CIRCLE,
            user="alice",
            signer=people.public("alice"),
        )


@pytest.mark.parametrize(
    "edit",
    [
        lambda raw: raw.replace(b",", b", ", 1),
        lambda raw: raw.replace(b":", b": ", 1),
        lambda raw: b" " + raw,
        lambda raw: raw + b"\n",
        lambda raw: json.dumps(
            dict(reversed(json.loads(raw).items())), separators=(",", ":")
        ).encode(),
        lambda raw: raw.replace(b'"bob"', b'"\\u0062ob"', 1),
        lambda raw: raw.replace(b'"record_seq":1', b'"record_seq":1.0'),
        lambda raw: raw.replace(b'"record_seq":1', b'"record_seq":"1"'),
        lambda raw: raw.replace(b'"record_seq":1', b'"record_seq":true'),
        lambda raw: raw.replace(b'"record_seq":1', b'"record_seq":01'),
        lambda raw: raw.replace(b'"record_seq":1', b'"record_seq":1,"record_seq":1'),
        lambda raw: raw.replace(b'"v":1', b'"v":2'),
        lambda raw: raw.replace(b'"v":1', b'"v":1,"w":0'),
        lambda raw: raw.replace(b"backchannel.leave", b"backchannel.key-record"),
        lambda raw: raw.replace(CIRCLE.hex.encode(), str(CIRCLE).encode()),
        lambda raw: raw.replace(CIRCLE.hex.encode(), CIRCLE.hex.upper().encode()),
        lambda raw: raw.replace(b',"v":1', b""),
        lambda raw: raw.replace(b'"type":"backchannel.leave",', b""),
        lambda raw: raw.replace(b'"record_seq":1,', b""),
        lambda raw: b"[" + raw + b"]",
        lambda raw: b"null",
        lambda raw: b"",
        lambda raw: b"\xff" + raw,
        lambda raw: "\ufeff".encode() + raw,
    ],
    ids=[
        "space-after-comma",
        "space-after-colon",
        "leading-space",
        "trailing-newline",
        "unsorted-keys",
        "escaped-letter",
        "float-seq",
        "string-seq",
        "bool-seq",
        "leading-zero-seq",
        "duplicate-key",
        "version-2",
        "unknown-field",
        "other-type",
        "dashed-circle",
        "upper-case-circle",
        "no-version",
        "no-type",
        "no-seq",
        "array",
        "null",
        "empty",
        "not-utf8",
        "bom",
    ],
)
def test_non_canonical_leave_statement_is_refused(people: People, edit: object) -> None:
    """The bytes must be exactly what leave_statement writes; bob's own signature over the
    edited bytes does not help."""
    raw = edit(_leave())  # type: ignore[operator]
    assert raw != _leave()
    signature = sign_leave(people.keys["bob"], raw)
    with pytest.raises(InvalidKey):
        verify_leave(raw, signature, circle_id=CIRCLE, user="bob", signer=people.public("bob"))


# -- malformed numbers and nesting -----------------------------------------------------


@pytest.mark.parametrize("number", [b"1e400", b"Infinity", b"-Infinity"])
@pytest.mark.parametrize("target", ["record-seq", "record-epoch", "leave-seq"])
def test_an_infinite_number_is_invalid_key(
    people: People, two: KeyRecord, target: str, number: bytes
) -> None:
    kind, field = target.split("-")
    if kind == "leave":
        good, key = _leave(seq=1), b'"record_seq":'
        value = b"1"
    else:
        good, key = two.to_bytes(), b'"' + field.encode() + b'":'
        value = str(getattr(two, field)).encode()
    raw = good.replace(key + value, key + number)
    if raw.count(key + number) != 1:  # not an AssertionError: a broken setup must fail
        raise RuntimeError("the edit did not apply")
    try:
        if kind == "leave":
            verify_leave(raw, bytes(64), circle_id=CIRCLE, user="bob", signer=people.public("bob"))
        else:
            KeyRecord.parse(raw)
    except InvalidKey:
        return
    except Exception as exc:
        raise AssertionError(f"bare {type(exc).__name__}") from exc
    raise AssertionError("accepted")


@pytest.mark.parametrize("target", ["record", "leave", "meta"])
def test_deeply_nested_json_is_a_crypto_error(people: People, key0: CircleKey, target: str) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    try:
        if target == "record":
            KeyRecord.parse(nested)
        elif target == "leave":
            verify_leave(
                nested, bytes(64), circle_id=CIRCLE, user="bob", signer=people.public("bob")
            )
        else:
            open_circle_meta(_meta_box(key0, nested), key0, circle_id=CIRCLE, epoch=0)
    except CryptoError:
        return
    except RecursionError as exc:
        raise AssertionError("bare RecursionError") from exc
    raise AssertionError("accepted")


# -- misc ------------------------------------------------------------------------------


def test_roles() -> None:
    assert ROLES == ("owner", "admin", "member")
    assert frozenset({"owner", "admin"}) == ADMIN_ROLES


def test_every_circle_error_is_a_crypto_error() -> None:
    for error in (RecordChainBroken, UntrustedSigner, WrongEpoch, BadSignature, DecryptionFailed):
        assert issubclass(error, CryptoError)


def test_x25519_key_of_an_identity_is_what_wraps_go_to(people: People) -> None:
    bob = people.keys["bob"]
    assert bytes(PrivateKey(bytes(bob.box_key)).public_key) == people.public("bob").x25519_public


@pytest.mark.parametrize(
    "raw",
    [b'\xef\xbb\xbf{"v":1}', '{"v":1}'.encode("utf-16"), b'{"v":"\xed\xa0\x80"}', b'{"v":"\xff"}'],
)
def test_protocol_json_is_strict_utf8(raw: bytes) -> None:
    """A byte-order mark, UTF-16 or an encoded surrogate is not the UTF-8 of §1."""
    from app.crypto.circles import load_json

    with pytest.raises(InvalidKey):
        load_json(raw)
