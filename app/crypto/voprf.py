"""RFC 9497 OPRF and VOPRF over ristretto255 with SHA-512 (docs/protocol.md §34).

The suite is ``ristretto255-SHA512`` (RFC 9497 §4.1), in mode 0x00 (OPRF) and 0x01
(VOPRF); the partially oblivious mode 0x02 is not implemented (nothing uses it).

* ``OprfKey``: GenerateKeyPair and DeriveKeyPair (§3.2, §3.2.1).
* ``OprfClient`` / ``OprfServer``: Blind, BlindEvaluate, Finalize and Evaluate (§3.3.1).
* ``VoprfClient`` / ``VoprfServer``: the same with a DLEQ proof that the evaluation used
  the key behind the client's pinned ``OprfPublicKey``; one proof covers a whole batch
  (§2.2: GenerateProof, VerifyProof, ComputeComposites and ComputeCompositesFast; §3.3.2).
* HashToGroup is hash_to_ristretto255 (RFC 9380 Appendix B): expand_message_xmd with
  SHA-512 (RFC 9380 §5.3.1) to 64 bytes, then libsodium's
  ``crypto_core_ristretto255_from_hash`` (RFC 9496 §4.3.4). HashToScalar is the same
  expansion reduced modulo the group order as a little-endian integer (RFC 9496 §4.4).

Every group and scalar operation is libsodium's, through ``app.crypto.ristretto`` (which
also decides how libsodium's edges are met: the identity, bit 255, random scalars).

Decisions at the edges:

* Decoding an element (``OprfElement``, ``OprfPublicKey``) refuses non-canonical
  encodings and the identity (RFC 9497 §2.1 DeserializeElement, RFC 9496 §4.3.1).
* Decoding a scalar refuses values at or above the group order. An ``OprfKey`` is also
  never zero; the two proof scalars may be zero (a valid proof can have them).
* Inputs and key info are at most 65,535 bytes (their lengths are framed in two bytes);
  a batch holds 1 to ``OPRF_MAX_BATCH`` elements, and an evaluation must answer a request
  with exactly as many elements as it sent.
* A proof that does not verify raises ``BadProof``; a value of the wrong size or shape
  raises ``InvalidKey``. Nothing returns ``None`` on failure.

Randomness: blinds, proof nonces and generated keys are drawn inside, from
``ristretto.random_scalar``; no public call takes one. The vector tests replace that
function to replay the RFC's values, as the other vector generators replace ``secrets``.

Cost (docs/benchmarks.md, "VOPRF"): Blind is one hash-to-group and one scalar
multiplication per input; BlindEvaluate in VOPRF mode is two multiplications per element
plus three for the proof; verifying a proof is two per element plus four.
"""

import hashlib
import hmac
from collections.abc import Sequence
from enum import IntEnum
from functools import cached_property

from app.crypto import labels, ristretto
from app.crypto.errors import BadProof, InvalidKey

OPRF_ELEMENT_BYTES = ristretto.ELEMENT_BYTES
"""Noe: a serialised ristretto255 element (RFC 9496 §4.3.2)."""
OPRF_SCALAR_BYTES = ristretto.SCALAR_BYTES
"""Nok: a serialised scalar, little-endian, below the group order."""
OPRF_PROOF_BYTES = 2 * OPRF_SCALAR_BYTES
"""A proof is c || s."""
OPRF_OUTPUT_BYTES = 64
"""Nh: Finalize and Evaluate return SHA-512 digests."""
OPRF_SEED_BYTES = 32
"""Nseed: DeriveKeyPair's seed."""
OPRF_MAX_INPUT_BYTES = 2**16 - 1
OPRF_MAX_BATCH = 64
"""Elements in one request; a feature may allow fewer, never more."""


class OprfMode(IntEnum):
    """The mode byte of the context string (RFC 9497 §3.1)."""

    OPRF = 0
    VOPRF = 1


def _mode(mode: OprfMode) -> OprfMode:
    try:
        return OprfMode(mode)
    except ValueError as exc:
        raise InvalidKey(f"unknown OPRF mode {mode!r}") from exc


def context_string(mode: OprfMode) -> bytes:
    """``"OPRFV1-" || I2OSP(mode, 1) || "-" || "ristretto255-SHA512"``."""
    return labels.OPRF_CONTEXT_VERSION + bytes([_mode(mode)]) + b"-" + labels.OPRF_SUITE


