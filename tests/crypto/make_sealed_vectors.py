"""Generate docs/vectors/sealed-v1.json: the sealed-warning values a second client must
compute byte for byte (docs/protocol.md §36).

    .venv/bin/python -m tests.crypto.make_sealed_vectors > docs/vectors/sealed-v1.json

Deterministic parts (the seal secret, name forms and VOPRF inputs, per-name values under a
fixed VOPRF key, tags, coefficients, points, interpolation, the settings record and its
signature) are regenerated and compared on every run. The ``filing`` is sealed once with
random nonces and keys (as a client does): the test opens it (as its filer and as admins
holding k points) and checks every refusal listed, rather than regenerating it.
"""

import json
import sys
import uuid
from typing import Any

from app.crypto import IdentityKeys, b64encode, labels
from app.crypto.circles import CircleKey
from app.crypto.moderation import ModerationKey
from app.crypto.sealed import (
    NamePolynomial,
    SealedSettings,
    filer_point,
    interpolate,
    name_forms,
    name_value,
    oprf_input,
    seal_secret,
)
from app.crypto.voprf import OprfKey, OprfMode, VoprfServer

CIRCLE = uuid.UUID("8a3f0c6e-5b1d-4f2a-9c7e-1d2b3a4c5d6e")
EPOCH0_KEY = bytes(range(32))
OPRF_SEED = bytes.fromhex("a1" * 32)
USERS = {
    "alice": bytes.fromhex("11" * 32) + bytes.fromhex("12" * 32),
    "bob": bytes.fromhex("21" * 32) + bytes.fromhex("22" * 32),
    "carol": bytes.fromhex("31" * 32) + bytes.fromhex("32" * 32),
}
MODERATION_SECRET = bytes.fromhex("41" * 32)
NAMES = {"alice": ["Jan Novák"], "bob": ["NOVAK, Jan", "@jnovak"], "carol": ["jan  novak!"]}
LABELS = [n for n in dir(labels) if "SEAL" in n and n != "PERSON_SIGNING_SEAL"]


def identity(user: str) -> IdentityKeys:
    return IdentityKeys.from_bytes(USERS[user])


def oprf_key() -> OprfKey:
    return OprfKey.derive(OPRF_SEED, CIRCLE.bytes, mode=OprfMode.VOPRF)


def values(names: list[str]) -> list[dict[str, Any]]:
    server = VoprfServer(oprf_key())
    secret = seal_secret(CircleKey(EPOCH0_KEY))
    out = []
    for form in name_forms(names):
        output = server.evaluate(oprf_input(CIRCLE, form))
        value = name_value(secret, output)
        polys = {k: NamePolynomial.derive(value, k) for k in (2, 3)}
        out.append(
            {
                "form": form,
                "oprf_input": oprf_input(CIRCLE, form).hex(),
                "oprf_output": output.hex(),
                "value": value.hex(),
                "by_k": {
                    str(k): {
                        "tag": p.tag.hex(),
                        "coefficients": [c.hex() for c in p.coefficients],
                        "wrap_key": p.wrap_key.hex(),
                    }
                    for k, p in polys.items()
                },
            }
        )
    return out


def build_vectors() -> dict[str, Any]:
    secret = seal_secret(CircleKey(EPOCH0_KEY))
    per_user = {user: values(names) for user, names in NAMES.items()}
    points = {user: filer_point(CIRCLE, user).hex() for user in USERS}
    shared = next(v for v in per_user["alice"] if v["form"] == "w:jan novak")
    value = bytes.fromhex(shared["value"])
    interpolation = {}
    for k in (2, 3):
        poly = NamePolynomial.derive(value, k)
        chosen = list(USERS)[:k]
        pts = [(filer_point(CIRCLE, u), poly.share(filer_point(CIRCLE, u))) for u in chosen]
        interpolation[str(k)] = {
            "points": [
                {"user": u, "x": x.hex(), "y": y.hex()}
                for u, (x, y) in zip(chosen, pts, strict=True)
            ],
            "f0": interpolate(pts).hex(),
        }
    record = SealedSettings(
        circle_id=CIRCLE,
        seq=0,
        oprf_public_key=bytes(oprf_key().public_key),
        k=2,
        evaluations_per_day=10,
        prev=None,
        signer="alice",
    )
    return {
        "protocol": "backchannel",
        "layer": "sealed",
        "version": 1,
        "labels": {
            n: (
                getattr(labels, n).hex()
                if isinstance(getattr(labels, n), bytes)
                else getattr(labels, n)
            )
            for n in LABELS
        },
        "circle_id": str(CIRCLE),
        "epoch0_key": EPOCH0_KEY.hex(),
        "seal_secret": secret.hex(),
        "oprf_seed": OPRF_SEED.hex(),
        "oprf_public_key": bytes(oprf_key().public_key).hex(),
        "users": {u: {"secret": raw.hex(), "x": points[u]} for u, raw in USERS.items()},
        "names": NAMES,
        "values": per_user,
        "interpolation": interpolation,
        "settings": {
            "text": record.to_bytes().decode(),
            "hash": record.hash().hex(),
            "signature": b64encode(record.sign(identity("alice"))),
        },
        "moderation_secret": MODERATION_SECRET.hex(),
        "moderation_public": ModerationKey(MODERATION_SECRET).public_key.hex(),
    }


if __name__ == "__main__":
    json.dump(build_vectors(), sys.stdout, indent=1, sort_keys=True, ensure_ascii=True)
    sys.stdout.write("\n")
