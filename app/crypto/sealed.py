"""Sealed warnings, part one: the circle's settings record and the per-name values
(docs/protocol.md §36.1 to §36.4). The filing envelope and the match are in
``sealed_filings``.

A sealed warning is opened to the circle's admins only when ``k`` different members have
filed one naming the same person (Callisto's shape, Rajan et al. 2018). What two filers
share is a **per-name value** ``v``: the VOPRF output (RFC 9497, §34) of the exact name
form under a per-circle server key, keyed by a **circle seal secret** that only members
hold. From ``v`` and ``k`` come the tag the server groups filings by and a polynomial of
degree ``k - 1`` over the ristretto255 scalar field (Shamir); each filer gives the admins
one point of it, and ``k`` points give its constant, which unwraps every filing's key.

Decisions: the circle seal secret is derived from the circle's epoch-0 key, which every
member holds through the previous-key boxes (§12): it survives rotations, so open filings
keep matching after a removal; the cost is that a removed member keeps it (§36.1). Scalar
arithmetic is libsodium's (``ristretto.scalar_*``); nothing here does group arithmetic.
Pure functions, no I/O; ``web/src/protocol/sealed.js`` is the JavaScript mirror.
"""

import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.public import PrivateKey

from app.crypto import labels, ristretto
from app.crypto.circles import CircleKey, canonical_json, load_json
from app.crypto.encoding import b64decode, b64encode
from app.crypto.errors import DecryptionFailed, InvalidKey, RecordChainBroken
from app.crypto.identity import IdentityKeys, PublicIdentity
from app.crypto.kdf import subkey
from app.crypto.moderation import (
    ModerationKey,
    open_box,
    person_hash,
    seal_box,
    shared_key,
    u64,
    verify_signed,
)
from app.crypto.names import exact_keys
from app.crypto.voprf import OprfPublicKey

MIN_K, MAX_K, DEFAULT_K = 2, 5, 2
# Evaluations a member may ask for per day, counted in names: a name is two exact forms
# (§25.2), so the server allows twice this many OPRF elements.
DEFAULT_EVALUATIONS, MAX_EVALUATIONS = 10, 100
FORMS_PER_NAME = 2
MAX_SEALED_ALIASES = 4
MAX_TAGS = FORMS_PER_NAME * (1 + MAX_SEALED_ALIASES)
TAG_BYTES = 32
SCALAR_BYTES = ristretto.SCALAR_BYTES


def _keyed(key: bytes, person: bytes, message: bytes, size: int = 32) -> bytes:
    out: bytes = blake2b(message, digest_size=size, key=key, person=person, encoder=RawEncoder)
    return out


# -- §36.1 the circle seal secret and the per-name value ---------------------------------


def seal_secret(first_key: CircleKey) -> bytes:
    """The circle seal secret: a subkey of the epoch-0 key (never of a later epoch)."""
    return subkey(bytes(first_key), labels.PERSON_SEAL_SECRET)


def name_forms(names: Sequence[str]) -> list[str]:
    """The exact forms (§25.2) of a subject and its aliases, sorted, each once."""
    forms: set[str] = set()
    for name in names:
        forms |= exact_keys(name)
    return sorted(forms)


def oprf_input(circle_id: uuid.UUID, form: str) -> bytes:
    return labels.SEALED_NAME_PREFIX + circle_id.bytes + form.encode("utf-8")


def name_value(secret: bytes, output: bytes) -> bytes:
    """``v``: the VOPRF output keyed by the circle seal secret; needs both to compute."""
    if len(secret) != 32 or len(output) != 64:
        raise InvalidKey("a seal secret is 32 bytes and a VOPRF output 64")
    return _keyed(secret, labels.PERSON_SEAL_VALUE, output)


# -- §36.2 tags, polynomials and points --------------------------------------------------


def _scalar_of(number: int) -> bytes:
    return number.to_bytes(SCALAR_BYTES, "little")


def check_k(k: int) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or not MIN_K <= k <= MAX_K:
        raise InvalidKey(f"k is {MIN_K} to {MAX_K}")


def filer_point(circle_id: uuid.UUID, username: str) -> bytes:
    """``x``: one per member and circle, so a member filing twice adds no new point."""
    digest: bytes = blake2b(
        circle_id.bytes + username.encode("utf-8"),
        digest_size=64,
        person=labels.PERSON_SEAL_POINT,
        encoder=RawEncoder,
    )
    point = ristretto.reduce(digest)
    if hmac.compare_digest(point, ristretto.ZERO_SCALAR):
        raise InvalidKey("a filer's point is zero")  # probability about 2^-252
    return point


