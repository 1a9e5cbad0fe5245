"""Anonymous posting tokens and the sealed author (docs/protocol.md §38).

A member obtains tokens by blind issuance (Privacy Pass style: RFC 9497 VOPRF, §34) under
the circle's issuance key for one epoch, which an admin signed into an issuance record;
an anonymous warning or corroboration spends one token on a request with no session. The
token is ``(input, output)``: the input names the circle and the epoch and carries 32
random bytes; the output is the VOPRF output the member unblinded. The server checks the
output with its key and records a hash of the input (the nullifier), and nothing else.

The envelope also carries its author sealed to the circle's moderation key: the username
and an identity signature binding it to the object and its per-object key, so the admins
can unmask an abusive poster (and cannot be shown someone else) while the server cannot.

Pure functions, no I/O; ``web/src/protocol/anon.js`` is the JavaScript mirror.
"""

import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from nacl.public import PrivateKey

from app.crypto import labels
from app.crypto.circles import canonical_json, load_json
from app.crypto.encoding import b64decode, b64encode
from app.crypto.errors import DecryptionFailed, InvalidKey
from app.crypto.identity import IdentityKeys, PublicIdentity
from app.crypto.moderation import (
    ModerationKey,
    open_box,
    person_hash,
    seal_box,
    shared_key,
    u64,
    verify_signed,
)
from app.crypto.voprf import OPRF_OUTPUT_BYTES, OprfPublicKey

TOKEN_RANDOM_BYTES = 32
TOKEN_INPUT_BYTES = len(labels.ANON_TOKEN_PREFIX) + 16 + 8 + TOKEN_RANDOM_BYTES  # 82
MAX_TOKENS_PER_WEEK, DEFAULT_TOKENS_PER_WEEK = 64, 16
MAX_TOKEN_BATCH = 8
WEEK_SECONDS = 7 * 86_400
MAX_TOKEN_EPOCH = 2**53  # exclusive; the same bound in both clients (JavaScript integers)
SEALED_AUTHOR_MIN, SEALED_AUTHOR_MAX = 32 + 24 + 16, 2048


# -- §38.1 the issuance record -----------------------------------------------------------


