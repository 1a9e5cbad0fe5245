"""app.crypto.voprf against the RFC 9497 vectors (ristretto255-SHA512, OPRF and VOPRF).

tests/crypto/vectors/rfc9497-ristretto255-sha512.json is RFC 9497 Appendix A.1.1 and
A.1.2. The blinds and proof nonces are random in real use; ``fixed_scalars`` replays the
RFC's, as the other vector tests replay fixed randomness.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from app.crypto import voprf
from app.crypto.voprf import (
    OprfClient,
    OprfElement,
    OprfEvaluation,
    OprfKey,
    OprfMode,
    OprfProof,
    OprfServer,
    VoprfClient,
    VoprfServer,
    context_string,
)
from tests.crypto.make_voprf_vectors import fixed_scalars

VECTORS_PATH = Path(__file__).resolve().parent / "vectors" / "rfc9497-ristretto255-sha512.json"
SUITES: dict[int, dict[str, Any]] = {
    suite["mode"]: suite for suite in json.loads(VECTORS_PATH.read_text("ascii"))["suites"]
}


def hexes(text: str) -> list[bytes]:
    return [bytes.fromhex(part) for part in text.split(",")]


def cases(mode: int) -> list[Any]:
    return [
        pytest.param(v, id=f"batch{v['Batch']}-{v['Input'][:8]}") for v in SUITES[mode]["vectors"]
    ]


@pytest.mark.parametrize("mode", [OprfMode.OPRF, OprfMode.VOPRF])
def test_derive_key_pair_gives_the_rfc_keys(mode: OprfMode) -> None:
    suite = SUITES[mode]
    assert context_string(mode) == bytes.fromhex(suite["groupDST"])[len(b"HashToGroup-") :]
    key = OprfKey.derive(bytes.fromhex(suite["seed"]), bytes.fromhex(suite["keyInfo"]), mode=mode)
    assert bytes(key).hex() == suite["skSm"]
    if mode == OprfMode.VOPRF:
        assert bytes(key.public_key).hex() == suite["pkSm"]


@pytest.mark.parametrize("vector", cases(0))
def test_oprf_mode_matches_the_rfc(vector: dict[str, Any]) -> None:
    server = OprfServer(OprfKey(bytes.fromhex(SUITES[0]["skSm"])))
    inputs = hexes(vector["Input"])
    client = OprfClient()
    with fixed_scalars(*hexes(vector["Blind"])):
        blinded = client.blind(inputs)
    assert [bytes(e) for e in blinded.elements] == hexes(vector["BlindedElement"])
    evaluated = server.blind_evaluate(blinded.elements)
    assert [bytes(e) for e in evaluated] == hexes(vector["EvaluationElement"])
    outputs = client.finalize(blinded, evaluated)
    assert outputs == hexes(vector["Output"])
    assert [server.evaluate(item) for item in inputs] == outputs


@pytest.mark.parametrize("vector", cases(1))
def test_voprf_mode_matches_the_rfc(vector: dict[str, Any]) -> None:
    key = OprfKey(bytes.fromhex(SUITES[1]["skSm"]))
    server = VoprfServer(key)
    inputs = hexes(vector["Input"])
    client = VoprfClient(key.public_key)
    with fixed_scalars(*hexes(vector["Blind"])):
        blinded = client.blind(inputs)
    assert [bytes(e) for e in blinded.elements] == hexes(vector["BlindedElement"])
    with fixed_scalars(bytes.fromhex(vector["Proof"]["r"])):
        evaluation = server.blind_evaluate(blinded.elements)
    assert [bytes(e) for e in evaluation.elements] == hexes(vector["EvaluationElement"])
    assert bytes(evaluation.proof).hex() == vector["Proof"]["proof"]
    outputs = client.finalize(blinded, evaluation)
    assert outputs == hexes(vector["Output"])
    assert [server.evaluate(item) for item in inputs] == outputs


@pytest.mark.parametrize("vector", cases(1))
def test_the_rfc_answers_verify_when_decoded_from_bytes(vector: dict[str, Any]) -> None:
    """What a client gets over the wire: the RFC's elements and proof, as bytes."""
    client = VoprfClient(voprf.OprfPublicKey(bytes.fromhex(SUITES[1]["pkSm"])))
    with fixed_scalars(*hexes(vector["Blind"])):
        blinded = client.blind(hexes(vector["Input"]))
    evaluation = OprfEvaluation(
        [OprfElement(raw) for raw in hexes(vector["EvaluationElement"])],
        OprfProof(bytes.fromhex(vector["Proof"]["proof"])),
    )
    assert client.finalize(blinded, evaluation) == hexes(vector["Output"])
