"""Generate docs/vectors/entries-v1.json, the test vectors of the warnings layer (version 1).

    .venv/bin/python -m tests.crypto.make_entry_vectors > docs/vectors/entries-v1.json

Every input is fixed, so the output is the same on every run. The circle, its id and
its two epoch keys are those of docs/vectors/circles-v1.json (all envelopes are made in
epoch 1); alice is the identity of docs/vectors/v1.json (RFC 7748 / RFC 8032 TEST 1) and
bob the "bob" of circles-v1.json (RFC 8032 TEST 2).

Two values are random in real use: the 32-byte opening and the 24-byte nonce of each
envelope. ``app.crypto.entries.seal`` rightly takes no nonce parameter, so the generator
swaps the ``secrets`` module *that module* sees for one that hands out the fixed values,
only while it seals (``fixed_randomness``), and checks the result against an envelope it
builds itself with raw libsodium bindings. Envelopes that a hostile author could make
(valid signature, wrong content) are built directly with PyNaCl.

The name cases depend on the Unicode data of the Python that runs the generator (the
reference normalisation uses ``unicodedata``). The protocol assumes Unicode 14.0.0, the
data of Python 3.11; every input below uses characters assigned, with the same
properties, in 14.0 and later, so the file does not change with the Python version,
but test_entry_vectors.py fails when the running Python has other Unicode data.
"""

import json
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import nacl.bindings
from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.signing import SigningKey

from app.crypto import CryptoError, IdentityKeys, b64encode, labels
from app.crypto import entries as entries_module
from app.crypto.circles import CircleKey, canonical_json
from app.crypto.entries import (
    BUCKETS,
    CATEGORIES,
    CORROBORATION,
    ENTRY,
    NONCE_BYTES,
    OPENING_BYTES,
    SEVERITIES,
    Envelope,
    EnvelopeContext,
    anonymous_signing_key,
    author_tag,
    check_entry_body,
    commitment,
    open_envelope,
    pad,
    seal,
    sign_retraction,
    sign_terms,
    signing_key_for,
    verify_retraction,
    verify_terms,
)
from app.crypto.names import exact_keys, normalise_name

CIRCLE_ID = uuid.UUID("8a3f0c6e-5b1d-4f2a-9c7e-1d2b3a4c5d6e")
OTHER_CIRCLE_ID = uuid.UUID("11111111-2222-4333-8444-555555555555")
EPOCH_KEYS = {0: bytes(range(0x10, 0x30)), 1: bytes(range(0x30, 0x50))}
EPOCH = 1
UNICODE_VERSION = "14.0.0"  # what docs/protocol.md section 25.1 assumes

NAMED_ENTRY_ID = uuid.UUID("5e1f7a2c-3b4d-4e6f-8a9b-0c1d2e3f4a5b")
ANONYMOUS_ENTRY_ID = uuid.UUID("6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d")
NAMED_CORROBORATION_ID = uuid.UUID("7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f")
ANONYMOUS_CORROBORATION_ID = uuid.UUID("9e0f1a2b-3c4d-4e5f-a6b7-c8d9e0f1a2b3")
OTHER_ENTRY_ID = uuid.UUID("00000000-0000-4000-8000-000000000000")


def pattern(start: int, size: int) -> bytes:
    return bytes((start + i) % 256 for i in range(size))


# (opening, nonce) of each envelope: random in real use.
RANDOMNESS = {
    "named_entry": (pattern(0x60, OPENING_BYTES), pattern(0x80, NONCE_BYTES)),
    "anonymous_entry": (pattern(0x98, OPENING_BYTES), pattern(0xB8, NONCE_BYTES)),
    "named_corroboration": (pattern(0xD0, OPENING_BYTES), pattern(0xF0, NONCE_BYTES)),
    "anonymous_corroboration": (pattern(0x08, OPENING_BYTES), pattern(0x28, NONCE_BYTES)),
}
# For the envelopes a hostile author makes (open cases).
FORGED_OPENING = pattern(0x40, OPENING_BYTES)
FORGED_NONCE = pattern(0xA0, NONCE_BYTES)

