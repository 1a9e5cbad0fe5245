"""Generate docs/vectors/voprf-v1.json: what a second VOPRF client must accept and refuse.

    .venv/bin/python -m tests.crypto.make_voprf_vectors > docs/vectors/voprf-v1.json

RFC 9497's own vectors (tests/crypto/vectors/rfc9497-ristretto255-sha512.json) show the
honest runs; this file adds what they leave out, for both clients to check alike:
encodings to refuse (RFC 9496 Appendix A.2 and the identity), scalars to refuse, and
server answers to refuse — another key's evaluation with that key's valid proof, swapped
elements, a proof for another batch, a short answer.

The key is the RFC's VOPRF key and the request the RFC's batch of two (Appendix A.1.2);
the other key is derived from another seed. Blinds and proof nonces are random in real
use: ``fixed_scalars`` replays fixed ones, so the file is the same on every run.
"""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.crypto import labels, ristretto, voprf
from app.crypto.errors import CryptoError
from app.crypto.voprf import (
    OprfBlinded,
    OprfElement,
    OprfEvaluation,
    OprfKey,
    OprfMode,
    OprfProof,
    OprfPublicKey,
    VoprfClient,
    VoprfServer,
)

RFC_PATH = Path(__file__).resolve().parent / "vectors" / "rfc9497-ristretto255-sha512.json"
RFC = {suite["mode"]: suite for suite in json.loads(RFC_PATH.read_text("ascii"))["suites"]}
RFC_KEY = RFC[OprfMode.VOPRF]
RFC_BATCH = next(v for v in RFC_KEY["vectors"] if v["Batch"] == 2)

OTHER_SEED = bytes.fromhex("5c" * 32)
OTHER_INFO = b"another key"
# The proof nonce of the other key's answer (random in real use).
OTHER_R = bytes.fromhex("1f" * 31 + "0e")

ORDER = 2**252 + 27742317777372353535851937790883648493
BASEPOINT = "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"

# RFC 9496 Appendix A.2, a few of each kind, and the identity (RFC 9497 refuses it).
BAD_ENCODINGS = [
    ("identity (RFC 9496 A.1, [0]B)", "00" * 32),
    ("non-canonical field encoding", "00" + "ff" * 31),
    ("non-canonical field encoding", "ff" * 31 + "7f"),
    ("non-canonical field encoding", "f3" + "ff" * 30 + "7f"),
    ("non-canonical field encoding", "ed" + "ff" * 30 + "7f"),
    ("negative field element", "01" + "00" * 31),
    ("negative field element", "01" + "ff" * 30 + "7f"),
    ("negative field element", "ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20"),
    ("non-square x^2", "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371"),
    ("non-square x^2", "4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f"),
    ("negative xy value", "3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e"),
    ("negative xy value", "a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220"),
    ("s = -1, which gives y = 0", "ec" + "ff" * 30 + "7f"),
    # libsodium 1.0.18 (in rbcl) accepts this one; 1.0.19 and later refuse it.
    ("the basepoint with bit 255 set", BASEPOINT[:-2] + "f6"),
    ("the identity with bit 255 set", "00" * 31 + "80"),
    ("31 bytes", BASEPOINT[:-2]),
    ("33 bytes", BASEPOINT + "00"),
]
GOOD_ENCODINGS = [
    ("the basepoint (RFC 9496 A.1, [1]B)", BASEPOINT),
    ("[2]B (RFC 9496 A.1)", "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919"),
    ("the RFC 9497 VOPRF public key", RFC_KEY["pkSm"]),
]


def scalar_hex(value: int) -> str:
    return value.to_bytes(32, "little").hex()


BAD_SCALARS = [
    ("the group order L", scalar_hex(ORDER)),
    ("L + 1", scalar_hex(ORDER + 1)),
    ("2^255 - 1", scalar_hex(2**255 - 1)),
    ("2^256 - 1", "ff" * 32),
    ("31 bytes", scalar_hex(1)[:-2]),
]


@contextmanager
def fixed_scalars(*values: bytes) -> Iterator[None]:
    """Make app.crypto.ristretto draw ``values`` in order instead of random scalars."""
    queue = list(values)

    def draw() -> bytes:
        return queue.pop(0)

    real = ristretto.random_scalar
    ristretto.random_scalar = draw
    try:
        yield
    finally:
        ristretto.random_scalar = real
    assert not queue, "not every fixed scalar was used"


def hexes(text: str) -> list[bytes]:
    return [bytes.fromhex(part) for part in text.split(",")]


def error_name(fn: Any) -> str:
    try:
        fn()
    except CryptoError as exc:
        return type(exc).__name__
    return "valid"


def rfc_request() -> OprfBlinded:
    with fixed_scalars(*hexes(RFC_BATCH["Blind"])):
        return OprfBlinded(hexes(RFC_BATCH["Input"]), mode=OprfMode.VOPRF)


def answer(
    what: str, public_key: OprfPublicKey, elements: list[str], proof: str, expected: str = ""
) -> dict[str, Any]:
    """One answer to the RFC's batch-of-two request, and what the pinned client makes of it."""
    outputs: list[str] = []

    def finalize() -> None:
        decoded = OprfEvaluation(
            [OprfElement(bytes.fromhex(e)) for e in elements], OprfProof(bytes.fromhex(proof))
        )
        outputs.extend(o.hex() for o in VoprfClient(public_key).finalize(rfc_request(), decoded))

    result = error_name(finalize)
    assert not expected or result == expected, (what, result)
    case: dict[str, Any] = {
        "what": what,
        "public_key": bytes(public_key).hex(),
        "evaluated": elements,
        "proof": proof,
        "expected": result,
    }
    if result == "valid":
        case["outputs"] = outputs
    return case