# --- Hashing (RFC 9380, RFC 9497 §4.1) --------------------------------------------------


def _sha512(data: bytes) -> bytes:
    return hashlib.sha512(data).digest()


def _framed(value: bytes) -> bytes:
    """``I2OSP(len(value), 2) || value``: how RFC 9497 frames every variable-length field."""
    if len(value) > OPRF_MAX_INPUT_BYTES:
        raise InvalidKey(f"a VOPRF input is at most {OPRF_MAX_INPUT_BYTES} bytes")
    return len(value).to_bytes(2, "big") + value


def _expand_message_xmd(message: bytes, dst: bytes) -> bytes:
    """RFC 9380 §5.3.1 with SHA-512 and ``len_in_bytes = 64``, the only length this suite
    asks for: one block, so ``ell = 1`` and the output is ``b_1``."""
    if not 0 < len(dst) <= 255:
        raise InvalidKey("a domain separation tag is 1 to 255 bytes")
    dst_prime = dst + bytes([len(dst)])
    # msg_prime = Z_pad (s_in_bytes = 128 zeros) || msg || I2OSP(64, 2) || I2OSP(0, 1) || DST'
    b_0 = _sha512(bytes(128) + message + (64).to_bytes(2, "big") + b"\x00" + dst_prime)
    return _sha512(b_0 + b"\x01" + dst_prime)


def _hash_to_group(message: bytes, mode: OprfMode) -> bytes:
    """HashToGroup: hash_to_ristretto255 with DST ``"HashToGroup-" || contextString``."""
    dst = labels.OPRF_HASH_TO_GROUP_DST + context_string(mode)
    point: bytes = ristretto.from_hash(_expand_message_xmd(message, dst))
    return point


def _hash_to_scalar(message: bytes, mode: OprfMode, dst: bytes | None = None) -> bytes:
    """HashToScalar: 64 expanded bytes reduced modulo the group order (little-endian).
    The DST is ``"HashToScalar-" || contextString`` unless DeriveKeyPair gives its own."""
    if dst is None:
        dst = labels.OPRF_HASH_TO_SCALAR_DST + context_string(mode)
    scalar: bytes = ristretto.reduce(_expand_message_xmd(message, dst))
    return scalar


# --- Elements and proofs ---------------------------------------------------------------


def _scalar(raw: bytes, what: str) -> bytes:
    """DeserializeScalar: 32 bytes, little-endian, below the group order."""
    if not isinstance(raw, bytes) or len(raw) != OPRF_SCALAR_BYTES:
        raise InvalidKey(f"{what} must be {OPRF_SCALAR_BYTES} bytes")
    if not ristretto.is_scalar(raw):
        raise InvalidKey(f"{what} is not a canonical scalar")
    return raw


class OprfElement:
    """A ristretto255 element as RFC 9497 serialises it: 32 canonical bytes, never the
    identity. Blinded and evaluated elements travel as this type."""

    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes) or len(raw) != OPRF_ELEMENT_BYTES:
            raise InvalidKey(f"a ristretto255 element must be {OPRF_ELEMENT_BYTES} bytes")
        if not ristretto.is_element(raw):
            raise InvalidKey("not a canonical ristretto255 element, or the identity")
        self._raw = raw

    def __bytes__(self) -> bytes:
        return self._raw

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OprfElement):
            return NotImplemented
        return type(self) is type(other) and hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._raw.hex()})"


class OprfPublicKey(OprfElement):
    """The server's public key ``pkS = skS * G``: what a client pins and checks proofs with."""

    __slots__ = ()


class OprfProof:
    """A DLEQ proof ``c || s`` (RFC 9497 §2.2): two canonical scalars, 64 bytes."""

    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes) or len(raw) != OPRF_PROOF_BYTES:
            raise InvalidKey(f"a VOPRF proof must be {OPRF_PROOF_BYTES} bytes")
        _scalar(raw[:OPRF_SCALAR_BYTES], "the proof's c")
        _scalar(raw[OPRF_SCALAR_BYTES:], "the proof's s")
        self._raw = raw

    @property
    def c(self) -> bytes:
        return self._raw[:OPRF_SCALAR_BYTES]

    @property
    def s(self) -> bytes:
        return self._raw[OPRF_SCALAR_BYTES:]

    def __bytes__(self) -> bytes:
        return self._raw

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OprfProof):
            return NotImplemented
        return hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return f"OprfProof({self._raw.hex()})"


