"""The rules of the warnings layer in app.crypto.entries and app.crypto.names.

Fresh random keys throughout; docs/vectors/entries-v1.json pins the bytes.
"""

import uuid
from dataclasses import replace
from typing import Any

import nacl.secret
import pytest
from nacl.encoding import RawEncoder
from nacl.signing import SigningKey

from app.crypto import IdentityKeys, labels
from app.crypto.circles import CircleKey, canonical_json
from app.crypto.entries import (
    BUCKETS,
    CATEGORIES,
    CORROBORATION,
    ENTRY,
    MAX_PADDED,
    OPENING_BYTES,
    SEVERITIES,
    Envelope,
    EnvelopeContext,
    anonymous_signing_key,
    check_entry_body,
    commitment,
    open_envelope,
    pad,
    seal,
    sign_retraction,
    signing_key_for,
    unpad,
    verify_commitment,
    verify_retraction,
)
from app.crypto.errors import BadSignature, CryptoError, DecryptionFailed, InvalidKey, WrongEpoch
from app.crypto.names import exact_keys, normalise_name

CIRCLE = uuid.UUID("8a3f0c6e-5b1d-4f2a-9c7e-1d2b3a4c5d6e")
OTHER_CIRCLE = uuid.UUID("11111111-2222-4333-8444-555555555555")
ENVELOPE_FIELDS = ("author_key", "commitment", "nonce", "ciphertext", "signature")


def body(**changes: Any) -> dict[str, Any]:
    valid: dict[str, Any] = {
        "v": 1,
        "subject": "Jan Nov\u00e1k",
        "aliases": ["Honza"],
        "categories": ["harassment"],
        "severity": "concern",
        "affiliation": None,
        "happened": "2024-05",
        "contact": None,
        "text": "Careful.",
        "attribution": "named",
    }
    return {**valid, **changes}


class Circle:
    """One circle with two epochs, an author and a fresh entry context in epoch 1."""

    def __init__(self) -> None:
        self.keys = {0: CircleKey.generate(), 1: CircleKey.generate()}
        self.author = IdentityKeys.generate()
        self.entry_id = uuid.uuid4()
        self.context = EnvelopeContext(ENTRY, CIRCLE, 1, self.entry_id)

    def seal(
        self,
        payload: dict[str, Any] | None = None,
        *,
        context: EnvelopeContext | None = None,
        anonymous: bool = False,
    ) -> Envelope:
        context = context or self.context
        signing = signing_key_for(self.author, context, anonymous=anonymous)
        return seal(
            payload if payload is not None else body(),
            key=self.keys[context.epoch],
            context=context,
            signing_key=signing,
        )

    def open(self, envelope: Envelope, context: EnvelopeContext | None = None) -> Any:
        return open_envelope(envelope, keys=self.keys, context=context or self.context)


@pytest.fixture
def circle() -> Circle:
    return Circle()


def flip(raw: bytes, index: int = 0) -> bytes:
    return raw[:index] + bytes([raw[index] ^ 0x01]) + raw[index + 1 :]


def hostile(
    circle: Circle, *, padded: bytes, commit: bytes, signer: SigningKey | None = None
) -> Envelope:
    """An envelope its author signs correctly around whatever plaintext they choose."""
    signer = signer or circle.author.signing_key
    author_key = bytes(signer.verify_key)
    nonce = bytes(24)
    ad = circle.context.associated_data(author_key, commit)
    ciphertext = nacl.secret.Aead(circle.keys[1].entry_key).encrypt(
        padded, ad, nonce, encoder=RawEncoder
    )[24:]
    unsigned = Envelope(author_key, commit, nonce, bytes(ciphertext), b"")
    signature = signer.sign(unsigned.signed_message(circle.context)).signature
    return replace(unsigned, signature=bytes(signature))


# -- padding -----------------------------------------------------------------------------