def answers() -> list[dict[str, Any]]:
    key = OprfKey(bytes.fromhex(RFC_KEY["skSm"]))
    other = OprfKey.derive(OTHER_SEED, OTHER_INFO, mode=OprfMode.VOPRF)
    blinded = rfc_request().elements
    good = hexes(RFC_BATCH["EvaluationElement"])
    good_hex = [e.hex() for e in good]
    proof = RFC_BATCH["Proof"]["proof"]
    with fixed_scalars(OTHER_R):
        theirs = VoprfServer(other).blind_evaluate(blinded)
    their_elements = [bytes(e).hex() for e in theirs.elements]
    their_proof = bytes(theirs.proof).hex()
    single = next(v for v in RFC_KEY["vectors"] if v["Batch"] == 1 and v["Input"] == "00")
    c, s = proof[:64], proof[64:]
    return [
        answer("the RFC's answer", key.public_key, good_hex, proof, "valid"),
        answer(
            "another key's answer with its own valid proof (a partitioning server)",
            key.public_key,
            their_elements,
            their_proof,
            "BadProof",
        ),
        answer(
            "the same answer, for a client that pinned the other key: valid, other outputs",
            other.public_key,
            their_elements,
            their_proof,
            "valid",
        ),
        answer(
            "the evaluated elements swapped",
            key.public_key,
            good_hex[::-1],
            proof,
            "BadProof",
        ),
        answer(
            "the second element from the other key, the proof from the right one",
            key.public_key,
            [good_hex[0], their_elements[1]],
            proof,
            "BadProof",
        ),
        answer(
            "the proof of a batch of one (RFC 9497 A.1.2, input 00)",
            key.public_key,
            good_hex,
            single["Proof"]["proof"],
            "BadProof",
        ),
        answer("c and s swapped", key.public_key, good_hex, s + c, "BadProof"),
        answer("one element for two inputs", key.public_key, good_hex[:1], proof, "InvalidKey"),
        answer(
            "the identity as an evaluated element",
            key.public_key,
            [good_hex[0], "00" * 32],
            proof,
            "InvalidKey",
        ),
        answer(
            "s not reduced (s + L)",
            key.public_key,
            good_hex,
            c + scalar_hex(int.from_bytes(bytes.fromhex(s), "little") + ORDER),
            "InvalidKey",
        ),
    ]


def build_vectors() -> dict[str, Any]:
    element_cases = [
        {
            "what": what,
            "element": e,
            "expected": error_name(lambda e=e: OprfElement(bytes.fromhex(e))),
        }
        for what, e in BAD_ENCODINGS + GOOD_ENCODINGS
    ]
    assert [c["expected"] for c in element_cases] == ["InvalidKey"] * len(BAD_ENCODINGS) + [
        "valid"
    ] * len(GOOD_ENCODINGS)
    other = OprfKey.derive(OTHER_SEED, OTHER_INFO, mode=OprfMode.VOPRF)
    return {
        "protocol": "backchannel",
        "layer": "voprf",
        "version": 1,
        "generator": "tests/crypto/make_voprf_vectors.py",
        "encoding": (
            "Byte strings are lowercase hex. The honest runs are RFC 9497's own vectors "
            "(tests/crypto/vectors/rfc9497-ristretto255-sha512.json); every case below uses "
            "its VOPRF key and its batch of two."
        ),
        "labels": {
            name: getattr(labels, name).hex() for name in dir(labels) if name.startswith("OPRF_")
        },
        "context_strings": {mode.name: voprf.context_string(mode).hex() for mode in OprfMode},
        "constants": {
            "OPRF_ELEMENT_BYTES": voprf.OPRF_ELEMENT_BYTES,
            "OPRF_SCALAR_BYTES": voprf.OPRF_SCALAR_BYTES,
            "OPRF_PROOF_BYTES": voprf.OPRF_PROOF_BYTES,
            "OPRF_OUTPUT_BYTES": voprf.OPRF_OUTPUT_BYTES,
            "OPRF_SEED_BYTES": voprf.OPRF_SEED_BYTES,
            "OPRF_MAX_INPUT_BYTES": voprf.OPRF_MAX_INPUT_BYTES,
            "OPRF_MAX_BATCH": voprf.OPRF_MAX_BATCH,
        },
        "element_decode": element_cases,
        "scalar_decode": [
            {
                "what": what,
                "scalar": raw,
                "as_server_key": error_name(lambda raw=raw: OprfKey(bytes.fromhex(raw))),
                "as_proof_c": error_name(lambda raw=raw: OprfProof(bytes.fromhex(raw) + bytes(32))),
            }
            for what, raw in [*BAD_SCALARS, ("zero", "00" * 32), ("L - 1", scalar_hex(ORDER - 1))]
        ],
        "keys": {
            "pinned": {
                "seed": RFC_KEY["seed"],
                "info": RFC_KEY["keyInfo"],
                "skS": RFC_KEY["skSm"],
                "pkS": RFC_KEY["pkSm"],
            },
            "other": {
                "seed": OTHER_SEED.hex(),
                "info": OTHER_INFO.hex(),
                "skS": bytes(other).hex(),
                "pkS": bytes(other.public_key).hex(),
                "proof_r": OTHER_R.hex(),
            },
        },
        "request": {
            "inputs": RFC_BATCH["Input"].split(","),
            "blinds": RFC_BATCH["Blind"].split(","),
            "blinded": RFC_BATCH["BlindedElement"].split(","),
        },
        "answers": answers(),
    }


def main() -> None:
    json.dump(build_vectors(), sys.stdout, indent=1, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
