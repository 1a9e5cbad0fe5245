"""app.crypto.voprf reproduces docs/vectors/voprf-v1.json: every encoding, scalar and
server answer in it is accepted or refused with the error the file names."""

import json
from pathlib import Path
from typing import Any

import pytest

from app.crypto import errors, labels, voprf
from app.crypto.voprf import (
    OprfBlinded,
    OprfElement,
    OprfEvaluation,
    OprfKey,
    OprfMode,
    OprfProof,
    OprfPublicKey,
    VoprfClient,
)
from tests.crypto.make_voprf_vectors import build_vectors, fixed_scalars

DOCS = Path(__file__).resolve().parents[2] / "docs"
VECTORS_PATH = DOCS / "vectors" / "voprf-v1.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="ascii"))
PROTOCOL_MD = (DOCS / "protocol.md").read_text(encoding="utf-8")


def outcome(fn: Any) -> str:
    try:
        fn()
    except errors.CryptoError as exc:
        return type(exc).__name__
    return "valid"


def request() -> OprfBlinded:
    fields = VECTORS["request"]
    with fixed_scalars(*(bytes.fromhex(b) for b in fields["blinds"])):
        return OprfBlinded([bytes.fromhex(i) for i in fields["inputs"]], mode=OprfMode.VOPRF)


def test_file_is_voprf_version_1_and_ascii_only() -> None:
    assert (VECTORS["protocol"], VECTORS["layer"], VECTORS["version"]) == (
        "backchannel",
        "voprf",
        1,
    )
    assert VECTORS_PATH.read_bytes().isascii()


def test_vectors_file_matches_its_generator() -> None:
    """Regenerate with:
    .venv/bin/python -m tests.crypto.make_voprf_vectors > docs/vectors/voprf-v1.json
    """
    assert build_vectors() == VECTORS


def test_labels_and_context_strings() -> None:
    for name, value in VECTORS["labels"].items():
        assert getattr(labels, name) == bytes.fromhex(value)
        assert f"`{name}`" in PROTOCOL_MD, f"docs/protocol.md does not list {name}"
    for mode in OprfMode:
        assert voprf.context_string(mode).hex() == VECTORS["context_strings"][mode.name]


def test_constants() -> None:
    for name, value in VECTORS["constants"].items():
        assert getattr(voprf, name) == value


@pytest.mark.parametrize("case", VECTORS["element_decode"], ids=lambda c: c["what"])
def test_element_decoding(case: dict[str, Any]) -> None:
    raw = bytes.fromhex(case["element"])
    assert outcome(lambda: OprfElement(raw)) == case["expected"]
    assert outcome(lambda: OprfPublicKey(raw)) == case["expected"]
    if case["expected"] == "valid":
        assert bytes(OprfElement(raw)) == raw


@pytest.mark.parametrize("case", VECTORS["scalar_decode"], ids=lambda c: c["what"])
def test_scalar_decoding(case: dict[str, Any]) -> None:
    raw = bytes.fromhex(case["scalar"])
    assert outcome(lambda: OprfKey(raw)) == case["as_server_key"]
    assert outcome(lambda: OprfProof(raw + bytes(32))) == case["as_proof_c"]
    assert outcome(lambda: OprfProof(bytes(32) + raw)) == case["as_proof_c"]


@pytest.mark.parametrize("name", ["pinned", "other"])
def test_keys_derive_from_their_seeds(name: str) -> None:
    fields = VECTORS["keys"][name]
    key = OprfKey.derive(
        bytes.fromhex(fields["seed"]), bytes.fromhex(fields["info"]), mode=OprfMode.VOPRF
    )
    assert bytes(key).hex() == fields["skS"]
    assert bytes(key.public_key).hex() == fields["pkS"]


def test_request_blinds_the_inputs() -> None:
    assert [bytes(e).hex() for e in request().elements] == VECTORS["request"]["blinded"]


@pytest.mark.parametrize("case", VECTORS["answers"], ids=lambda c: c["what"])
def test_answers(case: dict[str, Any]) -> None:
    outputs: list[str] = []

    def finalize() -> None:
        evaluation = OprfEvaluation(
            [OprfElement(bytes.fromhex(e)) for e in case["evaluated"]],
            OprfProof(bytes.fromhex(case["proof"])),
        )
        client = VoprfClient(OprfPublicKey(bytes.fromhex(case["public_key"])))
        outputs.extend(o.hex() for o in client.finalize(request(), evaluation))

    assert outcome(finalize) == case["expected"]
    assert outputs == case.get("outputs", [])