@dataclass(frozen=True, repr=False)
class NamePolynomial:
    """What ``v`` and ``k`` fix: the tag and ``f(x) = a_0 + a_1 x + … + a_{k-1} x^{k-1}``."""

    k: int
    tag: bytes
    coefficients: tuple[bytes, ...]

    @classmethod
    def derive(cls, value: bytes, k: int) -> "NamePolynomial":
        check_k(k)
        if len(value) != 32:
            raise InvalidKey("a per-name value is 32 bytes")
        tag = _keyed(value, labels.PERSON_SEAL_TAG, bytes([k]))
        coefficients = tuple(
            ristretto.reduce(_keyed(value, labels.PERSON_SEAL_COEF, bytes([k, j]), 64))
            for j in range(k)
        )
        return cls(k, tag, coefficients)

    def share(self, x: bytes) -> bytes:
        """``f(x)`` by Horner's rule."""
        total = ristretto.ZERO_SCALAR
        for coefficient in reversed(self.coefficients):
            total = ristretto.scalar_add(ristretto.scalar_mul(total, x), coefficient)
        return total

    @property
    def wrap_key(self) -> bytes:
        return wrap_key(self.coefficients[0])

    @property
    def commitments(self) -> tuple[bytes, ...]:
        """Feldman commitments ``C_j = a_j·G``: deterministic from ``v`` and ``k``, so every
        honest filer of one name seals the same ones, and any share can be checked."""
        return tuple(ristretto.mul_base(a) for a in self.coefficients)


def share_verifies(x: bytes, y: bytes, commitments: Sequence[bytes]) -> bool:
    """Feldman's check: ``y·G = C_0 + x·C_1 + … + x^{k-1}·C_{k-1}`` (Horner over the group,
    libsodium's operations). False for a commitment that is not an element or ``y`` that is
    not a reduced scalar."""
    if (
        not MIN_K <= len(commitments) <= MAX_K
        or not all(ristretto.is_element(c) for c in commitments)
        or not ristretto.is_scalar(y)
    ):
        return False
    total = ristretto.IDENTITY
    for commitment in reversed(commitments):
        total = ristretto.add(ristretto.mul(x, total), commitment)
    return hmac.compare_digest(total, ristretto.mul_base(y))


def wrap_key(constant: bytes) -> bytes:
    """The AEAD key that wraps each filing's key: a subkey of ``f(0)``."""
    return subkey(constant, labels.PERSON_SEAL_WRAP)


def interpolate(points: Sequence[tuple[bytes, bytes]]) -> bytes:
    """``f(0)`` from points with distinct ``x`` (Lagrange); ``InvalidKey`` on a repeated x."""
    xs = [x for x, _ in points]
    if len(set(xs)) != len(xs) or not points:
        raise InvalidKey("interpolation needs points with distinct x")
    total = ristretto.ZERO_SCALAR
    for i, (xi, yi) in enumerate(points):
        numerator, denominator = _scalar_of(1), _scalar_of(1)
        for j, (xj, _) in enumerate(points):
            if i != j:
                numerator = ristretto.scalar_mul(numerator, xj)
                denominator = ristretto.scalar_mul(denominator, ristretto.scalar_sub(xj, xi))
        weight = ristretto.scalar_mul(numerator, ristretto.invert(denominator))
        total = ristretto.scalar_add(total, ristretto.scalar_mul(yi, weight))
    return total


# -- §36.3 the settings record -----------------------------------------------------------