@dataclass(frozen=True)
class IssuanceRecord:
    """An admin-signed record pinning the circle's token issuance key for one epoch."""

    circle_id: uuid.UUID
    epoch: int
    oprf_public_key: bytes
    tokens_per_week: int
    signer: str

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "type": labels.ANON_ISSUANCE_TYPE,
            "circle": self.circle_id.hex,
            "epoch": self.epoch,
            "oprf_public_key": b64encode(self.oprf_public_key),
            "tokens_per_week": self.tokens_per_week,
            "signer": self.signer,
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    def check(self) -> None:
        if not 0 <= self.epoch < 2**63:
            raise InvalidKey("epoch out of range")
        if not 1 <= self.tokens_per_week <= MAX_TOKENS_PER_WEEK:
            raise InvalidKey(f"tokens per week are 1 to {MAX_TOKENS_PER_WEEK}")
        OprfPublicKey(self.oprf_public_key)
        if not self.signer:
            raise InvalidKey("an issuance record names its signer")

    @classmethod
    def parse(cls, raw: bytes) -> "IssuanceRecord":
        """Strict: exactly its fields, the right types, byte-for-byte canonical."""
        try:
            data = load_json(raw)
            fields = {"v", "type", "circle", "epoch", "oprf_public_key", "tokens_per_week"}
            if set(data) != fields | {"signer"}:
                raise InvalidKey("an issuance record has exactly its fields")
            if data["v"] != 1 or data["type"] != labels.ANON_ISSUANCE_TYPE:
                raise InvalidKey("not an issuance record")
            numbers = (data["epoch"], data["tokens_per_week"])
            if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
                raise InvalidKey("epoch and tokens_per_week are integers")
            if not isinstance(data["signer"], str):
                raise InvalidKey("signer is a string")
            record = cls(
                circle_id=uuid.UUID(hex=data["circle"]),
                epoch=data["epoch"],
                oprf_public_key=b64decode(data["oprf_public_key"]),
                tokens_per_week=data["tokens_per_week"],
                signer=data["signer"],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidKey("a malformed issuance record") from exc
        record.check()
        if record.to_bytes() != raw:
            raise InvalidKey("the issuance record is not in canonical form")
        return record

    def sign(self, identity: IdentityKeys) -> bytes:
        message = labels.ANON_ISSUANCE_SIGNATURE_CONTEXT + self.to_bytes()
        return bytes(identity.signing_key.sign(message).signature)

    def verify_signature(self, signature: bytes, signer: PublicIdentity) -> None:
        verify_signed(
            signer.ed25519_public,
            labels.ANON_ISSUANCE_SIGNATURE_CONTEXT + self.to_bytes(),
            signature,
            "issuance record",
        )


# -- §38.2 tokens ------------------------------------------------------------------------


def token_input(circle_id: uuid.UUID, epoch: int, random: bytes | None = None) -> bytes:
    """``"backchannel.anon-token.v1\\0" || circle_id || u64(epoch) || 32 random bytes``."""
    tail = secrets.token_bytes(TOKEN_RANDOM_BYTES) if random is None else random
    if len(tail) != TOKEN_RANDOM_BYTES:
        raise InvalidKey("a token's random part is 32 bytes")
    return labels.ANON_TOKEN_PREFIX + circle_id.bytes + u64(epoch) + tail


@dataclass(frozen=True)
class TokenScope:
    circle_id: uuid.UUID
    epoch: int


def token_scope(raw_input: bytes) -> TokenScope:
    """The circle and epoch a token's input names; ``InvalidKey`` for any other shape."""
    prefix = labels.ANON_TOKEN_PREFIX
    if len(raw_input) != TOKEN_INPUT_BYTES or not raw_input.startswith(prefix):
        raise InvalidKey("not an anonymous posting token")
    at = len(prefix)
    epoch = int.from_bytes(raw_input[at + 16 : at + 24], "big")
    if epoch >= MAX_TOKEN_EPOCH:
        raise InvalidKey("epoch out of range")
    return TokenScope(uuid.UUID(bytes=raw_input[at : at + 16]), epoch)


def token_nullifier(raw_input: bytes) -> bytes:
    """What the server stores of a spent token: a hash of its input, nothing else."""
    return person_hash(labels.PERSON_ANON_SPENT, raw_input)


def outputs_equal(expected: bytes, given: bytes) -> bool:
    return len(given) == OPRF_OUTPUT_BYTES and hmac.compare_digest(expected, given)


def token_period(unix_seconds: int) -> int:
    """The issuance period: whole weeks since the Unix epoch (weeks start on Thursdays)."""
    return unix_seconds // WEEK_SECONDS


# -- §38.5 the author's view of the cases on an anonymous warning ------------------------

CASES_WINDOW_SECONDS = 300


def author_cases_message(circle_id: uuid.UUID, entry_id: uuid.UUID, at: int) -> bytes:
    """``"backchannel.author-cases.v1\0" || circle_id || entry_id || u64(at)``: signed by
    an anonymous warning's per-entry key to read its cases without a session."""
    return labels.ANON_CASES_SIGNATURE_CONTEXT + circle_id.bytes + entry_id.bytes + u64(at)


# -- §38.3 the sealed author -------------------------------------------------------------


def author_claim_message(circle_id: uuid.UUID, object_id: uuid.UUID, author_key: bytes) -> bytes:
    if len(author_key) != 32:
        raise InvalidKey("an author key is 32 bytes")
    return labels.ANON_AUTHOR_SIGNATURE_CONTEXT + circle_id.bytes + object_id.bytes + author_key


def _author_ad(
    circle_id: uuid.UUID, object_id: uuid.UUID, generation: int, epk: bytes, public: bytes
) -> bytes:
    return (
        labels.ANON_AUTHOR_AD_PREFIX
        + circle_id.bytes
        + object_id.bytes
        + u64(generation)
        + epk
        + public
    )


def author_claim(
    identity: IdentityKeys,
    username: str,
    *,
    circle_id: uuid.UUID,
    object_id: uuid.UUID,
    author_key: bytes,
) -> bytes:
    """The plaintext sealed to the admins: who wrote it, signed by their identity key."""
    signature = identity.signing_key.sign(
        author_claim_message(circle_id, object_id, author_key)
    ).signature
    return canonical_json(
        {
            "v": 1,
            "type": labels.ANON_AUTHOR_TYPE,
            "user": username,
            "signature": b64encode(bytes(signature)),
        }
    )


def seal_author(
    claim: bytes,
    *,
    circle_id: uuid.UUID,
    object_id: uuid.UUID,
    generation: int,
    moderation_public: bytes,
    ephemeral: bytes | None = None,
) -> bytes:
    """``epk || nonce || AEAD(shared(esk, moderation_public), claim, ad)`` (§28's seal_to)."""
    esk = PrivateKey(ephemeral) if ephemeral is not None else PrivateKey.generate()
    epk = bytes(esk.public_key)
    ad = _author_ad(circle_id, object_id, generation, epk, moderation_public)
    return epk + seal_box(shared_key(bytes(esk), moderation_public), claim, ad)


@dataclass(frozen=True)
class AuthorClaim:
    user: str
    signature: bytes

    def verify(
        self,
        identity: PublicIdentity,
        *,
        circle_id: uuid.UUID,
        object_id: uuid.UUID,
        author_key: bytes,
    ) -> None:
        """The named member's identity key signed this object's per-object key."""
        verify_signed(
            identity.ed25519_public,
            author_claim_message(circle_id, object_id, author_key),
            self.signature,
            "sealed author",
        )


def open_author(
    sealed: bytes,
    *,
    key: ModerationKey,
    circle_id: uuid.UUID,
    object_id: uuid.UUID,
    generation: int,
) -> AuthorClaim:
    """Open a sealed author with the generation's moderation key (admins only)."""
    if not SEALED_AUTHOR_MIN <= len(sealed) <= SEALED_AUTHOR_MAX:
        raise DecryptionFailed("the sealed author has the wrong size")
    ad = _author_ad(circle_id, object_id, generation, sealed[:32], key.public_key)
    plain = open_box(shared_key(bytes(key), sealed[:32]), sealed[32:], ad, "sealed author")
    try:
        data = load_json(plain)
        if (
            not isinstance(data, dict)
            or set(data) != {"v", "type", "user", "signature"}
            or data["v"] != 1
            or data["type"] != labels.ANON_AUTHOR_TYPE
            or not isinstance(data["user"], str)
            or not data["user"]
        ):
            raise InvalidKey("not a sealed author")
        claim = AuthorClaim(data["user"], b64decode(data["signature"]))
    except (InvalidKey, ValueError, TypeError) as exc:
        raise DecryptionFailed("the sealed author is malformed") from exc
    if len(claim.signature) != 64:
        raise DecryptionFailed("the sealed author's signature is not 64 bytes")
    return claim