# (x25519 secret, ed25519 seed): alice of v1.json, bob of circles-v1.json.
IDENTITIES = {
    "alice": (
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    ),
    "bob": (
        "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    ),
}

# Non-ASCII on purpose: canonical JSON keeps UTF-8 as is (ensure_ascii=False).
NAMED_BODY: dict[str, Any] = {
    "v": 1,
    "subject": "Jan Nov\u00e1k",
    "aliases": ["Honza Nov\u00e1k", "@jnovak"],
    "categories": ["harassment", "intimidation"],
    "severity": "serious",
    "affiliation": "Filmcrews M\u00fcnchen",
    "happened": "2024-11",
    "contact": "alice on Signal",
    "text": 'Shouted at runners on set, twice ("move it!").\nAsk me before you work with him.',
    "attribution": "named",
}
ANONYMOUS_BODY: dict[str, Any] = {
    "v": 1,
    "subject": "\u0141ukasz \u017b\u00f3\u0142\u0107",
    "aliases": [],
    "categories": ["wage-theft"],
    "severity": None,
    "affiliation": None,
    "happened": None,
    "contact": None,
    "text": "Paid crews weeks late on two productions; some were never paid.",
    "attribution": "anonymous",
}
NAMED_CORROBORATION_BODY = {"v": 1, "text": "Same on a shoot in 2023 \u2013 he did it to me too."}
ANONYMOUS_CORROBORATION_BODY = {"v": 1, "text": "I was never paid for March."}
NAMED_EXPIRES_AT = 1_798_761_600  # 2027-01-01T00:00:00Z
ANONYMOUS_EXPIRES_AT = 1_830_297_600  # 2028-01-01T00:00:00Z

# (description, input); the expected value is what app.crypto.names computes.
NAME_CASES: list[tuple[str, str]] = [
    ("plain", "Jan Nov\u00e1k"),
    ("upper case, no accent", "JAN NOVAK"),
    ("extra spaces", " jan  novak "),
    ("decomposed accent (e + U+0301)", "Jan Nova\u0301k"),
    (
        "full-width letters, ideographic space",
        "\uff2a\uff41\uff4e\u3000\uff2e\uff4f\uff56\uff41\uff4b",
    ),
    ("no-break space", "Jan\u00a0Nov\u00e1k"),
    ("tab and newline", "Jan\tNov\u00e1k\n"),
    ("zero-width space (Cf)", "Jan\u200bNov\u00e1k"),
    ("hyphen", "Jan-Nov\u00e1k"),
    ("emoji between the words", "Jan \U0001f642 Nov\u00e1k"),
    ("surname first: word order is kept", "Nov\u00e1k, Jan"),
    ("handle", "@jnovak"),
    ("e-mail address", "jan@example.org"),
    ("Polish: \u0142 is in the fold table", "\u0141ukasz \u017b\u00f3\u0142\u0107"),
    ("Polish, upper case", "\u0141UKASZ \u017b\u00d3\u0141\u0106"),
    ("German sharp s: full case folding", "Stra\u00dfe"),
    ("capital sharp s U+1E9E", "GRO\u1e9e"),
    ("Danish and Norwegian", "S\u00f8ren \u00c6r\u00f8"),
    ("Icelandic thorn and eth", "\u00de\u00f3r Gu\u00f0mundsson"),
    ("Turkish dotted and dotless i", "I\u015f\u0131l \u0130nce"),
    ("Irish: apostrophe U+2019 becomes a space", "Se\u00e1n O\u2019Brien"),
    ("initials", "J.-P. M\u00fcller"),
    ("ligature U+FB01 (NFKC)", "\ufb01ona"),
    ("Roman numeral U+2163 (NFKC)", "Henri \u2163"),
    ("digits are kept", "Agent 007"),
    ("Greek: final sigma folds to sigma", "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3"),
    ("Greek, lower case with tonos", "\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03cd\u03c2"),
    ("Greek ypogegrammeni: full folding gives two letters", "\u1fb3"),
    ("Cherokee lower case folds to upper case", "\uab8f\uab7c\uab83"),
    ("Cherokee upper case", "\u13bf\u13ac\u13b3"),
    (
        "Devanagari: virama (ccc 9) dropped, vowel sign (ccc 0) kept",
        "\u092a\u094d\u0930\u093f\u092f\u093e",
    ),
    ("Korean: NFKD leaves conjoining jamo", "\uae40\ubbfc\uc900"),
    ("fold table before NFKD: \u01fe keeps \u00f8", "\u01fersted"),
    ("empty", ""),
    ("spaces only", "   "),
    ("punctuation only", "!!! ..."),
    ("symbols only", "@#$%"),
    ("emoji only (ZWJ sequence)", "\U0001f469\u200d\U0001f469\u200d\U0001f467"),
    ("zero-width space only", "\u200b"),
]

# A check of "jan novak" under both epoch keys, as a member who holds both sends it.

ERROR_CLASSES = ("InvalidKey", "BadSignature", "DecryptionFailed", "WrongEpoch")


def identity(name: str) -> IdentityKeys:
    x_secret, ed_seed = IDENTITIES[name]
    return IdentityKeys(bytes.fromhex(x_secret), bytes.fromhex(ed_seed))


def circle_keys(*epochs: int) -> dict[int, CircleKey]:
    return {epoch: CircleKey(EPOCH_KEYS[epoch]) for epoch in epochs}


@contextmanager
def fixed_randomness(*values: bytes) -> Iterator[None]:
    """Make ``app.crypto.entries`` draw ``values`` in order instead of random bytes."""
    queue = list(values)

    class _Fixed:
        @staticmethod
        def token_bytes(size: int) -> bytes:
            value = queue.pop(0)
            assert len(value) == size, (len(value), size)
            return value

    real = entries_module.secrets
    entries_module.secrets = _Fixed  # type: ignore[assignment]
    try:
        yield
    finally:
        entries_module.secrets = real
    assert not queue, "not every fixed value was used"


def aead(key: bytes, plaintext: bytes, ad: bytes, nonce: bytes) -> bytes:
    """XChaCha20-Poly1305-IETF ciphertext || tag, without the nonce."""
    return bytes(
        nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)
    )