@dataclass(frozen=True)
class SealedSettings:
    """An admin-signed record: the circle's VOPRF public key (pinned), ``k`` and the daily
    evaluation limit. A chain per circle; the key never changes along it."""

    circle_id: uuid.UUID
    seq: int
    oprf_public_key: bytes
    k: int
    evaluations_per_day: int
    prev: bytes | None
    signer: str

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "type": labels.SEALED_SETTINGS_TYPE,
            "circle": self.circle_id.hex,
            "seq": self.seq,
            "oprf_public_key": b64encode(self.oprf_public_key),
            "k": self.k,
            "evaluations_per_day": self.evaluations_per_day,
            "prev": None if self.prev is None else b64encode(self.prev),
            "signer": self.signer,
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    def hash(self) -> bytes:
        return person_hash(labels.PERSON_SEAL_SETTINGS, self.to_bytes())

    def check(self) -> None:
        check_k(self.k)
        if not 1 <= self.evaluations_per_day <= MAX_EVALUATIONS:
            raise InvalidKey(f"evaluations per day are 1 to {MAX_EVALUATIONS}")
        if not 0 <= self.seq < 2**31:
            raise InvalidKey("seq out of range")
        OprfPublicKey(self.oprf_public_key)
        if self.prev is not None and len(self.prev) != 32:
            raise InvalidKey("prev is 32 bytes")
        if not self.signer:
            raise InvalidKey("a settings record names its signer")

    @classmethod
    def parse(cls, raw: bytes) -> "SealedSettings":
        """Strict: every field, the right types, and byte-for-byte canonical."""
        try:
            data = load_json(raw)
            if set(data) != set(cls._fields()):
                raise InvalidKey("a settings record has exactly its fields")
            if data["v"] != 1 or data["type"] != labels.SEALED_SETTINGS_TYPE:
                raise InvalidKey("not a sealed-warning settings record")
            numbers = (data["seq"], data["k"], data["evaluations_per_day"])
            if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
                raise InvalidKey("seq, k and evaluations_per_day are integers")
            if not isinstance(data["signer"], str):
                raise InvalidKey("signer is a string")
            record = cls(
                circle_id=uuid.UUID(hex=data["circle"]),
                seq=data["seq"],
                oprf_public_key=b64decode(data["oprf_public_key"]),
                k=data["k"],
                evaluations_per_day=data["evaluations_per_day"],
                prev=None if data["prev"] is None else b64decode(data["prev"]),
                signer=data["signer"],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidKey("a malformed settings record") from exc
        record.check()
        if record.to_bytes() != raw:
            raise InvalidKey("the settings record is not in canonical form")
        return record

    @staticmethod
    def _fields() -> tuple[str, ...]:
        return (
            "v",
            "type",
            "circle",
            "seq",
            "oprf_public_key",
            "k",
            "evaluations_per_day",
            "prev",
            "signer",
        )

    def sign(self, identity: IdentityKeys) -> bytes:
        message = labels.SEALED_SETTINGS_SIGNATURE_CONTEXT + self.to_bytes()
        return bytes(identity.signing_key.sign(message).signature)

    def verify_signature(self, signature: bytes, signer: PublicIdentity) -> None:
        verify_signed(
            signer.ed25519_public,
            labels.SEALED_SETTINGS_SIGNATURE_CONTEXT + self.to_bytes(),
            signature,
            "settings record",
        )


def check_settings_successor(previous: SealedSettings | None, record: SealedSettings) -> None:
    """§36.3 chain rules: seq and prev follow, same circle, the same VOPRF key throughout."""
    if previous is None:
        if record.seq != 0 or record.prev is not None:
            raise RecordChainBroken("the first settings record is seq 0 with no prev")
        return
    if (
        record.circle_id != previous.circle_id
        or record.seq != previous.seq + 1
        or record.prev is None
        or not hmac.compare_digest(record.prev, previous.hash())
    ):
        raise RecordChainBroken("a settings record does not follow the one before")
    if not hmac.compare_digest(record.oprf_public_key, previous.oprf_public_key):
        raise RecordChainBroken("the circle's VOPRF key changed")


# -- §36.4 the evaluation note: who asked, sealed to the admins ----------------------------


def _note_ad(circle_id: uuid.UUID, generation: int, ephemeral: bytes, public: bytes) -> bytes:
    return (
        labels.SEALED_EVALUATION_AD_PREFIX + circle_id.bytes + u64(generation) + ephemeral + public
    )


def seal_evaluation_note(
    note: dict[str, Any], *, circle_id: uuid.UUID, generation: int, moderation_public: bytes
) -> bytes:
    """What an evaluation's audit leaf carries: ``{"user", "at", "elements"}`` for the admins."""
    ephemeral = PrivateKey.generate()
    epk = bytes(ephemeral.public_key)
    ad = _note_ad(circle_id, generation, epk, moderation_public)
    key = shared_key(bytes(ephemeral), moderation_public)
    return epk + seal_box(key, canonical_json(note), ad)


def open_evaluation_note(
    sealed: bytes, *, key: ModerationKey, circle_id: uuid.UUID, generation: int
) -> dict[str, Any]:
    if len(sealed) < 32 + 24 + 16:
        raise DecryptionFailed("the evaluation note is too short")
    ad = _note_ad(circle_id, generation, sealed[:32], key.public_key)
    plain = open_box(shared_key(bytes(key), sealed[:32]), sealed[32:], ad, "evaluation note")
    try:
        note = load_json(plain)
    except ValueError as exc:
        raise DecryptionFailed("the evaluation note is not JSON") from exc
    if not isinstance(note, dict):
        raise DecryptionFailed("the evaluation note is not an object")
    return note
