"""The rules of app.crypto.voprf, one test per rule, with fresh random keys and blinds.

RFC 9497's vectors pin the bytes (test_voprf_rfc9497.py); docs/vectors/voprf-v1.json
pins what both clients refuse (test_voprf_vectors.py).
"""

import importlib
import os

import pytest

from app.client.errors import ProtocolError, protocol_error
from app.crypto.errors import BadProof, InvalidKey
from app.crypto.voprf import (
    OPRF_MAX_BATCH,
    OPRF_MAX_INPUT_BYTES,
    OPRF_OUTPUT_BYTES,
    OprfBlinded,
    OprfClient,
    OprfElement,
    OprfEvaluation,
    OprfKey,
    OprfMode,
    OprfProof,
    OprfPublicKey,
    OprfServer,
    VoprfClient,
    VoprfServer,
)

NAMES = [b"jan novak", b"j. novak", b"\xc5\xbe"]


def voprf_round(key: OprfKey, inputs: list[bytes]) -> list[bytes]:
    client = VoprfClient(key.public_key)
    blinded = client.blind(inputs)
    return client.finalize(blinded, VoprfServer(key).blind_evaluate(blinded.elements))


@pytest.mark.parametrize("size", [1, 3, OPRF_MAX_BATCH])
def test_voprf_outputs_equal_the_servers_direct_evaluation(size: int) -> None:
    key = OprfKey.generate()
    inputs = [f"name {i}".encode() for i in range(size)]
    outputs = voprf_round(key, inputs)
    assert outputs == [VoprfServer(key).evaluate(item) for item in inputs]
    assert all(len(o) == OPRF_OUTPUT_BYTES for o in outputs)
    assert len(set(outputs)) == size


def test_oprf_outputs_equal_the_servers_direct_evaluation() -> None:
    key = OprfKey.generate()
    client = OprfClient()
    blinded = client.blind(NAMES)
    outputs = client.finalize(blinded, OprfServer(key).blind_evaluate(blinded.elements))
    assert outputs == [OprfServer(key).evaluate(item) for item in NAMES]


def test_blinding_hides_the_input_and_does_not_change_the_output() -> None:
    key = OprfKey.generate()
    client = VoprfClient(key.public_key)
    first, second = client.blind([NAMES[0]]), client.blind([NAMES[0]])
    assert first.elements != second.elements
    server = VoprfServer(key)
    assert client.finalize(first, server.blind_evaluate(first.elements)) == client.finalize(
        second, server.blind_evaluate(second.elements)
    )


def test_each_evaluation_draws_a_fresh_proof_nonce() -> None:
    key = OprfKey.generate()
    client = VoprfClient(key.public_key)
    blinded = client.blind(NAMES)
    one, two = (VoprfServer(key).blind_evaluate(blinded.elements) for _ in range(2))
    assert one.elements == two.elements
    assert one.proof != two.proof
    assert client.finalize(blinded, one) == client.finalize(blinded, two)


def test_outputs_depend_on_the_key_and_the_mode() -> None:
    key, other = OprfKey.generate(), OprfKey.generate()
    assert voprf_round(key, NAMES[:1]) != voprf_round(other, NAMES[:1])
    assert OprfServer(key).evaluate(NAMES[0]) != VoprfServer(key).evaluate(NAMES[0])


def test_a_partitioning_server_is_detected() -> None:
    """A server that evaluates one member's request under another key, with a valid proof
    for that key, fails the member's check against the pinned key."""
    pinned, partition = OprfKey.generate(), OprfKey.generate()
    client = VoprfClient(pinned.public_key)
    blinded = client.blind(NAMES)
    with pytest.raises(BadProof):
        client.finalize(blinded, VoprfServer(partition).blind_evaluate(blinded.elements))


def test_a_proof_over_other_elements_is_refused() -> None:
    """The server proves an honest evaluation of elements it chose, not the client's."""
    key = OprfKey.generate()
    client = VoprfClient(key.public_key)
    blinded = client.blind(NAMES)
    honest = VoprfServer(key).blind_evaluate(blinded.elements)
    chosen = VoprfServer(key).blind_evaluate(client.blind([b"x", b"y", b"z"]).elements)
    for evaluation in (
        OprfEvaluation(chosen.elements, chosen.proof),
        OprfEvaluation(honest.elements, chosen.proof),
        OprfEvaluation([*honest.elements[:2], chosen.elements[2]], honest.proof),
    ):
        with pytest.raises(BadProof):
            client.finalize(blinded, evaluation)


def test_no_single_bit_flip_of_a_proof_is_accepted() -> None:
    key = OprfKey.generate()
    client = VoprfClient(key.public_key)
    blinded = client.blind(NAMES[:1])
    evaluation = VoprfServer(key).blind_evaluate(blinded.elements)
    raw = bytes(evaluation.proof)
    for bit in range(0, 8 * len(raw), 7):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises((BadProof, InvalidKey)):
            client.finalize(blinded, OprfEvaluation(evaluation.elements, OprfProof(bytes(flipped))))


def test_bad_proof_is_the_clients_bad_proof_code() -> None:
    error = protocol_error(BadProof("x"))
    assert isinstance(error, ProtocolError)
    assert error.code == "bad_proof"
    assert protocol_error(InvalidKey("x")).code == "invalid_data"