def envelope_json(envelope: Envelope) -> dict[str, str]:
    """The five envelope fields as they travel over HTTP."""
    return {
        "author_key": b64encode(envelope.author_key),
        "commitment": b64encode(envelope.commitment),
        "nonce": b64encode(envelope.nonce),
        "ciphertext": b64encode(envelope.ciphertext),
        "signature": b64encode(envelope.signature),
    }


def context_json(context: EnvelopeContext) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": context.kind,
        "circle_id": str(context.circle_id),
        "epoch": context.epoch,
        "entry_id": str(context.entry_id),
    }
    if context.corroboration_id is not None:
        out["corroboration_id"] = str(context.corroboration_id)
    return out


def signing_vector(
    keys: IdentityKeys, context: EnvelopeContext, *, anonymous: bool
) -> dict[str, Any]:
    seed = bytes(keys.signing_key)
    if not anonymous:
        return {
            "derivation": "identity",
            "ed25519_seed": seed.hex(),
            "public": bytes(keys.signing_key.verify_key).hex(),
        }
    message = context.circle_id.bytes + context.object_id.bytes
    derived = blake2b(
        message, digest_size=32, key=seed, person=labels.PERSON_ANON_ENTRY, encoder=RawEncoder
    )
    signing = anonymous_signing_key(keys, circle_id=context.circle_id, object_id=context.object_id)
    assert bytes(signing) == derived
    public = bytes(signing.verify_key)
    assert public != bytes(keys.signing_key.verify_key)
    return {
        "derivation": "anonymous",
        "identity_ed25519_seed": seed.hex(),
        "identity_ed25519_public": bytes(keys.signing_key.verify_key).hex(),
        "message": message.hex(),
        "seed": derived.hex(),
        "public": public.hex(),
    }


def envelope_vector(
    name: str,
    context: EnvelopeContext,
    body: dict[str, Any],
    author: str,
    *,
    anonymous: bool,
) -> tuple[dict[str, Any], Envelope]:
    """Seal ``body`` with app.crypto (fixed randomness) and with raw bindings; they agree."""
    keys = identity(author)
    key = CircleKey(EPOCH_KEYS[context.epoch])
    opening, nonce = RANDOMNESS[name]
    signing = signing_key_for(keys, context, anonymous=anonymous)
    with fixed_randomness(opening, nonce):
        envelope = seal(body, key=key, context=context, signing_key=signing)

    body_bytes = canonical_json(body)
    plaintext = opening + body_bytes
    padded = pad(plaintext)
    assert padded == plaintext + b"\x80" + bytes(len(padded) - len(plaintext) - 1)
    commit = commitment(body_bytes, opening)
    author_key = bytes(signing.verify_key)
    ad = context.associated_data(author_key, commit)
    ciphertext = aead(key.entry_key, padded, ad, nonce)
    message = labels.ENVELOPE_SIGNATURE_CONTEXT + ad + nonce + ciphertext
    signature = bytes(signing.sign(message).signature)
    assert envelope == Envelope(author_key, commit, nonce, ciphertext, signature)
    assert envelope.signed_message(context) == message
    opened = open_envelope(envelope, keys=circle_keys(0, 1), context=context)
    assert (opened.body, opened.body_bytes, opened.opening) == (body, body_bytes, opening)
    if context.kind == ENTRY:
        check_entry_body(opened.body)

    vector: dict[str, Any] = {
        "name": name,
        **context_json(context),
        "author": author,
        "anonymous": anonymous,
        "body": body,
        "body_text": body_bytes.decode("utf-8"),
        "body_bytes": body_bytes.hex(),
        "body_length": len(body_bytes),
        "opening": opening.hex(),
        "plaintext_length": len(plaintext),
        "padded_length": len(padded),
        "padded": padded.hex(),
        "commitment": commit.hex(),
        "entry_key": key.entry_key.hex(),
        "signing_key": signing_vector(keys, context, anonymous=anonymous),
        "author_key": author_key.hex(),
        "nonce": nonce.hex(),
        "associated_data": ad.hex(),
        "associated_data_length": len(ad),
        "ciphertext": ciphertext.hex(),
        "ciphertext_length": len(ciphertext),
        "signature_message": message.hex(),
        "signature": signature.hex(),
        "envelope": envelope_json(envelope),
    }
    return vector, envelope


def entry_request(
    vector: dict[str, Any], envelope: Envelope, terms: dict[str, Any]
) -> dict[str, Any]:
    """The POST /entries body as the reference client sends it (no name travels)."""
    return {
        "entry_id": vector["entry_id"],
        "epoch": vector["epoch"],
        "anonymous": vector["anonymous"],
        **envelope_json(envelope),
        "author_tag": b64encode(bytes.fromhex(terms["author_tag"])),
        "expires_at": terms["expires_at"],
        "terms_signature": b64encode(bytes.fromhex(terms["signature"])),
    }


def corroboration_request(
    vector: dict[str, Any], envelope: Envelope, corroborator: IdentityKeys
) -> dict[str, Any]:
    tag = author_tag(corroborator, circle_id=CIRCLE_ID, entry_id=uuid.UUID(vector["entry_id"]))
    return {
        "corroboration_id": vector["corroboration_id"],
        "epoch": vector["epoch"],
        "anonymous": vector["anonymous"],
        **envelope_json(envelope),
        "author_tag": b64encode(tag),
    }