@pytest.mark.parametrize("bucket", BUCKETS)
def test_pad_at_bucket_boundaries(bucket: int) -> None:
    fits = b"\x01" * (bucket - 1)
    assert len(pad(fits)) == bucket
    assert pad(fits)[-1:] == b"\x80"
    assert unpad(pad(fits)) == fits
    if bucket < MAX_PADDED:
        too_big = b"\x01" * bucket  # no room for the 0x80 marker
        assert len(pad(too_big)) == bucket * 2
        assert unpad(pad(too_big)) == too_big


def test_pad_empty_and_smallest() -> None:
    assert pad(b"") == b"\x80" + bytes(511)
    assert unpad(pad(b"")) == b""


def test_pad_refuses_oversize() -> None:
    assert len(pad(bytes(MAX_PADDED - 1))) == MAX_PADDED
    with pytest.raises(InvalidKey):
        pad(bytes(MAX_PADDED))
    with pytest.raises(InvalidKey):
        pad(bytes(MAX_PADDED * 2))


@pytest.mark.parametrize(
    "data", [b"ends in zero\x00", b"ends in marker\x80", b"\x80\x00\x80", b"\x00" * 100]
)
def test_unpad_keeps_trailing_zeros_and_markers_of_the_data(data: bytes) -> None:
    assert unpad(pad(data)) == data


@pytest.mark.parametrize(
    "padded",
    [
        b"",
        bytes(511),
        b"data\x80" + bytes(507) + b"\x00",  # 513 bytes: not a bucket
        bytes(512),  # no marker at all
        b"data" + bytes(508),  # no marker
        b"data\x80\x01" + bytes(506),  # a non-zero byte after the marker
        b"data\x81" + bytes(507),  # wrong marker
    ],
    ids=[
        "empty",
        "511 bytes",
        "513 bytes",
        "all zeros",
        "no marker",
        "junk after marker",
        "wrong marker",
    ],
)
def test_unpad_refuses(padded: bytes) -> None:
    with pytest.raises(DecryptionFailed):
        unpad(padded)


def test_unpad_accepts_a_larger_bucket_than_needed() -> None:
    assert unpad(b"data\x80" + bytes(1019)) == b"data"


def test_seal_refuses_a_body_too_large_for_the_biggest_bucket(circle: Circle) -> None:
    overhead = len(canonical_json(body(text="")))
    room = MAX_PADDED - 1 - OPENING_BYTES - overhead
    envelope = circle.seal(body(text="x" * room))
    assert len(envelope.ciphertext) == MAX_PADDED + 16
    assert circle.open(envelope).body["text"] == "x" * room
    with pytest.raises(InvalidKey):
        circle.seal(body(text="x" * (room + 1)))


# -- sealing and opening -----------------------------------------------------------------


def test_seal_open_round_trip(circle: Circle) -> None:
    envelope = circle.seal()
    opened = circle.open(envelope)
    assert opened.body == body()
    assert opened.body_bytes == canonical_json(body())
    assert len(opened.opening) == OPENING_BYTES
    assert envelope.author_key == bytes(circle.author.signing_key.verify_key)
    assert len(envelope.ciphertext) in {b + 16 for b in BUCKETS}
    assert len(envelope.nonce) == 24 and len(envelope.signature) == 64


def test_seal_uses_a_fresh_nonce_and_opening(circle: Circle) -> None:
    first, second = circle.seal(), circle.seal()
    assert first.nonce != second.nonce
    assert first.commitment != second.commitment
    assert first.ciphertext != second.ciphertext
    assert circle.open(first).opening != circle.open(second).opening