def test_an_answer_must_match_the_request() -> None:
    key = OprfKey.generate()
    client = VoprfClient(key.public_key)
    blinded = client.blind(NAMES)
    evaluation = VoprfServer(key).blind_evaluate(blinded.elements)
    with pytest.raises(InvalidKey):
        client.finalize(blinded, OprfEvaluation(evaluation.elements[:2], evaluation.proof))
    with pytest.raises(InvalidKey):  # blinded for OPRF, finalized as VOPRF
        client.finalize(OprfClient().blind(NAMES), evaluation)
    with pytest.raises(InvalidKey):
        OprfClient().finalize(blinded, list(evaluation.elements))


@pytest.mark.parametrize("count", [0, OPRF_MAX_BATCH + 1])
def test_batches_hold_1_to_max_batch_elements(count: int) -> None:
    key = OprfKey.generate()
    with pytest.raises(InvalidKey):
        VoprfClient(key.public_key).blind([b"n"] * count)
    element = OprfClient().blind([b"n"]).elements[0]
    with pytest.raises(InvalidKey):
        VoprfServer(key).blind_evaluate([element] * count)
    with pytest.raises(InvalidKey):
        OprfServer(key).blind_evaluate([element] * count)


def test_inputs_are_bytes_of_at_most_65535() -> None:
    key = OprfKey.generate()
    assert voprf_round(key, [bytes(OPRF_MAX_INPUT_BYTES)]) == [
        VoprfServer(key).evaluate(bytes(OPRF_MAX_INPUT_BYTES))
    ]
    for bad in (bytes(OPRF_MAX_INPUT_BYTES + 1), "jan novak", bytearray(b"jan")):
        with pytest.raises(InvalidKey):
            OprfClient().blind([bad])  # type: ignore[list-item]
        with pytest.raises(InvalidKey):
            VoprfServer(key).evaluate(bad)  # type: ignore[arg-type]


def test_derive_key_pair_is_deterministic_and_bound_to_its_inputs() -> None:
    seed = bytes(range(32))
    key = OprfKey.derive(seed, b"circle 1", mode=OprfMode.VOPRF)
    assert key == OprfKey.derive(seed, b"circle 1", mode=OprfMode.VOPRF)
    assert key != OprfKey.derive(seed, b"circle 2", mode=OprfMode.VOPRF)
    assert key != OprfKey.derive(seed, b"circle 1", mode=OprfMode.OPRF)
    assert OprfKey(bytes(key)) == key
    for bad_seed in (seed[:31], seed + b"\x00"):
        with pytest.raises(InvalidKey):
            OprfKey.derive(bad_seed, b"", mode=OprfMode.VOPRF)
    with pytest.raises(InvalidKey):
        OprfKey.derive(seed, bytes(OPRF_MAX_INPUT_BYTES + 1), mode=OprfMode.VOPRF)
    with pytest.raises(InvalidKey):  # POPRF is not implemented
        OprfKey.derive(seed, b"", mode=2)  # type: ignore[arg-type]


def test_values_take_only_their_own_decoded_types() -> None:
    key = OprfKey.generate()
    blinded = OprfClient().blind([b"n"])
    element = blinded.elements[0]
    with pytest.raises(InvalidKey):
        VoprfClient(OprfElement(bytes(key.public_key)))  # type: ignore[arg-type]
    with pytest.raises(InvalidKey):
        VoprfServer(key).blind_evaluate([bytes(element)])  # type: ignore[list-item]
    with pytest.raises(InvalidKey):
        VoprfServer(key).blind_evaluate([OprfPublicKey(bytes(element))])
    with pytest.raises(InvalidKey):
        OprfEvaluation([element], bytes(64))  # type: ignore[arg-type]
    with pytest.raises(InvalidKey):
        VoprfClient(key.public_key).finalize(blinded, [element])  # type: ignore[arg-type]


def test_equality_is_by_value_and_type() -> None:
    element = OprfClient().blind([b"n"]).elements[0]
    assert OprfElement(bytes(element)) == element
    assert hash(OprfElement(bytes(element))) == hash(element)
    assert OprfPublicKey(bytes(element)) != element
    key = OprfKey.generate()
    assert OprfKey(bytes(key)) == key
    assert key != OprfKey.generate()


def test_secrets_stay_out_of_reprs() -> None:
    key = OprfKey.generate()
    assert bytes(key).hex() not in repr(key)
    blinded = VoprfClient(key.public_key).blind([b"jan novak"])
    text = repr(blinded)
    assert "novak" not in text
    assert all(blind.hex() not in text for blind in blinded._blinds)


def test_blinds_come_only_from_inside() -> None:
    """OprfBlinded takes no blinds: the only way to fix one is to replace the module's source."""
    with pytest.raises(TypeError):
        OprfBlinded([b"n"], mode=OprfMode.VOPRF, blinds=[bytes(32)])  # type: ignore[call-arg]


def test_the_bundled_librarys_temporary_file_is_removed() -> None:
    path = importlib.import_module("rbcl._sodium").lib_path
    assert not os.path.exists(path)