def tag_vector(description: str, who: str, keys: IdentityKeys, entry_id: uuid.UUID) -> dict:
    """§24.1: BLAKE2b-256(circle_id || entry_id, key = Ed25519 seed, person)."""
    message = CIRCLE_ID.bytes + entry_id.bytes
    tag = author_tag(keys, circle_id=CIRCLE_ID, entry_id=entry_id)
    assert tag == blake2b(
        message,
        digest_size=32,
        key=bytes(keys.signing_key),
        person=labels.PERSON_AUTHOR_TAG,
        encoder=RawEncoder,
    )
    return {
        "case": description,
        "who": who,
        "circle_id": str(CIRCLE_ID),
        "entry_id": str(entry_id),
        "key": bytes(keys.signing_key).hex(),
        "message": message.hex(),
        "tag": tag.hex(),
    }


def terms_vector(
    entry: dict[str, Any], signing: SigningKey, tag: bytes, expires_at: int
) -> dict[str, Any]:
    """§24.2: the author's signature over the entry's tag and expiry."""
    entry_id = uuid.UUID(entry["entry_id"])
    message = (
        labels.TERMS_SIGNATURE_CONTEXT
        + CIRCLE_ID.bytes
        + entry_id.bytes
        + tag
        + expires_at.to_bytes(8, "big")
    )
    signature = sign_terms(
        signing, circle_id=CIRCLE_ID, entry_id=entry_id, tag=tag, expires_at=expires_at
    )
    assert signature == bytes(signing.sign(message).signature)
    assert bytes(signing.verify_key).hex() == entry["author_key"]
    return {
        "name": entry["name"],
        "circle_id": str(CIRCLE_ID),
        "entry_id": entry["entry_id"],
        "author_key": entry["author_key"],
        "author_tag": tag.hex(),
        "expires_at": expires_at,
        "message": message.hex(),
        "message_length": len(message),
        "signature": signature.hex(),
    }


