"""A malicious server, one test per attack: the real SDK names each with its own error.

The server is the real app behind a proxy that rewrites its answers (conftest.py). Each
test asserts the exact error and that nothing from the bad answer was kept: no token, no
new trust or audit pins, no request made with what the server handed over.

Accounts
  weak KDF parameters at login .................................. weak_kdf_params, bad_salt
  another user's key bundle at login ............................ wrong_account, bad_key_bundle
  another user's public keys beside your own bundle at login .... key_mismatch
  another user's recovery bundle ................................ bad_key_bundle
  another user's keys as your own account (whoami) .............. identity_changed
  another user's keys when asked for a user ..................... wrong_account
Members
  another member's keys for a named author ...................... member_key_changed
  another member's keys at a rotation ........................... member_key_changed
  another user's keys for a pending member at confirm ........... fingerprint_mismatch
  another admin's keys for the moderation key's signer .......... member_key_changed
Wraps
  another member's wrap ......................................... decryption_failed
  a wrap the server sealed itself ............................... untrusted_signer
  a wrap moved from another circle .............................. wrong_epoch
  another admin's moderation key wrap ........................... decryption_failed
Older epochs
  older key records replayed .................................... rollback
  the key list from before a rotation replayed .................. missing_key
  an older epoch's wrap served as the current one ............... wrong_epoch
Moved ciphertext
  an entry moved from another circle ............................ bad_signature
  envelopes swapped between two entries ......................... bad_signature
  a corroboration moved to another entry ........................ bad_signature
  a corroboration served as an entry ............................ bad_signature
  a circle's name moved from another circle ..................... decryption_failed
Audit log
  a record dropped .............................................. missing_record
  two records swapped ........................................... reordered
  two records swapped under each other's seq and hashes ......... reordered
  the newest records dropped under a head that covers them ...... missing_record

The same attacks made on stored rows, and the rest of the catalogue (an entry relabelled
to another epoch, an older tree head, an older moderation key, forks), are listed with their
tests in docs/threat-model.md ("Malicious-server tests"); the CLI's share is in test_cli.py.
"""

import copy
import uuid
from typing import Any

import httpx
import pytest

from app.client.audit import Audit, AuditFailure, AuditPins
from app.client.cases import list_cases
from app.client.entries import Entries
from app.client.moderation import Moderation
from app.crypto import b64encode, merkle
from app.crypto.audit import TreeHead
from app.crypto.circles import CircleKey, event_hash, seal_wrap
from tests.conftest import PASSPHRASES, World
from tests.malicious.conftest import MaliciousServer, on, pins

ENVELOPE = ("author_key", "commitment", "nonce", "ciphertext", "signature")


def _post(world: World, who: str = "bob") -> str:
    person = getattr(world, who)
    posted = Entries(person.circles).post(
        world.circle_id, subject="Jan Novák", text="Grabbed my arm", categories=["harassment"]
    )
    return str(posted["entry_id"])


