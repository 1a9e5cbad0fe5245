"""The circle deletion statement (docs/protocol.md §16.9): its bytes and its checks."""

import uuid

import pytest

from app.crypto import IdentityKeys
from app.crypto.deletion import deletion_statement, sign_deletion, verify_deletion
from app.crypto.errors import BadSignature, InvalidKey

CIRCLE = uuid.UUID("8a3f0c6e5b1d4f2a9c7e1d2b3a4c5d6e")
EXAMPLE = (
    b'{"by":"alice","circle":"8a3f0c6e5b1d4f2a9c7e1d2b3a4c5d6e","record_seq":3,'
    b'"type":"backchannel.circle-delete","v":1}'
)


def test_the_statement_is_the_documented_bytes() -> None:
    assert deletion_statement(circle_id=CIRCLE, by="alice", record_seq=3) == EXAMPLE


def test_a_signed_statement_verifies_and_says_who() -> None:
    owner = IdentityKeys.generate()
    deletion = verify_deletion(
        EXAMPLE, sign_deletion(owner, EXAMPLE), circle_id=CIRCLE, signer=owner.public()
    )
    assert (deletion.by, deletion.record_seq) == ("alice", 3)


@pytest.mark.parametrize(
    "statement",
    [
        EXAMPLE.replace(b'"record_seq":3', b'"record_seq":"3"'),
        EXAMPLE.replace(b"{", b"{ ", 1),
        EXAMPLE.replace(b'"v":1', b'"v":1,"x":0'),
        b"[]",
        b"not json",
    ],
)
def test_a_non_canonical_statement_is_refused_before_the_signature(statement: bytes) -> None:
    owner = IdentityKeys.generate()
    with pytest.raises(InvalidKey):
        verify_deletion(
            statement, sign_deletion(owner, statement), circle_id=CIRCLE, signer=owner.public()
        )


def test_another_circle_or_signer_is_refused() -> None:
    owner, other = IdentityKeys.generate(), IdentityKeys.generate()
    signature = sign_deletion(owner, EXAMPLE)
    with pytest.raises(InvalidKey):
        verify_deletion(EXAMPLE, signature, circle_id=uuid.uuid4(), signer=owner.public())
    with pytest.raises(BadSignature):
        verify_deletion(EXAMPLE, signature, circle_id=CIRCLE, signer=other.public())