def _batch(elements: Sequence[OprfElement], what: str) -> tuple[OprfElement, ...]:
    batch = tuple(elements)
    if not 1 <= len(batch) <= OPRF_MAX_BATCH:
        raise InvalidKey(f"a VOPRF batch holds 1 to {OPRF_MAX_BATCH} {what}")
    if any(type(e) is not OprfElement for e in batch):
        raise InvalidKey(f"{what} must be decoded OprfElements")
    return batch


class OprfEvaluation:
    """A VOPRF server's answer: one evaluated element per blinded one, and one proof."""

    __slots__ = ("elements", "proof")

    def __init__(self, elements: Sequence[OprfElement], proof: OprfProof) -> None:
        if not isinstance(proof, OprfProof):
            raise InvalidKey("an evaluation needs a decoded OprfProof")
        self.elements = _batch(elements, "evaluated elements")
        self.proof = proof

    def __repr__(self) -> str:
        return f"OprfEvaluation({len(self.elements)} elements)"


# --- Keys (RFC 9497 §3.2) ---------------------------------------------------------------


class OprfKey:
    """The server's secret key ``skS``: a canonical, non-zero scalar. It never leaves the
    server; ``public_key`` is what clients pin."""

    def __init__(self, raw: bytes) -> None:
        _scalar(raw, "a VOPRF server key")
        if hmac.compare_digest(raw, ristretto.ZERO_SCALAR):
            raise InvalidKey("a VOPRF server key is not zero")
        self._raw = raw

    @classmethod
    def generate(cls) -> "OprfKey":
        """GenerateKeyPair: a uniform random key."""
        return cls(ristretto.random_scalar())

    @classmethod
    def derive(cls, seed: bytes, info: bytes, *, mode: OprfMode) -> "OprfKey":
        """DeriveKeyPair (§3.2.1): the same ``seed``, ``info`` and mode give the same key."""
        if not isinstance(seed, bytes) or len(seed) != OPRF_SEED_BYTES:
            raise InvalidKey(f"a VOPRF key seed must be {OPRF_SEED_BYTES} bytes")
        if not isinstance(info, bytes):
            raise InvalidKey("VOPRF key info is bytes")
        derive_input = seed + _framed(info)
        dst = labels.OPRF_DERIVE_KEY_PAIR_DST + context_string(mode)
        for counter in range(256):
            scalar = _hash_to_scalar(derive_input + bytes([counter]), mode, dst)
            if not hmac.compare_digest(scalar, ristretto.ZERO_SCALAR):
                return cls(scalar)
        raise InvalidKey("DeriveKeyPair found no non-zero scalar")  # probability ~2^-2000

    def __bytes__(self) -> bytes:
        return self._raw

    @cached_property
    def public_key(self) -> OprfPublicKey:
        return OprfPublicKey(ristretto.mul_base(self._raw))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OprfKey) and hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash(bytes(self.public_key))

    def __repr__(self) -> str:
        return f"OprfKey(public={bytes(self.public_key).hex()})"


# --- The protocol (RFC 9497 §3.3) --------------------------------------------------------


class OprfBlinded:
    """A client's blinded inputs: send ``elements``, keep this object until the answer
    comes. Each blind is drawn here, at random, and never leaves the object."""

    __slots__ = ("_blinds", "elements", "inputs", "mode")

    def __init__(self, inputs: Sequence[bytes], *, mode: OprfMode) -> None:
        items = tuple(inputs)
        if not 1 <= len(items) <= OPRF_MAX_BATCH:
            raise InvalidKey(f"a VOPRF batch holds 1 to {OPRF_MAX_BATCH} inputs")
        points = [_input_element(item, mode) for item in items]
        self.mode = _mode(mode)
        self.inputs = items
        self._blinds = tuple(ristretto.random_scalar() for _ in items)
        self.elements = tuple(
            OprfElement(ristretto.mul(blind, point))
            for blind, point in zip(self._blinds, points, strict=True)
        )

    def __repr__(self) -> str:
        return f"OprfBlinded(mode={self.mode.name}, {len(self.inputs)} inputs)"


