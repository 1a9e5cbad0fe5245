"""Generate docs/vectors/sealed-v1.json: the sealed-warning values a second client must
compute byte for byte (docs/protocol.md §36).

    .venv/bin/python -m tests.crypto.make_sealed_vectors > docs/vectors/sealed-v1.json

Deterministic parts (the seal secret, name forms and VOPRF inputs, per-name values under a
fixed VOPRF key, tags, coefficients, points, interpolation, the settings record and its
signature, the Feldman commitments and share checks) are regenerated and compared on every
run. The ``filings`` are sealed once with random nonces and keys (as a client does): the
test opens them (as their filer and as admins holding k points: alice's and bob's honest,
carol's with a spoiled share that is excluded) and checks every refusal listed, rather than
regenerating them:

    .venv/bin/python -m tests.crypto.make_sealed_vectors --filings > docs/vectors/sealed-v1.json
"""

import json
import sys
import uuid
from typing import Any

from app.crypto import IdentityKeys, b64encode, labels, ristretto
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
    share_verifies,
)
from app.crypto.sealed_filings import seal_filing
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
                        "commitments": [c.hex() for c in p.commitments],
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
    share_checks = _share_checks(value)
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
        "share_checks": share_checks,
        "settings": {
            "text": record.to_bytes().decode(),
            "hash": record.hash().hex(),
            "signature": b64encode(record.sign(identity("alice"))),
        },
        "moderation_secret": MODERATION_SECRET.hex(),
        "moderation_public": ModerationKey(MODERATION_SECRET).public_key.hex(),
    }


def _share_checks(value: bytes) -> list[dict[str, Any]]:
    """Feldman checks (§36.7) of bob's point on the shared name's k = 2 and k = 3
    polynomials: the honest share, a share off by one, another filer's share at bob's x,
    commitments of another k, and a commitment that is not an element."""
    x = filer_point(CIRCLE, "bob")
    cases = []
    one = (1).to_bytes(32, "little")
    for k in (2, 3):
        poly = NamePolynomial.derive(value, k)
        honest = poly.share(x)
        other = poly.share(filer_point(CIRCLE, "carol"))
        commitments = list(poly.commitments)
        shorter = list(NamePolynomial.derive(value, 2 if k == 3 else 3).commitments)
        for note, y, cs in (
            ("honest", honest, commitments),
            ("share plus one", ristretto.scalar_add(honest, one), commitments),
            ("carol's share at bob's x", other, commitments),
            ("commitments of the other k", honest, shorter),
            ("the identity as C_1", honest, [commitments[0], bytes(32), *commitments[2:]]),
            ("an unreduced share", bytes([0xFF] * 32), commitments),
        ):
            cases.append(
                {
                    "note": f"k = {k}: {note}",
                    "x": x.hex(),
                    "y": y.hex(),
                    "commitments": [c.hex() for c in cs],
                    "valid": share_verifies(x, y, cs),
                }
            )
    return cases


class _Spoiled(NamePolynomial):
    """A filer who seals the honest commitments with a wrong point (tests only)."""

    def share(self, x: bytes) -> bytes:
        return ristretto.scalar_add(super().share(x), (1).to_bytes(32, "little"))


def sealed_filings(vectors: dict[str, Any]) -> None:
    """Seal alice's and bob's honest filings and carol's spoiled one about the shared name
    (random keys and nonces, as a client does) into ``filings`` and ``match``."""
    shared = next(v for v in vectors["values"]["alice"] if v["form"] == "w:jan novak")
    honest = NamePolynomial.derive(bytes.fromhex(shared["value"]), 2)
    spoiled = _Spoiled(honest.k, honest.tag, honest.coefficients)
    moderation = ModerationKey(MODERATION_SECRET)
    filings = []
    for user, poly in (("alice", honest), ("bob", honest), ("carol", spoiled)):
        filing, signature = seal_filing(
            {"v": 1, "subject": "Jan Novák", "text": f"what {user} saw"},
            circle_id=CIRCLE,
            filing_id=uuid.uuid4(),
            filer=user,
            identity=identity(user),
            polynomials=[poly],
            moderation_public=moderation.public_key,
            generation=0,
        )
        filings.append({"record": filing.to_bytes().decode(), "signature": b64encode(signature)})
    vectors["filings"] = filings
    vectors["match"] = {"generation": 0, "k": 2, "tag": honest.tag.hex()}


if __name__ == "__main__":
    built = build_vectors()
    if "--filings" in sys.argv:  # without it: the deterministic part only
        sealed_filings(built)
    json.dump(built, sys.stdout, indent=1, sort_keys=True, ensure_ascii=True)
    sys.stdout.write("\n")