@pytest.mark.parametrize("field", ENVELOPE_FIELDS)
def test_tampering_any_field_breaks_the_signature(circle: Circle, field: str) -> None:
    envelope = circle.seal()
    value = getattr(envelope, field)
    with pytest.raises(BadSignature):
        circle.open(replace(envelope, **{field: flip(value, len(value) // 2)}))


def test_another_authors_key_breaks_the_signature(circle: Circle) -> None:
    envelope = circle.seal()
    other = bytes(SigningKey.generate().verify_key)
    with pytest.raises(BadSignature):
        circle.open(replace(envelope, author_key=other))


@pytest.mark.parametrize(
    ("field", "size"), [("nonce", 23), ("nonce", 25), ("signature", 63), ("author_key", 31)]
)
def test_malformed_sizes_are_bad_signatures(circle: Circle, field: str, size: int) -> None:
    envelope = circle.seal()
    value = getattr(envelope, field)
    resized = (value + bytes(8))[:size]
    with pytest.raises(BadSignature):
        circle.open(replace(envelope, **{field: resized}))


def test_a_short_commitment_is_a_bad_signature(circle: Circle) -> None:
    envelope = circle.seal()
    with pytest.raises(BadSignature):
        replace(envelope, commitment=envelope.commitment[:31]).verify(circle.context)


def test_a_signature_over_the_ciphertext_of_another_envelope_fails(circle: Circle) -> None:
    first, second = circle.seal(), circle.seal()
    with pytest.raises(BadSignature):
        circle.open(replace(first, signature=second.signature))


def _contexts(circle: Circle) -> dict[str, EnvelopeContext]:
    c = circle.context
    return {
        "other circle": EnvelopeContext(ENTRY, OTHER_CIRCLE, 1, c.entry_id),
        "other entry": EnvelopeContext(ENTRY, CIRCLE, 1, uuid.uuid4()),
        "as a corroboration": EnvelopeContext(CORROBORATION, CIRCLE, 1, c.entry_id, uuid.uuid4()),
        "as a corroboration with the entry's own id": EnvelopeContext(
            CORROBORATION, CIRCLE, 1, c.entry_id, c.entry_id
        ),
    }


@pytest.mark.parametrize(
    "which",
    [
        "other circle",
        "other entry",
        "as a corroboration",
        "as a corroboration with the entry's own id",
    ],
)
def test_wrong_context_is_a_bad_signature(circle: Circle, which: str) -> None:
    envelope = circle.seal()
    with pytest.raises(BadSignature):
        circle.open(envelope, _contexts(circle)[which])


def test_other_held_epoch_is_wrong_epoch(circle: Circle) -> None:
    envelope = circle.seal()
    with pytest.raises(WrongEpoch):
        circle.open(envelope, circle.context.with_epoch(0))
    with pytest.raises(WrongEpoch):  # an epoch the reader does not even hold
        circle.open(envelope, circle.context.with_epoch(7))


def test_wrong_epoch_needs_the_true_epoch_to_be_held(circle: Circle) -> None:
    envelope = circle.seal()
    with pytest.raises(BadSignature):
        open_envelope(envelope, keys={0: circle.keys[0]}, context=circle.context.with_epoch(0))


def test_missing_key_after_a_valid_signature_is_a_decryption_failure(circle: Circle) -> None:
    envelope = circle.seal()
    with pytest.raises(DecryptionFailed):
        open_envelope(envelope, keys={0: circle.keys[0]}, context=circle.context)


def test_same_key_under_another_epoch_number_does_not_decrypt(circle: Circle) -> None:
    envelope = circle.seal()
    swapped = {0: circle.keys[1], 1: circle.keys[0]}
    with pytest.raises(DecryptionFailed):
        open_envelope(envelope, keys=swapped, context=circle.context)


def test_corroboration_contexts_are_distinct(circle: Circle) -> None:
    corroboration_id = uuid.uuid4()
    context = EnvelopeContext(CORROBORATION, CIRCLE, 1, circle.entry_id, corroboration_id)
    envelope = circle.seal({"v": 1, "text": "me too"}, context=context)
    assert circle.open(envelope, context).body == {"v": 1, "text": "me too"}
    for other in (
        EnvelopeContext(CORROBORATION, CIRCLE, 1, circle.entry_id, uuid.uuid4()),
        EnvelopeContext(CORROBORATION, CIRCLE, 1, uuid.uuid4(), corroboration_id),
        EnvelopeContext(ENTRY, CIRCLE, 1, circle.entry_id),
    ):
        with pytest.raises(BadSignature):
            circle.open(envelope, other)


def test_associated_data_layout() -> None:
    author, commit = bytes(range(32)), bytes(range(32, 64))
    entry_id, corroboration_id = uuid.uuid4(), uuid.uuid4()
    entry = EnvelopeContext(ENTRY, CIRCLE, 2**63 - 1, entry_id).associated_data(author, commit)
    assert entry == (
        labels.ENTRY_AD_PREFIX
        + CIRCLE.bytes
        + (2**63 - 1).to_bytes(8, "big")
        + entry_id.bytes
        + author
        + commit
    )
    assert len(entry) == 125
    corroboration = EnvelopeContext(
        CORROBORATION, CIRCLE, 0, entry_id, corroboration_id
    ).associated_data(author, commit)
    assert corroboration == (
        labels.CORROBORATION_AD_PREFIX
        + CIRCLE.bytes
        + bytes(8)
        + entry_id.bytes
        + corroboration_id.bytes
        + author
        + commit
    )
    assert len(corroboration) == 149


@pytest.mark.parametrize(
    "context",
    [
        EnvelopeContext(CORROBORATION, CIRCLE, 0, uuid.uuid4()),  # no corroboration id
        EnvelopeContext("warning", CIRCLE, 0, uuid.uuid4()),
        EnvelopeContext(ENTRY, CIRCLE, -1, uuid.uuid4()),
        EnvelopeContext(ENTRY, CIRCLE, 2**63, uuid.uuid4()),
    ],
    ids=["corroboration without id", "unknown kind", "negative epoch", "epoch 2^63"],
)
def test_malformed_contexts_are_refused(context: EnvelopeContext) -> None:
    with pytest.raises(InvalidKey):
        context.associated_data(bytes(32), bytes(32))


@pytest.mark.parametrize(("author", "commit"), [(31, 32), (32, 33), (0, 32)])
def test_associated_data_needs_32_byte_key_and_commitment(author: int, commit: int) -> None:
    with pytest.raises(InvalidKey):
        EnvelopeContext(ENTRY, CIRCLE, 0, uuid.uuid4()).associated_data(
            bytes(author), bytes(commit)
        )


# -- commitments (franking) --------------------------------------------------------------


def test_reveal_proves_what_the_author_posted(circle: Circle) -> None:
    """A reporter reveals (body bytes, opening); a moderator checks them against the
    commitment the server stored, which the author's signature covers."""
    envelope = circle.seal()
    opened = circle.open(envelope)
    assert verify_commitment(opened.body_bytes, opened.opening, envelope.commitment)
    assert not verify_commitment(
        canonical_json(body(text="Nothing.")), opened.opening, envelope.commitment
    )
    assert not verify_commitment(opened.body_bytes, bytes(32), envelope.commitment)
    assert not verify_commitment(opened.body_bytes + b" ", opened.opening, envelope.commitment)
    envelope.verify(circle.context)  # the signature binds the commitment to the author key


def test_a_third_party_cannot_swap_the_commitment(circle: Circle) -> None:
    envelope = circle.seal()
    other = commitment(canonical_json(body(text="forged")), bytes(32))
    with pytest.raises(BadSignature):
        circle.open(replace(envelope, commitment=other))


def test_an_author_cannot_sign_a_commitment_to_other_content(circle: Circle) -> None:
    opening = bytes(range(32))
    real = canonical_json(body())
    claimed = commitment(canonical_json(body(text="Something else.")), opening)
    envelope = hostile(circle, padded=pad(opening + real), commit=claimed)
    envelope.verify(circle.context)  # the signature is valid ...
    with pytest.raises(DecryptionFailed):  # ... but the commitment does not open
        circle.open(envelope)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_commitment_needs_a_32_byte_opening(size: int) -> None:
    with pytest.raises(InvalidKey):
        commitment(b"{}", bytes(size))


def test_commitment_is_keyed_by_the_opening() -> None:
    assert commitment(b"{}", bytes(32)) != commitment(b"{}", b"\x01" + bytes(31))
    assert commitment(b"{}", bytes(32)) != commitment(b"{} ", bytes(32))
    assert len(commitment(b"", bytes(32))) == 32


@pytest.mark.parametrize(
    "plaintext",
    [
        b"short",  # shorter than the opening
        bytes(range(32)) + b"\xff\xfe",  # not UTF-8
        bytes(range(32)) + b"[]",  # not an object
        bytes(range(32)) + b'{"v":1.5}',  # a float
        bytes(range(32)) + b'{"v":NaN}',
    ],
    ids=["short", "not utf-8", "array", "float", "NaN"],
)
def test_hostile_plaintexts_are_decryption_failures(circle: Circle, plaintext: bytes) -> None:
    opening, body_bytes = plaintext[:32].ljust(32, b"\x00"), plaintext[32:]
    envelope = hostile(circle, padded=pad(plaintext), commit=commitment(body_bytes, opening))
    with pytest.raises(DecryptionFailed):
        circle.open(envelope)


# -- signing keys ------------------------------------------------------------------------


def test_anonymous_key_is_deterministic_per_circle_and_object() -> None:
    alice = IdentityKeys.generate()
    entry_id = uuid.uuid4()
    first = anonymous_signing_key(alice, circle_id=CIRCLE, object_id=entry_id)
    again = anonymous_signing_key(
        IdentityKeys.from_bytes(bytes(alice)), circle_id=CIRCLE, object_id=entry_id
    )
    assert bytes(first) == bytes(again)
    identity_public = bytes(alice.signing_key.verify_key)
    others = [
        anonymous_signing_key(alice, circle_id=CIRCLE, object_id=uuid.uuid4()),
        anonymous_signing_key(alice, circle_id=OTHER_CIRCLE, object_id=entry_id),
        anonymous_signing_key(IdentityKeys.generate(), circle_id=CIRCLE, object_id=entry_id),
    ]
    publics = {bytes(k.verify_key) for k in [first, *others]}
    assert len(publics) == 4
    assert identity_public not in publics


def test_anonymous_key_depends_only_on_the_ed25519_seed() -> None:
    alice = IdentityKeys.generate()
    same_seed = IdentityKeys(bytes(32), bytes(alice.signing_key))
    entry_id = uuid.uuid4()
    assert bytes(anonymous_signing_key(alice, circle_id=CIRCLE, object_id=entry_id)) == bytes(
        anonymous_signing_key(same_seed, circle_id=CIRCLE, object_id=entry_id)
    )


def test_signing_key_for_named_and_anonymous_objects() -> None:
    alice = IdentityKeys.generate()
    entry_id, corroboration_id = uuid.uuid4(), uuid.uuid4()
    entry = EnvelopeContext(ENTRY, CIRCLE, 3, entry_id)
    corroboration = EnvelopeContext(CORROBORATION, CIRCLE, 3, entry_id, corroboration_id)
    assert signing_key_for(alice, entry, anonymous=False) is alice.signing_key
    assert signing_key_for(alice, corroboration, anonymous=False) is alice.signing_key
    by_entry = anonymous_signing_key(alice, circle_id=CIRCLE, object_id=entry_id)
    by_corroboration = anonymous_signing_key(alice, circle_id=CIRCLE, object_id=corroboration_id)
    assert bytes(signing_key_for(alice, entry, anonymous=True)) == bytes(by_entry)
    assert bytes(signing_key_for(alice, corroboration, anonymous=True)) == bytes(by_corroboration)
    # The epoch is not an input: the author can re-derive the key after any rotation.
    assert bytes(signing_key_for(alice, entry.with_epoch(0), anonymous=True)) == bytes(by_entry)


def test_anonymous_envelope_opens_and_hides_the_identity_key(circle: Circle) -> None:
    envelope = circle.seal(body(attribution="anonymous"), anonymous=True)
    assert envelope.author_key != bytes(circle.author.signing_key.verify_key)
    assert circle.open(envelope).body["attribution"] == "anonymous"


# -- retraction --------------------------------------------------------------------------


@pytest.mark.parametrize("anonymous", [False, True])
def test_retraction_round_trip(circle: Circle, anonymous: bool) -> None:
    envelope = circle.seal(anonymous=anonymous)
    signing = signing_key_for(circle.author, circle.context, anonymous=anonymous)
    signature = sign_retraction(signing, circle_id=CIRCLE, entry_id=circle.entry_id)
    assert len(signature) == 64
    verify_retraction(envelope.author_key, signature, circle_id=CIRCLE, entry_id=circle.entry_id)


def test_retraction_refusals(circle: Circle) -> None:
    envelope = circle.seal(anonymous=True)
    anonymous = signing_key_for(circle.author, circle.context, anonymous=True)
    good = sign_retraction(anonymous, circle_id=CIRCLE, entry_id=circle.entry_id)
    bad = {
        "identity key for an anonymous entry": sign_retraction(
            circle.author.signing_key, circle_id=CIRCLE, entry_id=circle.entry_id
        ),
        "another entry": sign_retraction(anonymous, circle_id=CIRCLE, entry_id=uuid.uuid4()),
        "another circle": sign_retraction(
            anonymous, circle_id=OTHER_CIRCLE, entry_id=circle.entry_id
        ),
        "someone else": sign_retraction(
            SigningKey.generate(), circle_id=CIRCLE, entry_id=circle.entry_id
        ),
        "no context label": bytes(anonymous.sign(CIRCLE.bytes + circle.entry_id.bytes).signature),
        "envelope context label": bytes(
            anonymous.sign(
                labels.ENVELOPE_SIGNATURE_CONTEXT + CIRCLE.bytes + circle.entry_id.bytes
            ).signature
        ),
        "one bit flipped": flip(good, 10),
        "63 bytes": good[:63],
        "empty": b"",
    }
    accepted = []
    for description, signature in bad.items():
        try:
            verify_retraction(
                envelope.author_key, signature, circle_id=CIRCLE, entry_id=circle.entry_id
            )
        except BadSignature:
            continue
        accepted.append(description)
    assert accepted == []
    for author_key in (envelope.author_key[:31], b""):
        with pytest.raises(BadSignature):
            verify_retraction(author_key, good, circle_id=CIRCLE, entry_id=circle.entry_id)


def test_an_envelope_signature_is_not_a_retraction(circle: Circle) -> None:
    envelope = circle.seal()
    with pytest.raises(BadSignature):
        verify_retraction(
            envelope.author_key, envelope.signature, circle_id=CIRCLE, entry_id=circle.entry_id
        )


# -- payload bodies ----------------------------------------------------------------------


def test_check_entry_body_accepts_valid_bodies() -> None:
    for valid in (
        body(),
        body(severity=None, aliases=[], attribution="anonymous"),
        body(categories=list(CATEGORIES), aliases=["a" * 200] * 20, subject="s" * 200),
        body(text=""),
        *(body(severity=s) for s in SEVERITIES),
    ):
        assert check_entry_body(valid) is valid


MALFORMED = {
    "no version": {k: v for k, v in body().items() if k != "v"},
    "version 2": body(v=2),
    "version as a string": body(v="1"),
    "no subject": {k: v for k, v in body().items() if k != "subject"},
    "empty subject": body(subject=""),
    "subject of 201 characters": body(subject="s" * 201),
    "subject not a string": body(subject=["Jan"]),
    "aliases missing": {k: v for k, v in body().items() if k != "aliases"},
    "aliases a string": body(aliases="Honza"),
    "21 aliases": body(aliases=["a"] * 21),
    "alias of 201 characters": body(aliases=["a" * 201]),
    "alias not a string": body(aliases=[None]),
    "categories missing": {k: v for k, v in body().items() if k != "categories"},
    "unknown category": body(categories=["gossip"]),
    "category in upper case": body(categories=["Harassment"]),
    "12 categories": body(categories=[*CATEGORIES, "other"]),
    "categories a string": body(categories="harassment"),
    "text missing": {k: v for k, v in body().items() if k != "text"},
    "text not a string": body(text=7),
    "unknown severity": body(severity="critical"),
    "severity as a list": body(severity=["serious"]),
    "attribution missing": {k: v for k, v in body().items() if k != "attribution"},
    "attribution other": body(attribution="pseudonymous"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_check_entry_body_rejects(name: str) -> None:
    with pytest.raises(DecryptionFailed):
        check_entry_body(MALFORMED[name])


@pytest.mark.parametrize(
    "malformed",
    [
        body(v=True),
        body(affiliation=["not", "a", "string"]),
        body(contact={"phone": 1}),
        body(happened="last summer"),
        body(happened=2024),
    ],
    ids=["v true", "affiliation a list", "contact an object", "happened free text", "happened int"],
)
def test_check_entry_body_checks_every_field(malformed: dict[str, Any]) -> None:
    with pytest.raises(DecryptionFailed):
        check_entry_body(malformed)


# -- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("Jan Nov\u00e1k", "jan novak"),
        ("JAN  NOV\u00c1K", "jan novak"),
        ("\u00c5sa \u00d8stberg", "asa ostberg"),
        ("\u0141ukasz", "lukasz"),
        ("Stra\u00dfe", "strasse"),
        ("@jnovak", "jnovak"),
        ("jan@example.org", "jan example org"),
        ("\u00e6\u0153\u00fe\u0131\u0127\u0167\u0111\u00f0", "aeoethihtdd"),
        ("x\u00adx", "x x"),  # soft hyphen (Cf) becomes a space
        ("\u2460", "1"),  # circled digit one (NFKC)
    ],
)
def test_normalise_name(text: str, normal: str) -> None:
    assert normalise_name(text) == normal


def test_normalise_name_is_idempotent() -> None:
    for text in ("Jan Nov\u00e1k", "\u0141UKASZ \u017b\u00d3\u0141\u0106", "\u1fb3", "\uae40"):
        once = normalise_name(text)
        assert normalise_name(once) == once


def test_fold_table_applies_to_letters_with_marks() -> None:
    assert normalise_name("\u01fe") == normalise_name("\u00d8") == "o"
    assert normalise_name("\u01fd") == normalise_name("\u00e6") == "ae"


@pytest.mark.parametrize("text", ["", " ", "\t\n", "!!!", "@#$%", "\U0001f642", "\u200b\u200d"])
def test_exact_keys_refuse_empty_names(text: str) -> None:
    assert normalise_name(text) == ""
    with pytest.raises(InvalidKey):
        exact_keys(text)


def test_exact_keys_ignore_case_accents_spacing_punctuation_and_word_order() -> None:
    keys = exact_keys("Jan Nov\u00e1k")
    for same in (" JAN  NOVAK ", "Jan-Nova\u0301k", "Nov\u00e1k, Jan", "JanNovak"):
        assert keys & exact_keys(same), same
    for other in ("Jan Novak Jr", "Jana Novak", "Novak"):
        assert not keys & exact_keys(other), other


def test_every_error_is_a_crypto_error() -> None:
    for exc in (BadSignature, DecryptionFailed, InvalidKey, WrongEpoch):
        assert issubclass(exc, CryptoError)