def _input_element(item: bytes, mode: OprfMode) -> bytes:
    """HashToGroup of one input, refusing what RFC 9497 refuses (InvalidInputError)."""
    if not isinstance(item, bytes):
        raise InvalidKey("a VOPRF input is bytes")
    _framed(item)
    point = _hash_to_group(item, mode)
    if hmac.compare_digest(point, ristretto.IDENTITY):  # probability ~2^-252
        raise InvalidKey("the input hashes to the identity")
    return point


def _finish(item: bytes, element: bytes) -> bytes:
    """``Hash(I2OSP(len(input), 2) || input || I2OSP(len(element), 2) || element ||
    "Finalize")``: the output of Finalize and of Evaluate."""
    return _sha512(_framed(item) + _framed(element) + labels.OPRF_FINALIZE_LABEL)


def _unblind(blinded: OprfBlinded, evaluated: tuple[OprfElement, ...]) -> list[bytes]:
    outputs = []
    for item, blind, element in zip(blinded.inputs, blinded._blinds, evaluated, strict=True):
        inverse = ristretto.invert(blind)
        outputs.append(_finish(item, ristretto.mul(inverse, bytes(element))))
    return outputs


def _check_answer(blinded: OprfBlinded, mode: OprfMode, evaluated: tuple[OprfElement, ...]) -> None:
    if not isinstance(blinded, OprfBlinded) or blinded.mode != mode:
        raise InvalidKey(f"these inputs were not blinded for {mode.name}")
    if len(evaluated) != len(blinded.elements):
        raise InvalidKey("the evaluation does not answer every blinded element")


def _evaluate(key: OprfKey, item: bytes, mode: OprfMode) -> bytes:
    return _finish(item, ristretto.mul(bytes(key), _input_element(item, mode)))


def _weights(
    public_key: bytes,
    blinded: Sequence[OprfElement],
    evaluated: Sequence[OprfElement],
    mode: OprfMode,
) -> list[bytes]:
    """The ``d_i`` of ComputeComposites (§2.2.1), bound to the key and to both elements."""
    seed_dst = labels.OPRF_SEED_DST + context_string(mode)
    seed = _sha512(_framed(public_key) + _framed(seed_dst))
    return [
        _hash_to_scalar(
            _framed(seed)
            + i.to_bytes(2, "big")
            + _framed(bytes(c_i))
            + _framed(bytes(d_i))
            + labels.OPRF_COMPOSITE_LABEL,
            mode,
        )
        for i, (c_i, d_i) in enumerate(zip(blinded, evaluated, strict=True))
    ]


def _combine(weights: list[bytes], elements: Sequence[OprfElement]) -> bytes:
    """``Σ d_i·E_i``, starting from the identity as the RFC does."""
    total = ristretto.IDENTITY
    for weight, element in zip(weights, elements, strict=True):
        total = ristretto.add(ristretto.mul(weight, bytes(element)), total)
    return total


def _challenge(
    public_key: bytes, m: bytes, z: bytes, t2: bytes, t3: bytes, mode: OprfMode
) -> bytes:
    transcript = b"".join(_framed(part) for part in (public_key, m, z, t2, t3))
    return _hash_to_scalar(transcript + labels.OPRF_CHALLENGE_LABEL, mode)


def _prove(
    key: OprfKey, blinded: Sequence[OprfElement], evaluated: Sequence[OprfElement], mode: OprfMode
) -> OprfProof:
    """GenerateProof (§2.2.1) with ``A = G`` and ``B = pkS``; ``Z = skS·M`` as
    ComputeCompositesFast has it, since the server holds the key."""
    secret, public_key = bytes(key), bytes(key.public_key)
    m = _combine(_weights(public_key, blinded, evaluated, mode), blinded)
    z = ristretto.mul(secret, m)
    r = ristretto.random_scalar()
    t2, t3 = ristretto.mul_base(r), ristretto.mul(r, m)
    c = _challenge(public_key, m, z, t2, t3, mode)
    s = ristretto.scalar_sub(r, ristretto.scalar_mul(c, secret))
    return OprfProof(c + s)


