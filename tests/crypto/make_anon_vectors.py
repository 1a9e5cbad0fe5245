"""Generate docs/vectors/anon-v1.json: the anonymous-posting values a second client must
compute byte for byte (docs/protocol.md §38).

    .venv/bin/python -m tests.crypto.make_anon_vectors > docs/vectors/anon-v1.json

Everything is deterministic: the issuance keys come from a fixed seed, the record and the
author claim are signed with Ed25519 (deterministic), token inputs use fixed random parts,
and the sealed author uses a fixed ephemeral key and nonce (real ones are random).
"""

import json
import secrets
import sys
import uuid
from typing import Any
from unittest import mock

from app.crypto import IdentityKeys, b64encode, labels
from app.crypto.anon import (
    IssuanceRecord,
    author_cases_message,
    author_claim,
    author_claim_message,
    seal_author,
    token_input,
    token_nullifier,
)
from app.crypto.moderation import ModerationKey, u64
from app.crypto.voprf import OprfKey, OprfMode, VoprfServer

CIRCLE = uuid.UUID("8a3f0c6e-5b1d-4f2a-9c7e-1d2b3a4c5d6e")
OTHER_CIRCLE = uuid.UUID("0b7e5c1a-2d3f-4e5a-8b9c-0d1e2f3a4b5c")
ENTRY = uuid.UUID("5f0c2a6e-8d1b-4c3a-9e7f-2a1b3c4d5e6f")
OPRF_SEED = bytes.fromhex("a2" * 32)
ALICE = bytes.fromhex("11" * 32) + bytes.fromhex("12" * 32)
BOB = bytes.fromhex("21" * 32) + bytes.fromhex("22" * 32)
MODERATION_SECRET = bytes.fromhex("41" * 32)
EPHEMERAL = bytes.fromhex("51" * 32)
NONCE = bytes.fromhex("61" * 24)
AUTHOR_KEY = bytes.fromhex("71" * 32)
LABELS = [n for n in dir(labels) if "ANON" in n and n != "PERSON_ANON_ENTRY"]


def issuance_key(circle: uuid.UUID, epoch: int) -> OprfKey:
    return OprfKey.derive(OPRF_SEED, circle.bytes + u64(epoch), mode=OprfMode.VOPRF)


def record() -> IssuanceRecord:
    return IssuanceRecord(
        circle_id=CIRCLE,
        epoch=1,
        oprf_public_key=bytes(issuance_key(CIRCLE, 1).public_key),
        tokens_per_week=16,
        signer="alice",
    )


def build_vectors() -> dict[str, Any]:
    alice, bob = IdentityKeys.from_bytes(ALICE), IdentityKeys.from_bytes(BOB)
    signed = record()
    tokens = []
    for epoch, random in ((0, bytes(32)), (1, bytes(range(32))), (2**53 - 1, b"\xff" * 32)):
        raw = token_input(CIRCLE, epoch, random)
        server = VoprfServer(issuance_key(CIRCLE, min(epoch, 1)))
        tokens.append(
            {
                "epoch": epoch,
                "random": random.hex(),
                "input": raw.hex(),
                "input_b64": b64encode(raw),
                "key_epoch": min(epoch, 1),
                "output": server.evaluate(raw).hex(),
                "nullifier": token_nullifier(raw).hex(),
            }
        )
    good = token_input(CIRCLE, 1, bytes(range(32)))
    refuse = {
        "short": good[:-1].hex(),
        "long": (good + b"\x00").hex(),
        "wrong_prefix": (b"backchannel.anon-token.v2\x00" + good[26:]).hex(),
        "epoch_2_53": (good[:42] + (2**53).to_bytes(8, "big") + good[50:]).hex(),
    }
    claim = author_claim(bob, "bob", circle_id=CIRCLE, object_id=ENTRY, author_key=AUTHOR_KEY)
    moderation = ModerationKey(MODERATION_SECRET)
    with mock.patch.object(secrets, "token_bytes", return_value=NONCE):
        sealed = seal_author(
            claim,
            circle_id=CIRCLE,
            object_id=ENTRY,
            generation=2,
            moderation_public=moderation.public_key,
            ephemeral=EPHEMERAL,
        )
    return {
        "protocol": "backchannel",
        "layer": "anon",
        "version": 1,
        "labels": {name: _label(getattr(labels, name)) for name in sorted(LABELS)},
        "circle_id": str(CIRCLE),
        "issuance_keys": {
            "seed": OPRF_SEED.hex(),
            "mode": 1,
            "keys": [
                {
                    "circle_id": str(c),
                    "epoch": e,
                    "info": (c.bytes + u64(e)).hex(),
                    "secret": bytes(issuance_key(c, e)).hex(),
                    "public": bytes(issuance_key(c, e).public_key).hex(),
                }
                for c, e in ((CIRCLE, 0), (CIRCLE, 1), (OTHER_CIRCLE, 1))
            ],
        },
        "issuance_record": {
            "alice_identity": ALICE.hex(),
            "text": signed.to_bytes().decode(),
            "signature_message": (labels.ANON_ISSUANCE_SIGNATURE_CONTEXT + signed.to_bytes()).hex(),
            "signature": signed.sign(alice).hex(),
            "refuse": [
                signed.to_bytes().decode().replace('"epoch":1', '"epoch":1.0'),
                signed.to_bytes().decode().replace('"tokens_per_week":16', '"tokens_per_week":65'),
                signed.to_bytes().decode().replace('{"circle"', '{ "circle"'),
                signed.to_bytes().decode().replace(',"v":1}', ',"v":1,"x":1}'),
            ],
        },
        "author_cases": {
            "entry_id": str(ENTRY),
            "at": 1_800_000_000,
            "message": author_cases_message(CIRCLE, ENTRY, 1_800_000_000).hex(),
        },
        "tokens": tokens,
        "token_refuse": refuse,
        "sealed_author": {
            "bob_identity": BOB.hex(),
            "entry_id": str(ENTRY),
            "author_key": AUTHOR_KEY.hex(),
            "claim_message": author_claim_message(CIRCLE, ENTRY, AUTHOR_KEY).hex(),
            "claim": claim.decode(),
            "generation": 2,
            "moderation_secret": MODERATION_SECRET.hex(),
            "ephemeral_secret": EPHEMERAL.hex(),
            "nonce": NONCE.hex(),
            "sealed": sealed.hex(),
        },
    }


def _label(value: object) -> str:
    return value.hex() if isinstance(value, bytes) else str(value)


if __name__ == "__main__":
    json.dump(build_vectors(), sys.stdout, indent=1, ensure_ascii=True)
    sys.stdout.write("\n")
