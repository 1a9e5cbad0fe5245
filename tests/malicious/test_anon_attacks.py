"""A malicious server against anonymous posting tokens (docs/protocol.md §38.2).

To recognise one member's tokens when they are spent, the server would issue that member's
tokens under a key of its own (a "per-member key"): the VOPRF proof is checked against the
key an admin signed for the epoch, so the client refuses the batch and keeps nothing. A
server that shows a record the admin never signed, or one of another epoch, is refused too.
"""

from typing import Any

import httpx

from app.client.entries import Entries
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