def _verify(
    public_key: OprfPublicKey,
    blinded: Sequence[OprfElement],
    evaluated: Sequence[OprfElement],
    proof: OprfProof,
    mode: OprfMode,
) -> None:
    """VerifyProof (§2.2.2): ``BadProof`` unless the same key maps every blinded element
    to its evaluated one and ``G`` to ``public_key``."""
    key = bytes(public_key)
    weights = _weights(key, blinded, evaluated, mode)
    m, z = _combine(weights, blinded), _combine(weights, evaluated)
    t2 = ristretto.add(ristretto.mul_base(proof.s), ristretto.mul(proof.c, key))
    t3 = ristretto.add(ristretto.mul(proof.s, m), ristretto.mul(proof.c, z))
    if not hmac.compare_digest(_challenge(key, m, z, t2, t3, mode), proof.c):
        raise BadProof("the VOPRF proof does not verify against the pinned key")


class OprfClient:
    """The client of mode 0x00: outputs without a proof (nothing shows which key was used)."""

    mode = OprfMode.OPRF

    def blind(self, inputs: Sequence[bytes]) -> OprfBlinded:
        """Blind each input with a fresh random scalar."""
        return OprfBlinded(inputs, mode=self.mode)

    def finalize(self, blinded: OprfBlinded, evaluated: Sequence[OprfElement]) -> list[bytes]:
        """Unblind the server's elements: one 64-byte output per input, in order."""
        answer = _batch(evaluated, "evaluated elements")
        _check_answer(blinded, self.mode, answer)
        return _unblind(blinded, answer)


class VoprfClient:
    """The client of mode 0x01: every answer must prove it used the pinned key."""

    mode = OprfMode.VOPRF

    def __init__(self, public_key: OprfPublicKey) -> None:
        if not isinstance(public_key, OprfPublicKey):
            raise InvalidKey("a VOPRF client needs the server's decoded OprfPublicKey")
        self.public_key = public_key

    def blind(self, inputs: Sequence[bytes]) -> OprfBlinded:
        """Blind each input with a fresh random scalar."""
        return OprfBlinded(inputs, mode=self.mode)

    def finalize(self, blinded: OprfBlinded, evaluation: OprfEvaluation) -> list[bytes]:
        """Verify the proof (``BadProof``), then unblind: one 64-byte output per input."""
        if not isinstance(evaluation, OprfEvaluation):
            raise InvalidKey("a VOPRF answer is an OprfEvaluation")
        _check_answer(blinded, self.mode, evaluation.elements)
        _verify(self.public_key, blinded.elements, evaluation.elements, evaluation.proof, self.mode)
        return _unblind(blinded, evaluation.elements)


class OprfServer:
    """The server of mode 0x00."""

    mode = OprfMode.OPRF

    def __init__(self, key: OprfKey) -> None:
        if not isinstance(key, OprfKey):
            raise InvalidKey("an OPRF server needs an OprfKey")
        self.key = key

    def blind_evaluate(self, blinded: Sequence[OprfElement]) -> list[OprfElement]:
        """``skS·C_i`` for each blinded element."""
        secret = bytes(self.key)
        return [
            OprfElement(ristretto.mul(secret, bytes(e)))
            for e in _batch(blinded, "blinded elements")
        ]

    def evaluate(self, item: bytes) -> bytes:
        """The output a client would finalize for ``item``, computed directly."""
        return _evaluate(self.key, item, self.mode)


class VoprfServer:
    """The server of mode 0x01: one proof for the whole batch."""

    mode = OprfMode.VOPRF

    def __init__(self, key: OprfKey) -> None:
        if not isinstance(key, OprfKey):
            raise InvalidKey("an OPRF server needs an OprfKey")
        self.key = key

    def blind_evaluate(self, blinded: Sequence[OprfElement]) -> OprfEvaluation:
        """``skS·C_i`` for each blinded element, and the proof that covers them all."""
        batch = _batch(blinded, "blinded elements")
        secret = bytes(self.key)
        evaluated = [OprfElement(ristretto.mul(secret, bytes(e))) for e in batch]
        return OprfEvaluation(evaluated, _prove(self.key, batch, evaluated, self.mode))

    def evaluate(self, item: bytes) -> bytes:
        """The output a client would finalize for ``item``, computed directly."""
        return _evaluate(self.key, item, self.mode)
