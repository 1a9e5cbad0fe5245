"""A malicious server against anonymous posting tokens (docs/protocol.md §38.2).

To recognise one member's tokens when they are spent, the server would issue that member's
tokens under a key of its own (a "per-member key"): the VOPRF proof is checked against the
key an admin signed for the epoch, so the client refuses the batch and keeps nothing. A
server that shows a record the admin never signed, or one of another epoch, is refused too.

A server with two admins can get each to sign a different key for one epoch and show one
member the second: both records verify, so the member's client takes tokens under it.
``audit verify`` catches it: one key per epoch in the log, and the key the device used is
that one (``key_partition``), whether the server logged the second key or not.
"""

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.circles import events
from app.client.anon import Anonymous, keys_used
from app.client.audit import Audit, AuditPins
from app.client.entries import Entries
from app.client.errors import AuditFailure, ProtocolError
from app.crypto import b64decode, b64encode
from app.crypto.anon import IssuanceRecord
from app.crypto.identity import IdentityKeys
from app.crypto.voprf import OprfElement, OprfKey, VoprfServer
from tests.conftest import World
from tests.malicious.conftest import MaliciousServer, on

TOKENS = r"/v1/circles/[^/]+/anon/tokens"
ISSUANCE = r"/v1/circles/[^/]+/anon/issuance"


def post_anonymously(world: World) -> None:
    Entries(world.bob.circles).post(
        world.circle_id, subject="Jan Novák", text="x", categories=["harassment"], anonymous=True
    )


def test_tokens_under_a_per_member_key_are_refused(world: World, server: MaliciousServer) -> None:
    world.open_anonymous()
    per_member = VoprfServer(OprfKey.generate())

    def evaluate(body: Any, request: httpx.Request) -> Any:
        sent = httpx.Response(200, content=request.content).json()["blinded"]
        answer = per_member.blind_evaluate([OprfElement(b64decode(e)) for e in sent])
        return {
            "evaluated": [b64encode(bytes(e)) for e in answer.elements],
            "proof": b64encode(bytes(answer.proof)),
        }

    with server.attack(on("POST", TOKENS, evaluate), "bad_proof"):
        post_anonymously(world)
    assert not any(path.startswith("/v1/anon/") for _, path in server.sent)


def test_a_per_member_key_in_a_record_nobody_signed_is_refused(
    world: World, server: MaliciousServer
) -> None:
    world.open_anonymous()
    per_member = OprfKey.generate()
    forger = IdentityKeys.generate()

    def swap(body: Any, request: httpx.Request) -> Any:
        record = IssuanceRecord.parse(body["record"]["record"].encode())
        forged = IssuanceRecord(
            record.circle_id,
            record.epoch,
            bytes(per_member.public_key),
            record.tokens_per_week,
            record.signer,
        )
        body["oprf_public_key"] = b64encode(bytes(per_member.public_key))
        body["record"]["record"] = forged.to_bytes().decode()
        body["record"]["signature"] = b64encode(forged.sign(forger))
        return None

    with server.attack(on("GET", ISSUANCE, swap), "bad_signature"):
        post_anonymously(world)
    assert not any(path.startswith("/v1/anon/") for _, path in server.sent)


def test_a_record_of_an_earlier_epoch_is_refused(world: World, server: MaliciousServer) -> None:
    world.open_anonymous()
    earlier = world.alice.client.request("GET", f"/v1/circles/{world.circle_id}/anon/issuance")
    world.alice.circles.rotate(world.circle_id)  # a new epoch
    world.open_anonymous()

    def replay(body: Any, request: httpx.Request) -> Any:
        body["record"] = earlier["record"]
        return None

    with server.attack(on("GET", ISSUANCE, replay), "wrong_epoch"):
        post_anonymously(world)


def _answer(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body)


def _route(method: str, path: str, answer: Callable[[httpx.Request, httpx.Response], Any]) -> Any:
    def rule(request: httpx.Request, real: httpx.Response) -> httpx.Response | None:
        if request.method != method or request.url.path != path:
            return None
        return _answer(200 if method == "GET" else 201, answer(request, real))

    return rule


def _second_key_signed_by_carol(world: World, server: MaliciousServer, second: OprfKey) -> Any:
    """The server offers carol (an admin) its second key as if the epoch had none, and keeps
    what her client signs; the real app would refuse it, so the proxy answers for it."""
    path = f"/v1/circles/{world.circle_id}/anon/issuance"
    signed: dict[str, Any] = {}

    def offer(request: httpx.Request, real: httpx.Response) -> Any:
        offered = b64encode(bytes(second.public_key))
        return {**real.json(), "record": None, "oprf_public_key": offered}

    def keep(request: httpx.Request, real: httpx.Response) -> Any:
        signed.update(json.loads(request.content))
        epoch = IssuanceRecord.parse(signed["record"].encode()).epoch
        signed.update(epoch=epoch, signer="carol", created_at="2026-01-01T00:00:00Z")
        return signed

    rules = [_route("GET", path, offer), _route("POST", path, keep)]
    server.rules.extend(rules)
    try:
        Anonymous(world.carol.circles).certify(world.circle_id)
    finally:
        for rule in rules:
            server.rules.remove(rule)
    return signed