def terms_cases(terms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a reader (or the server) gets for each set of terms: valid, or the error."""
    named, anonymous = terms
    specs: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("valid: the named entry's terms", named, {}),
        ("valid: the anonymous entry's terms", anonymous, {}),
        ("expiry one second earlier than signed", named, {"expires_at": named["expires_at"] - 1}),
        ("the other entry's tag", named, {"author_tag": anonymous["author_tag"]}),
        ("checked for the other entry id", named, {"entry_id": anonymous["entry_id"]}),
        (
            "the anonymous terms under the identity key",
            anonymous,
            {"author_key": named["author_key"]},
        ),
        (
            "signature with one bit flipped",
            named,
            {"signature": flip(bytes.fromhex(named["signature"])).hex()},
        ),
        ("a tag of 31 bytes", named, {"author_tag": named["author_tag"][:62]}),
    ]
    out = []
    for description, base, change in specs:
        case = {
            k: v
            for k, v in (base | change).items()
            if k in ("circle_id", "entry_id", "author_key", "author_tag", "expires_at", "signature")
        }
        error = error_name(
            lambda c=case: verify_terms(
                bytes.fromhex(c["author_key"]),
                bytes.fromhex(c["signature"]),
                circle_id=uuid.UUID(c["circle_id"]),
                entry_id=uuid.UUID(c["entry_id"]),
                tag=bytes.fromhex(c["author_tag"]),
                expires_at=c["expires_at"],
            )
        )
        assert description.startswith("valid") == (error is None), description
        out.append(
            {
                "case": description,
                **case,
                **({"valid": True} if error is None else {"error": error}),
            }
        )
    return out


def error_name(action: Callable[[], Any]) -> str | None:
    try:
        action()
    except CryptoError as exc:
        name = type(exc).__name__
        assert name in ERROR_CLASSES, name
        return name
    return None


def flip(raw: bytes, index: int = 0) -> bytes:
    return raw[:index] + bytes([raw[index] ^ 0x01]) + raw[index + 1 :]


def forged(
    context: EnvelopeContext,
    *,
    padded: bytes,
    commit: bytes,
    aead_key: bytes | None = None,
    aead_context: EnvelopeContext | None = None,
    signer: SigningKey,
) -> Envelope:
    """An envelope its author signs correctly around content that is wrong in one way."""
    author_key = bytes(signer.verify_key)
    ad = (aead_context or context).associated_data(author_key, commit)
    key = aead_key or CircleKey(EPOCH_KEYS[context.epoch]).entry_key
    ciphertext = aead(key, padded, ad, FORGED_NONCE)
    unsigned = Envelope(author_key, commit, FORGED_NONCE, ciphertext, b"")
    signature = bytes(signer.sign(unsigned.signed_message(context)).signature)
    return Envelope(author_key, commit, FORGED_NONCE, ciphertext, signature)


def forged_body(context: EnvelopeContext, body_bytes: bytes, signer: SigningKey) -> Envelope:
    """Correct padding and commitment, any body bytes."""
    return forged(
        context,
        padded=pad(FORGED_OPENING + body_bytes),
        commit=commitment(body_bytes, FORGED_OPENING),
        signer=signer,
    )


def open_case(
    description: str,
    envelope: Envelope,
    context: EnvelopeContext,
    held: tuple[int, ...] = (0, 1),
) -> dict[str, Any]:
    """What a reader holding epoch keys ``held`` gets: the body, or the first error."""
    keys = circle_keys(*held)

    def read() -> dict[str, Any]:
        opened = open_envelope(envelope, keys=keys, context=context)
        if context.kind == ENTRY:
            check_entry_body(opened.body)
        return opened.body

    case: dict[str, Any] = {
        "case": description,
        **context_json(context),
        "keys_held": list(held),
        **envelope_json(envelope),
    }
    error = error_name(read)
    if error is None:
        case["body"] = read()
    else:
        case["error"] = error
    assert description.startswith("valid") == (error is None), description
    return case


def entry_open_cases(
    envelope: Envelope, context: EnvelopeContext, alice: IdentityKeys, bob: IdentityKeys
) -> list[dict[str, Any]]:
    signer = alice.signing_key
    good = canonical_json(NAMED_BODY)
    cases = [
        open_case("valid: the named entry", envelope, context),
        open_case("valid: only epoch 1's key held", envelope, context, held=(1,)),
    ]
    tampered = {
        "author_key": replace_field(envelope, author_key=bytes(bob.signing_key.verify_key)),
        "commitment": replace_field(envelope, commitment=flip(envelope.commitment)),
        "nonce": replace_field(envelope, nonce=flip(envelope.nonce)),
        "ciphertext": replace_field(envelope, ciphertext=flip(envelope.ciphertext, 100)),
        "signature": replace_field(envelope, signature=flip(envelope.signature)),
    }
    for field, bad in tampered.items():
        what = "replaced by bob's key" if field == "author_key" else "with one bit flipped"
        cases.append(open_case(f"{field} {what}", bad, context))
    cases += [
        open_case(
            "signature of 63 bytes",
            replace_field(envelope, signature=envelope.signature[:63]),
            context,
        ),
        open_case(
            "ciphertext truncated by one byte",
            replace_field(envelope, ciphertext=envelope.ciphertext[:-1]),
            context,
        ),
        open_case("read as epoch 0 (it was signed for epoch 1)", envelope, context.with_epoch(0)),
        open_case(
            "read as epoch 2, which the reader does not hold", envelope, context.with_epoch(2)
        ),
        open_case(
            "read as epoch 0 by a reader who holds only epoch 0",
            envelope,
            context.with_epoch(0),
            held=(0,),
        ),
        open_case(
            "read under another entry id",
            envelope,
            EnvelopeContext(ENTRY, CIRCLE_ID, EPOCH, OTHER_ENTRY_ID),
        ),
        open_case(
            "read in another circle",
            envelope,
            EnvelopeContext(ENTRY, OTHER_CIRCLE_ID, EPOCH, NAMED_ENTRY_ID),
        ),
        open_case(
            "read as a corroboration",
            envelope,
            EnvelopeContext(
                CORROBORATION, CIRCLE_ID, EPOCH, NAMED_ENTRY_ID, NAMED_CORROBORATION_ID
            ),
        ),
        open_case(
            "signed for epoch 1, the reader holds only epoch 0", envelope, context, held=(0,)
        ),
    ]
    # Made by a hostile author who signs correctly: the checks after the signature.
    opening_good = FORGED_OPENING + good
    author_made: list[tuple[str, Envelope]] = [
        (
            "valid: padded to 1024 bytes although 512 would do",
            forged(
                context,
                padded=opening_good + b"\x80" + bytes(1024 - len(opening_good) - 1),
                commit=commitment(good, FORGED_OPENING),
                signer=signer,
            ),
        ),
        (
            "sealed under epoch 0's entry key",
            forged(
                context,
                padded=pad(opening_good),
                commit=commitment(good, FORGED_OPENING),
                aead_key=CircleKey(EPOCH_KEYS[0]).entry_key,
                signer=signer,
            ),
        ),
        (
            "associated data of another entry id",
            forged(
                context,
                padded=pad(opening_good),
                commit=commitment(good, FORGED_OPENING),
                aead_context=EnvelopeContext(ENTRY, CIRCLE_ID, EPOCH, OTHER_ENTRY_ID),
                signer=signer,
            ),
        ),
        (
            "commitment made with another opening",
            forged(
                context,
                padded=pad(opening_good),
                commit=commitment(good, pattern(0x41, OPENING_BYTES)),
                signer=signer,
            ),
        ),
        (
            "padding without the 0x80 marker",
            forged(
                context,
                padded=opening_good + bytes(512 - len(opening_good)),
                commit=commitment(good, FORGED_OPENING),
                signer=signer,
            ),
        ),
        (
            "padded to 600 bytes (not a bucket)",
            forged(
                context,
                padded=opening_good + b"\x80" + bytes(600 - len(opening_good) - 1),
                commit=commitment(good, FORGED_OPENING),
                signer=signer,
            ),
        ),
        (
            "plaintext shorter than an opening",
            forged(
                context,
                padded=pad(FORGED_OPENING[:20]),
                commit=commitment(b"", FORGED_OPENING),
                signer=signer,
            ),
        ),
        ("body is not UTF-8", forged_body(context, b'{"v":1,"text":"\xff"}', signer)),
        ("body is not JSON", forged_body(context, b"Jan Novak harassed me", signer)),
        ("body is a JSON array", forged_body(context, b"[1]", signer)),
        ("body has a float", forged_body(context, good.replace(b'"v":1', b'"v":1.0'), signer)),
        ("body: version 2", forged_body(context, canonical_json({**NAMED_BODY, "v": 2}), signer)),
        (
            "body: no version",
            forged_body(context, canonical_json(without(NAMED_BODY, "v")), signer),
        ),
        (
            "body: unknown category",
            forged_body(context, canonical_json({**NAMED_BODY, "categories": ["gossip"]}), signer),
        ),
        (
            "body: unknown severity",
            forged_body(context, canonical_json({**NAMED_BODY, "severity": "critical"}), signer),
        ),
        (
            "body: empty subject",
            forged_body(context, canonical_json({**NAMED_BODY, "subject": ""}), signer),
        ),
        (
            "body: subject of 201 characters",
            forged_body(context, canonical_json({**NAMED_BODY, "subject": "j" * 201}), signer),
        ),
        (
            "valid: subject of 200 characters outside the BMP (400 UTF-16 units)",
            forged_body(
                context, canonical_json({**NAMED_BODY, "subject": "\U0001d409" * 200}), signer
            ),
        ),
        (
            "body: 21 aliases",
            forged_body(context, canonical_json({**NAMED_BODY, "aliases": ["x"] * 21}), signer),
        ),
        (
            "body: an alias that is not a string",
            forged_body(context, canonical_json({**NAMED_BODY, "aliases": [7]}), signer),
        ),
        (
            "body: text is not a string",
            forged_body(context, canonical_json({**NAMED_BODY, "text": None}), signer),
        ),
        (
            "body: no attribution",
            forged_body(context, canonical_json(without(NAMED_BODY, "attribution")), signer),
        ),
        (
            "body: attribution 'pseudonymous'",
            forged_body(
                context, canonical_json({**NAMED_BODY, "attribution": "pseudonymous"}), signer
            ),
        ),
        (
            "valid: body with an unknown extra field",
            forged_body(context, canonical_json({**NAMED_BODY, "mood": "tired"}), signer),
        ),
        (
            "valid: body not in canonical form (the commitment covers the bytes as sent)",
            forged_body(
                context,
                json.dumps(NAMED_BODY, ensure_ascii=True, indent=1).encode("ascii"),
                signer,
            ),
        ),
    ]
    cases += [open_case(description, bad, context) for description, bad in author_made]
    return cases


def corroboration_open_cases(envelope: Envelope, context: EnvelopeContext) -> list[dict[str, Any]]:
    assert context.corroboration_id is not None
    return [
        open_case("valid: the named corroboration", envelope, context),
        open_case(
            "read as the entry it corroborates",
            envelope,
            EnvelopeContext(ENTRY, CIRCLE_ID, EPOCH, context.entry_id),
        ),
        open_case(
            "read under another corroboration id",
            envelope,
            EnvelopeContext(CORROBORATION, CIRCLE_ID, EPOCH, context.entry_id, OTHER_ENTRY_ID),
        ),
        open_case(
            "read on another entry",
            envelope,
            EnvelopeContext(
                CORROBORATION, CIRCLE_ID, EPOCH, ANONYMOUS_ENTRY_ID, context.corroboration_id
            ),
        ),
        open_case("read as epoch 0", envelope, context.with_epoch(0)),
    ]


def vars_of(envelope: Envelope) -> tuple[bytes, bytes, bytes, bytes, bytes]:
    return (
        envelope.author_key,
        envelope.commitment,
        envelope.nonce,
        envelope.ciphertext,
        envelope.signature,
    )


def replace_field(envelope: Envelope, **changes: bytes) -> Envelope:
    fields = dict(
        zip(
            ("author_key", "commitment", "nonce", "ciphertext", "signature"),
            vars_of(envelope),
            strict=True,
        )
    )
    return Envelope(**{**fields, **changes})


def without(body: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != field}


def retraction_vector(entry: dict[str, Any], signing: SigningKey, who: str) -> dict[str, Any]:
    entry_id = uuid.UUID(entry["entry_id"])
    message = labels.RETRACT_SIGNATURE_CONTEXT + CIRCLE_ID.bytes + entry_id.bytes
    signature = sign_retraction(signing, circle_id=CIRCLE_ID, entry_id=entry_id)
    assert signature == bytes(signing.sign(message).signature)
    assert bytes(signing.verify_key).hex() == entry["author_key"]
    verify_retraction(
        bytes.fromhex(entry["author_key"]), signature, circle_id=CIRCLE_ID, entry_id=entry_id
    )
    return {
        "circle_id": str(CIRCLE_ID),
        "entry_id": entry["entry_id"],
        "signed_with": who,
        "author_key": entry["author_key"],
        "message": message.hex(),
        "signature": signature.hex(),
        "request": {"signature": b64encode(signature)},
    }


def retraction_cases(
    named: dict[str, Any], anonymous: dict[str, Any], alice: IdentityKeys
) -> list[dict[str, Any]]:
    named_id = uuid.UUID(named["entry_id"])
    anonymous_id = uuid.UUID(anonymous["entry_id"])
    anonymous_key = anonymous_signing_key(alice, circle_id=CIRCLE_ID, object_id=anonymous_id)
    good_named = sign_retraction(alice.signing_key, circle_id=CIRCLE_ID, entry_id=named_id)
    specs: list[tuple[str, dict[str, Any], bytes, uuid.UUID]] = [
        ("valid: the named entry, with alice's identity key", named, good_named, CIRCLE_ID),
        (
            "valid: the anonymous entry, with its derived key",
            anonymous,
            sign_retraction(anonymous_key, circle_id=CIRCLE_ID, entry_id=anonymous_id),
            CIRCLE_ID,
        ),
        (
            "the anonymous entry, with alice's identity key",
            anonymous,
            sign_retraction(alice.signing_key, circle_id=CIRCLE_ID, entry_id=anonymous_id),
            CIRCLE_ID,
        ),
        (
            "the named entry's retraction shown for the anonymous entry",
            anonymous,
            good_named,
            CIRCLE_ID,
        ),
        ("checked in another circle", named, good_named, OTHER_CIRCLE_ID),
        (
            "signed without the context label",
            named,
            bytes(alice.signing_key.sign(CIRCLE_ID.bytes + named_id.bytes).signature),
            CIRCLE_ID,
        ),
        ("signature with one bit flipped", named, flip(good_named), CIRCLE_ID),
        ("signature of 63 bytes", named, good_named[:63], CIRCLE_ID),
    ]
    out = []
    for description, entry, signature, circle_id in specs:
        entry_id = uuid.UUID(entry["entry_id"])
        error = error_name(
            lambda e=entry, s=signature, c=circle_id, i=entry_id: verify_retraction(
                bytes.fromhex(e["author_key"]), s, circle_id=c, entry_id=i
            )
        )
        case: dict[str, Any] = {
            "case": description,
            "circle_id": str(circle_id),
            "entry_id": entry["entry_id"],
            "author_key": entry["author_key"],
            "signature_b64": b64encode(signature),
        }
        if error is None:
            case["valid"] = True
        else:
            case["error"] = error
        assert description.startswith("valid") == (error is None), description
        out.append(case)
    return out


def name_vectors() -> dict[str, Any]:
    cases = []
    for description, text in NAME_CASES:
        normal = normalise_name(text)
        case: dict[str, Any] = {"case": description, "input": text, "normalised": normal}
        if normal:
            case |= {"utf8": normal.encode("utf-8").hex(), "exact_keys": sorted(exact_keys(text))}
        else:
            case["error"] = error_name(lambda t=text: exact_keys(t))
        cases.append(case)
    return {"cases": cases}


def padding_vectors() -> list[dict[str, Any]]:
    sizes = [0, 1, 32, 511, 512, 1023, 1024, 2047, 2048, 16383, 32768, 65534, 65535, 65536]
    out: list[dict[str, Any]] = []
    for size in sizes:
        error = error_name(lambda n=size: pad(bytes(n)))
        if error is None:
            out.append({"data_length": size, "padded_length": len(pad(bytes(size)))})
        else:
            out.append({"data_length": size, "error": error})
    return out


def build_vectors() -> dict[str, Any]:
    alice, bob = identity("alice"), identity("bob")
    named_context = EnvelopeContext(ENTRY, CIRCLE_ID, EPOCH, NAMED_ENTRY_ID)
    anonymous_context = EnvelopeContext(ENTRY, CIRCLE_ID, EPOCH, ANONYMOUS_ENTRY_ID)
    named_corroboration_context = EnvelopeContext(
        CORROBORATION, CIRCLE_ID, EPOCH, NAMED_ENTRY_ID, NAMED_CORROBORATION_ID
    )
    anonymous_corroboration_context = EnvelopeContext(
        CORROBORATION, CIRCLE_ID, EPOCH, ANONYMOUS_ENTRY_ID, ANONYMOUS_CORROBORATION_ID
    )

    named, named_envelope = envelope_vector(
        "named_entry", named_context, NAMED_BODY, "alice", anonymous=False
    )
    anonymous_key = anonymous_signing_key(alice, circle_id=CIRCLE_ID, object_id=ANONYMOUS_ENTRY_ID)
    anonymous, anonymous_envelope = envelope_vector(
        "anonymous_entry", anonymous_context, ANONYMOUS_BODY, "alice", anonymous=True
    )
    terms = [
        terms_vector(
            named,
            alice.signing_key,
            author_tag(alice, circle_id=CIRCLE_ID, entry_id=NAMED_ENTRY_ID),
            NAMED_EXPIRES_AT,
        ),
        terms_vector(
            anonymous,
            anonymous_key,
            author_tag(alice, circle_id=CIRCLE_ID, entry_id=ANONYMOUS_ENTRY_ID),
            ANONYMOUS_EXPIRES_AT,
        ),
    ]
    named["request"] = entry_request(named, named_envelope, terms[0])
    anonymous["request"] = entry_request(anonymous, anonymous_envelope, terms[1])
    corroboration, corroboration_envelope = envelope_vector(
        "named_corroboration",
        named_corroboration_context,
        NAMED_CORROBORATION_BODY,
        "bob",
        anonymous=False,
    )
    corroboration["request"] = corroboration_request(corroboration, corroboration_envelope, bob)
    anonymous_corroboration, anonymous_corroboration_envelope = envelope_vector(
        "anonymous_corroboration",
        anonymous_corroboration_context,
        ANONYMOUS_CORROBORATION_BODY,
        "bob",
        anonymous=True,
    )
    anonymous_corroboration["request"] = corroboration_request(
        anonymous_corroboration, anonymous_corroboration_envelope, bob
    )
    return {
        "protocol": "backchannel",
        "layer": "entries",
        "version": 1,
        "generator": (
            "python -m tests.crypto.make_entry_vectors (app.crypto, libsodium via PyNaCl)"
        ),
        "encoding": (
            "Byte strings are lowercase hex, except fields whose name ends in _b64 and the "
            "bodies of HTTP requests and envelopes (RFC 4648 section 4 base64 with padding, "
            "as sent over HTTP). Payload bodies are given parsed (body) and as the exact "
            "canonical JSON text (body_text) and bytes (body_bytes, UTF-8); this file itself "
            "writes non-ASCII characters as \\u escapes."
        ),
        "unicode_version": UNICODE_VERSION,
        "labels": {
            "PERSON_FRANKING": labels.PERSON_FRANKING.hex(),
            "PERSON_ANON_ENTRY": labels.PERSON_ANON_ENTRY.hex(),
            "ENTRY_AD_PREFIX": labels.ENTRY_AD_PREFIX.hex(),
            "CORROBORATION_AD_PREFIX": labels.CORROBORATION_AD_PREFIX.hex(),
            "ENVELOPE_SIGNATURE_CONTEXT": labels.ENVELOPE_SIGNATURE_CONTEXT.hex(),
            "RETRACT_SIGNATURE_CONTEXT": labels.RETRACT_SIGNATURE_CONTEXT.hex(),
            "PERSON_AUTHOR_TAG": labels.PERSON_AUTHOR_TAG.hex(),
            "TERMS_SIGNATURE_CONTEXT": labels.TERMS_SIGNATURE_CONTEXT.hex(),
            "ENTRY_PAYLOAD_VERSION": labels.ENTRY_PAYLOAD_VERSION,
        },
        # The server-side name index is gone (§25); its label must never be reused.
        "retired_labels": {"PERSON_NAME_TOKEN": labels.RETIRED_PERSON_NAME_TOKEN.hex()},
        "constants": {
            "opening_bytes": OPENING_BYTES,
            "nonce_bytes": NONCE_BYTES,
            "buckets": list(BUCKETS),
            "categories": list(CATEGORIES),
            "severities": list(SEVERITIES),
        },
        "identities": {
            name: {
                "ed25519_seed": IDENTITIES[name][1],
                "ed25519_public": bytes(keys.signing_key.verify_key).hex(),
            }
            for name, keys in (("alice", alice), ("bob", bob))
        },
        "circle": {
            "circle_id": str(CIRCLE_ID),
            "bytes": CIRCLE_ID.bytes.hex(),
            "epoch_keys": [
                {
                    "epoch": epoch,
                    "key": raw.hex(),
                    "entry_key": CircleKey(raw).entry_key.hex(),
                }
                for epoch, raw in EPOCH_KEYS.items()
            ],
        },
        "padding": padding_vectors(),
        "entries": [named, anonymous],
        "corroborations": [corroboration, anonymous_corroboration],
        "anonymous_keys": [
            {
                "case": description,
                "circle_id": str(circle_id),
                "object_id": str(object_id),
                "seed": bytes(
                    anonymous_signing_key(alice, circle_id=circle_id, object_id=object_id)
                ).hex(),
                "public": bytes(
                    anonymous_signing_key(
                        alice, circle_id=circle_id, object_id=object_id
                    ).verify_key
                ).hex(),
            }
            for description, circle_id, object_id in (
                ("alice's anonymous entry", CIRCLE_ID, ANONYMOUS_ENTRY_ID),
                ("alice, another entry id", CIRCLE_ID, NAMED_ENTRY_ID),
                ("alice, the same entry id in another circle", OTHER_CIRCLE_ID, ANONYMOUS_ENTRY_ID),
            )
        ],
        "open_entry": entry_open_cases(named_envelope, named_context, alice, bob),
        "open_corroboration": corroboration_open_cases(
            corroboration_envelope, named_corroboration_context
        ),
        "retractions": [
            retraction_vector(named, alice.signing_key, "identity"),
            retraction_vector(anonymous, anonymous_key, "anonymous"),
        ],
        "retraction_cases": retraction_cases(named, anonymous, alice),
        # §24.1: the same identity gives the same tag for an entry; nothing else does.
        "author_tags": [
            tag_vector("alice, her named entry", "alice", alice, NAMED_ENTRY_ID),
            tag_vector("alice, her anonymous entry", "alice", alice, ANONYMOUS_ENTRY_ID),
            tag_vector("bob corroborating alice's named entry", "bob", bob, NAMED_ENTRY_ID),
            tag_vector("bob corroborating alice's anonymous entry", "bob", bob, ANONYMOUS_ENTRY_ID),
        ],
        "terms": terms,
        "terms_cases": terms_cases(terms),
        "names": name_vectors(),
    }


def main() -> None:
    json.dump(build_vectors(), sys.stdout, indent=2, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