def _rows_with(rows: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    return next(row for row in rows if str(row[key]).replace("-", "") == value.replace("-", ""))


def _bob_refuses_to_sync(world: World, server: MaliciousServer, rule: Any, code: str) -> None:
    """bob, synced, syncs again through ``rule``: refused with ``code``, his pins unchanged."""
    world.bob.circles.sync(world.circle_id)
    before = pins(world.bob)
    with server.attack(rule, code):
        world.bob.circles.sync(world.circle_id)
    assert pins(world.bob) == before


# -- accounts --------------------------------------------------------------------------------

WEAK_KDF = {
    "opslimit below the floor": ({"opslimit": 2}, "weak_kdf_params"),
    "memlimit below the floor": ({"memlimit": 32 * 1024 * 1024}, "weak_kdf_params"),
    "argon2i instead of argon2id": ({"algorithm": "argon2i13"}, "weak_kdf_params"),
    "opslimit above the ceiling": ({"opslimit": 33}, "weak_kdf_params"),
    "memlimit above the ceiling": ({"memlimit": 2 * 1024**3}, "weak_kdf_params"),
    "opslimit that is not a number": ({"opslimit": "many"}, "weak_kdf_params"),
    "a short salt": ({"salt": b64encode(bytes(15))}, "bad_salt"),
}


@pytest.mark.parametrize(("change", "code"), WEAK_KDF.values(), ids=list(WEAK_KDF))
def test_weak_kdf_parameters_at_login(
    server: MaliciousServer, make_client: Any, change: dict[str, Any], code: str
) -> None:
    client = make_client()
    with server.attack(on("GET", "/v1/auth/params", lambda kdf, _: kdf | change), code):
        client.login("alice", PASSPHRASES["alice"])
    assert server.sent == [("GET", "/v1/auth/params")]  # nothing derived from it left
    assert client.token is None


BUNDLE_SWAPS = {
    "another account": (lambda mine, theirs: theirs, "wrong_account"),
    "their bundle under your name": (
        lambda mine, theirs: theirs | {"username": mine["username"]},
        "bad_key_bundle",
    ),
}


@pytest.mark.parametrize(("swap", "code"), BUNDLE_SWAPS.values(), ids=list(BUNDLE_SWAPS))
def test_another_users_key_bundle_at_login(
    server: MaliciousServer, register: Any, make_client: Any, swap: Any, code: str
) -> None:
    register("alice")
    carol = register("carol").me()
    client = make_client()
    forge = on("POST", "/v1/auth/login", lambda s, _: s | {"user": swap(s["user"], carol)})
    with server.attack(forge, code):
        client.login("alice", PASSPHRASES["alice"])
    assert client.token is None


def test_another_users_public_keys_beside_your_bundle_at_login(
    server: MaliciousServer, register: Any, make_client: Any
) -> None:
    register("alice")
    carol = register("carol").me()
    client = make_client()
    forge = on("POST", "/v1/auth/login", lambda s, _: s["user"].update(identity=carol["identity"]))
    with server.attack(forge, "key_mismatch"):
        client.login("alice", PASSPHRASES["alice"])
    assert client.token is None


def test_another_users_recovery_bundle(
    server: MaliciousServer, register: Any, make_client: Any
) -> None:
    code = register("alice").account.recovery_code
    carol_code = register("carol").account.recovery_code
    carols = make_client().request(
        "POST",
        "/v1/auth/recovery/bundle",
        json={"username": "carol", "recovery_auth_key": b64encode(carol_code.auth_key)},
    )
    forge = on("POST", "/v1/auth/recovery/bundle", lambda s, _: carols | {"username": "alice"})
    client = make_client()
    with server.attack(forge, "bad_key_bundle"):
        client.recover("alice", code, "a brand new passphrase")
    assert ("POST", "/v1/auth/recovery/complete") not in server.sent
    assert client.token is None


def test_another_users_keys_as_your_own_account(server: MaliciousServer, register: Any) -> None:
    alice = register("alice")
    carol = register("carol").me()
    forge = on("GET", "/v1/me", lambda me, _: me.update(identity=carol["identity"]))
    with server.attack(forge, "identity_changed"):
        alice.whoami(username="alice", fingerprint=alice.account.fingerprint)


def test_another_users_keys_when_asked_for_a_user(server: MaliciousServer, register: Any) -> None:
    alice = register("alice")
    register("bob")
    carol = register("carol").me()
    forge = on("GET", "/v1/users/bob", lambda user, _: {k: carol[k] for k in user})
    with server.attack(forge, "wrong_account"):
        alice.user_keys("bob")


# -- members ---------------------------------------------------------------------------------


def _members(world: World, victim: str, *, identity: Any = None, source: str = "") -> Any:
    """A rule: the /members row for ``victim`` carries ``identity``, or ``source``'s."""

    def edit(rows: list[dict[str, Any]], _: httpx.Request) -> None:
        other = identity or _rows_with(rows, "username", source)["identity"]
        _rows_with(rows, "username", victim)["identity"] = other

    return on("GET", f"/v1/circles/{world.circle_id}/members", edit)


def test_another_members_keys_for_a_named_author(world: World, server: MaliciousServer) -> None:
    _post(world)
    world.carol.circles.sync(world.circle_id)
    before = pins(world.carol)
    with server.attack(_members(world, "bob", source="alice"), "member_key_changed"):
        list(Entries(world.carol.circles).pages(world.circle_id))
    assert pins(world.carol) == before


def test_another_members_keys_at_a_rotation(world: World, server: MaliciousServer) -> None:
    with server.attack(_members(world, "bob", source="carol"), "member_key_changed"):
        world.alice.circles.rotate(world.circle_id)
    assert ("POST", f"/v1/circles/{world.circle_id}/rotate") not in server.sent
    assert world.bob.circles.sync(world.circle_id).epoch == 1


def test_another_users_keys_for_a_pending_member_at_confirm(
    world: World, server: MaliciousServer
) -> None:
    frank = world.frank.client.me()["identity"]
    with server.attack(_members(world, "dave", identity=frank), "fingerprint_mismatch"):
        world.alice.circles.confirm(world.circle_id, "dave", fingerprint=world.dave.fingerprint)
    assert not [sent for sent in server.sent if sent[0] == "POST"]


def test_another_admins_keys_for_the_moderation_keys_signer(
    world: World, server: MaliciousServer
) -> None:
    Moderation(world.alice.circles).ensure_key(world.circle_id)  # signed by alice
    entry_id = _post(world, "carol")
    carol = world.carol.client.me()
    forge = on("GET", "/v1/users/alice", lambda user, _: user.update(identity=carol["identity"]))
    with server.attack(forge, "member_key_changed"):
        Moderation(world.bob.circles).report(world.circle_id, entry_id, reason="false", note="")
    assert ("POST", f"/v1/circles/{world.circle_id}/reports") not in server.sent


# -- wraps -----------------------------------------------------------------------------------


def _keys(world: World) -> str:
    return f"/v1/circles/{world.circle_id}/keys"


def _wrap_of(rows: list[dict[str, Any]], epoch: int) -> dict[str, Any]:
    return next(row for row in rows if row["epoch"] == epoch)


def _serve_wrap(world: World, wrap: str, epoch: int = 1) -> Any:
    """A rule: bob's key list carries ``wrap`` as epoch ``epoch``'s."""
    return on("GET", _keys(world), lambda rows, _: _wrap_of(rows, epoch).update(wrap=wrap))


def test_another_members_wrap(world: World, server: MaliciousServer) -> None:
    carols = _wrap_of(world.carol.client.request("GET", _keys(world)), 1)["wrap"]
    _bob_refuses_to_sync(world, server, _serve_wrap(world, carols), "decryption_failed")


def test_a_wrap_the_server_sealed_itself(world: World, server: MaliciousServer) -> None:
    bob = world.bob.account.identity.public().x25519_public
    forged = seal_wrap(CircleKey.generate(), circle_id=world.circle_id, epoch=1, recipient=bob)
    rule = _serve_wrap(world, b64encode(forged))
    _bob_refuses_to_sync(world, server, rule, "untrusted_signer")


def test_a_wrap_moved_from_another_circle(world: World, server: MaliciousServer) -> None:
    other = world.bob.circles.create("Bob's other circle").circle_id
    moved = _wrap_of(world.bob.client.request("GET", f"/v1/circles/{other}/keys"), 0)["wrap"]
    _bob_refuses_to_sync(world, server, _serve_wrap(world, moved), "wrong_epoch")


def test_another_admins_moderation_key_wrap(world: World, server: MaliciousServer) -> None:
    Moderation(world.alice.circles).ensure_key(world.circle_id)
    path = f"/v1/circles/{world.circle_id}/moderation/keys"
    carols = world.carol.client.request("GET", path)[-1]["wrap"]
    rule = on("GET", path, lambda rows, _: rows[-1].update(wrap=carols))
    with server.attack(rule, "decryption_failed"):
        list_cases(Moderation(world.alice.circles), world.circle_id)
    assert not [sent for sent in server.sent if sent[0] == "POST"]


# -- older epochs ----------------------------------------------------------------------------


def test_older_key_records_replayed(world: World, server: MaliciousServer) -> None:
    records = f"/v1/circles/{world.circle_id}/records"
    old = world.bob.client.request("GET", records, params={"after": -1})
    world.alice.circles.rotate(world.circle_id)  # bob's next sync sees epoch 2

    def replay(rows: list[dict[str, Any]], request: httpx.Request) -> list[dict[str, Any]]:
        return [row for row in old if row["seq"] > int(request.url.params["after"])]

    _bob_refuses_to_sync(world, server, on("GET", records, replay), "rollback")


def test_the_key_list_from_before_a_rotation_replayed(
    world: World, server: MaliciousServer
) -> None:
    old = world.bob.client.request("GET", _keys(world))
    world.alice.circles.rotate(world.circle_id)
    rule = on("GET", _keys(world), lambda rows, _: old)
    _bob_refuses_to_sync(world, server, rule, "missing_key")


def test_an_older_epochs_wrap_served_as_the_current_one(
    world: World, server: MaliciousServer
) -> None:
    epoch0 = _wrap_of(world.bob.client.request("GET", _keys(world)), 0)["wrap"]
    _bob_refuses_to_sync(world, server, _serve_wrap(world, epoch0), "wrong_epoch")


# -- moved ciphertext ------------------------------------------------------------------------


def _feed(circle_id: uuid.UUID) -> str:
    return f"/v1/circles/{circle_id}/entries"


def test_an_entry_moved_from_another_circle(world: World, server: MaliciousServer) -> None:
    entry_id = _post(world)
    moved = world.bob.client.request("GET", f"{_feed(world.circle_id)}/{entry_id}")["entry"]
    other = world.bob.circles.create("Bob's other circle").circle_id
    before = pins(world.bob)

    def into_other(page: dict[str, Any], _: httpx.Request) -> dict[str, Any]:
        return page | {"entries": [moved | {"seq": 1}], "last_seq": 1}

    with server.attack(on("GET", _feed(other), into_other), "bad_signature"):
        list(Entries(world.bob.circles).pages(other))
    assert pins(world.bob) == before


def test_envelopes_swapped_between_two_entries(world: World, server: MaliciousServer) -> None:
    first, second = _post(world), _post(world)

    def swap(page: dict[str, Any], _: httpx.Request) -> None:
        a = _rows_with(page["entries"], "entry_id", first)
        b = _rows_with(page["entries"], "entry_id", second)
        for field in ENVELOPE:
            a[field], b[field] = b[field], a[field]

    with server.attack(on("GET", _feed(world.circle_id), swap), "bad_signature"):
        list(Entries(world.carol.circles).pages(world.circle_id))


def _corroborated(world: World) -> tuple[str, str, dict[str, Any]]:
    """bob's entries A and B; carol corroborates A. Returns A, B and carol's corroboration."""
    first, second = _post(world), _post(world)
    Entries(world.carol.circles).corroborate(world.circle_id, first, text="Me too")
    detail = world.bob.client.request("GET", f"{_feed(world.circle_id)}/{first}")
    return first, second, detail["corroborations"][0]


def test_a_corroboration_moved_to_another_entry(world: World, server: MaliciousServer) -> None:
    _, second, corroboration = _corroborated(world)
    moved = corroboration | {"entry_id": second}
    detail = f"{_feed(world.circle_id)}/{second}"
    rule = on("GET", detail, lambda d, _: d | {"corroborations": [moved]})
    with server.attack(rule, "bad_signature"):
        Entries(world.bob.circles).show(world.circle_id, second)


def test_a_corroboration_served_as_an_entry(world: World, server: MaliciousServer) -> None:
    _, second, corroboration = _corroborated(world)

    def disguise(page: dict[str, Any], _: httpx.Request) -> None:
        row = _rows_with(page["entries"], "entry_id", second)
        row.update({field: corroboration[field] for field in (*ENVELOPE, "author", "anonymous")})

    with server.attack(on("GET", _feed(world.circle_id), disguise), "bad_signature"):
        list(Entries(world.bob.circles).pages(world.circle_id))


def test_a_circles_name_moved_from_another_circle(world: World, server: MaliciousServer) -> None:
    other = world.bob.circles.create("Bob's other circle").circle_id
    meta = world.bob.client.request("GET", f"/v1/circles/{other}")["meta"]
    circle = f"/v1/circles/{world.circle_id}"
    rule = on("GET", circle, lambda c, _: c | {"meta": meta, "meta_epoch": 0})
    _bob_refuses_to_sync(world, server, rule, "decryption_failed")


# -- the audit log ---------------------------------------------------------------------------


def _audit_records(world: World) -> str:
    return f"/v1/circles/{world.circle_id}/audit/records"


def _audit_refused(world: World, server: MaliciousServer, edit: Any, code: str, pin: bool) -> None:
    """bob verifies (after a first, honest verification if ``pin``) through ``edit``; the log
    is refused with ``code`` and bob's audit pins stay as they were."""
    audit = Audit(world.bob.circles, AuditPins.in_memory())
    if pin:
        audit.verify(world.circle_id)
    before = (dict(audit.pins.server_keys), copy.deepcopy(audit.pins.circles))
    with server.attack(on("GET", _audit_records(world), edit), code, AuditFailure):
        audit.verify(world.circle_id, full=pin)  # after a pin, only new records unless full
    assert (audit.pins.server_keys, audit.pins.circles) == before


def _swap_rows(rows: list[dict[str, Any]], _: httpx.Request) -> None:
    rows[3], rows[4] = rows[4], rows[3]


def test_an_audit_record_dropped(world: World, server: MaliciousServer) -> None:
    # A device that never verified: not even the server's key is pinned from a refused log.
    _audit_refused(world, server, lambda rows, _: rows[:2] + rows[3:], "missing_record", pin=False)


def test_two_audit_records_swapped(world: World, server: MaliciousServer) -> None:
    _audit_refused(world, server, _swap_rows, "reordered", pin=True)


def test_two_audit_records_swapped_under_each_others_seq_and_hashes(
    world: World, server: MaliciousServer
) -> None:
    def swap_bodies(rows: list[dict[str, Any]], _: httpx.Request) -> None:
        rows[3]["body"], rows[4]["body"] = rows[4]["body"], rows[3]["body"]
        for row in rows[3:5]:
            body = row["body"].encode()
            row["hash"] = b64encode(event_hash(body))
            row["leaf_hash"] = b64encode(merkle.leaf_hash(body))

    _audit_refused(world, server, swap_bodies, "reordered", pin=False)


def test_the_newest_audit_records_dropped_under_a_head_that_covers_them(
    world: World, server: MaliciousServer
) -> None:
    head = world.bob.client.request("GET", f"/v1/circles/{world.circle_id}/audit/head")
    size = TreeHead.parse(head["tree_head"].encode()).size

    def drop_newest(rows: list[dict[str, Any]], _: httpx.Request) -> list[dict[str, Any]]:
        return [row for row in rows if row["seq"] < size - 2]

    _audit_refused(world, server, drop_newest, "missing_record", pin=True)