@pytest.mark.parametrize("logged", [True, False], ids=["second-key-logged", "second-key-hidden"])
def test_a_second_admin_signed_key_shown_to_one_member_is_caught_by_audit_verify(
    world: World, server: MaliciousServer, engine: Engine, logged: bool
) -> None:
    world.open_anonymous()  # alice signs the real key
    alice_audit = Audit(world.alice.circles, AuditPins.in_memory())
    alice_audit.verify(world.circle_id)  # pins the log with the one honest key
    second = OprfKey.generate()
    signed = _second_key_signed_by_carol(world, server, second)
    if logged:  # the server writes carol's record into its log, as for any accepted one
        with Session(engine) as session, session.begin():
            events.append(
                session,
                circle_id=world.circle_id,
                kind="anon_issuance_key",
                actor="carol",
                details={
                    "epoch": signed["epoch"],
                    "record": signed["record"],
                    "signature": signed["signature"],
                },
            )

    base = f"/v1/circles/{world.circle_id}/anon"
    evaluator = VoprfServer(second)

    def show(request: httpx.Request, real: httpx.Response) -> Any:
        offered = b64encode(bytes(second.public_key))
        return {**real.json(), "oprf_public_key": offered, "record": signed}

    def evaluate(request: httpx.Request, real: httpx.Response) -> Any:
        sent = json.loads(request.content)["blinded"]
        answer = evaluator.blind_evaluate([OprfElement(b64decode(e)) for e in sent])
        return {
            "evaluated": [b64encode(bytes(e)) for e in answer.elements],
            "proof": b64encode(bytes(answer.proof)),
        }

    rules = [_route("GET", f"{base}/issuance", show), _route("POST", f"{base}/tokens", evaluate)]
    server.rules.extend(rules)
    try:  # bob's client sees nothing wrong: carol is an admin and the proof verifies
        bob = world.bob.circles
        Anonymous(bob).take(bob.sync(world.circle_id))
    finally:
        for rule in rules:
            server.rules.remove(rule)

    with pytest.raises(AuditFailure) as caught:
        Audit(world.bob.circles, AuditPins.in_memory()).verify(world.circle_id)
    assert caught.value.code == "key_partition"
    if logged:  # every member sees two keys for one epoch, from the pin onwards too
        with pytest.raises(AuditFailure) as seen:
            alice_audit.verify(world.circle_id)
        assert seen.value.code == "key_partition"
    else:  # only the member shown the key can tell: the log is honest about the real one
        alice_audit.verify(world.circle_id)


def test_tokens_under_the_logged_key_verify(world: World) -> None:
    world.open_anonymous()
    bob = world.bob.circles
    Anonymous(bob).take(bob.sync(world.circle_id))
    audit = Audit(bob, AuditPins.in_memory())
    audit.verify(world.circle_id)
    pinned = audit.pins.circles[str(world.circle_id)]["issuance"]
    assert pinned == keys_used(Anonymous(bob).tokens, world.circle_id)
    assert len(pinned) == 1


def test_acting_on_an_anonymous_warning_sends_no_request_about_it_with_the_session(
    world: World, server: MaliciousServer
) -> None:
    """A review finding: retracting one's own anonymous warning, or corroborating one, first
    fetched that very warning with the session, just before the sessionless request about
    it. The clients now take its key from the copy a sync (about every change) brought."""
    world.open_anonymous()
    bob = Entries(world.bob.circles)
    posted = bob.post(
        world.circle_id, subject="Jan Novák", text="x", categories=["harassment"], anonymous=True
    )
    entry_id = str(posted["entry_id"])
    about_it = ("GET", f"/v1/circles/{world.circle_id}/entries/{entry_id}")
    server.sent.clear()
    Entries(world.carol.circles).corroborate(
        world.circle_id, entry_id, text="me too", anonymous=True
    )
    assert about_it not in server.sent
    assert ("POST", f"/v1/anon/circles/{world.circle_id}/entries/{entry_id}/corroborations") in (
        server.sent
    )
    server.sent.clear()
    with pytest.raises(ProtocolError) as caught:  # still refused here, from the copy
        bob.corroborate(world.circle_id, entry_id, text="me too", anonymous=True)
    assert caught.value.code == "self_corroboration"
    assert bob.retract(world.circle_id, entry_id)["status"] == "retracted"
    assert about_it not in server.sent
    assert ("POST", f"/v1/anon/circles/{world.circle_id}/entries/{entry_id}/retract") in (
        server.sent
    )
