"""Deleting a circle (docs/protocol.md §16.9): the statement an owner signs.

The statement names the circle, the owner and the newest key record the owner's client
verified, so a server cannot make one up, replay it in another circle, or pin it on a
member who was not an owner then. Members' clients check it against the signer's key in
the record they pinned before they say "deleted by …".
"""

import uuid
from dataclasses import dataclass

import nacl.exceptions
from nacl.signing import SigningKey, VerifyKey

from app.crypto import labels
from app.crypto.circles import canonical_json, load_json
from app.crypto.errors import BadSignature, InvalidKey
from app.crypto.identity import IdentityKeys, PublicIdentity


@dataclass(frozen=True)
class CircleDeletion:
    """A verified deletion: who deleted the circle, at which key record."""

    by: str
    record_seq: int


def deletion_statement(*, circle_id: uuid.UUID, by: str, record_seq: int) -> bytes:
    return canonical_json(
        {
            "v": 1,
            "type": labels.CIRCLE_DELETE_TYPE,
            "circle": circle_id.hex,
            "by": by,
            "record_seq": record_seq,
        }
    )


def sign_deletion(identity: IdentityKeys, statement: bytes) -> bytes:
    signing: SigningKey = identity.signing_key
    return bytes(signing.sign(labels.CIRCLE_DELETE_SIGNATURE_CONTEXT + statement).signature)


def read_deletion(statement: bytes, *, circle_id: uuid.UUID) -> CircleDeletion:
    """The statement's claims, if it is the canonical statement for this circle (unverified)."""
    try:
        data = load_json(statement)
        by, seq = data["by"], data["record_seq"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidKey("malformed deletion statement") from exc
    if not isinstance(by, str) or not isinstance(seq, int) or isinstance(seq, bool):
        raise InvalidKey("malformed deletion statement")
    if statement != deletion_statement(circle_id=circle_id, by=by, record_seq=seq):
        raise InvalidKey("not the canonical deletion statement for this circle")
    return CircleDeletion(by, seq)


def verify_deletion(
    statement: bytes, signature: bytes, *, circle_id: uuid.UUID, signer: PublicIdentity
) -> CircleDeletion:
    """Check a deletion is the named owner's signed word (``signer``: that owner's keys, as
    the caller verified them); return who and at which record."""
    deletion = read_deletion(statement, circle_id=circle_id)
    try:
        VerifyKey(signer.ed25519_public).verify(
            labels.CIRCLE_DELETE_SIGNATURE_CONTEXT + statement, signature
        )
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError) as exc:
        raise BadSignature("circle deletion signature does not verify") from exc
    return deletion
