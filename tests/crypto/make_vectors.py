"""Generate docs/vectors/v1.json, the test vectors of the account protocol (version 1).

    .venv/bin/python -m tests.crypto.make_vectors > docs/vectors/v1.json

Every input is fixed, so the output is the same on every run. The identity keys
are the RFC 7748 §6.1 X25519 key of "Alice" and the RFC 8032 §7.1 TEST 1
Ed25519 seed, so an implementer can first check their library against the RFCs.
Key bundles need a fixed nonce, which the public API rightly refuses to take;
``seal_with_nonce`` below builds them with the same format and associated data.
"""

import json
import sys
from typing import Any

import nacl.secret
from nacl.encoding import RawEncoder

from app.crypto import (
    AccountKeys,
    CryptoError,
    IdentityKeys,
    KdfParams,
    RecoveryCode,
    b64encode,
    derive_root_key,
    labels,
    normalise_fingerprint,
    normalise_username,
)
from app.crypto.bundle import bundle_associated_data
from app.crypto.kdf import normalise_passphrase

# U+FB01 "fi" ligature and full-width letters, which NFKC folds to "correct horse fish battery".
PASSPHRASE = "correct horse \ufb01sh \uff42\uff41\uff54\uff54\uff45\uff52\uff59"
SALT = bytes(range(16))
OPSLIMIT = 3
MEMLIMIT = 64 * 1024 * 1024
USERNAME = "alice"

X25519_SECRET = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
X25519_PUBLIC_RFC7748 = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
ED25519_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
ED25519_PUBLIC_RFC8032 = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"

PASSPHRASE_NONCE = bytes(range(0x40, 0x58))
RECOVERY_NONCE = bytes(range(0x80, 0x98))
RECOVERY_RAW = bytes.fromhex("0123456789abcdeffedcba987654321001000100")

NORMALISATION_INPUTS = [
    PASSPHRASE,
    "correct horse fish battery",
    "cafe\u0301 au lait",  # e + COMBINING ACUTE ACCENT composes to U+00E9
    "caf\u00e9 au lait",
    "\u212bngstr\u00f6m",  # ANGSTROM SIGN becomes U+00C5
    "\uff11\uff12\uff21\uff22 \uff46\uff55\uff4c\uff4c \uff57\uff49\uff44\uff54\uff48",
]
# Full-width letters, sharp s (casefolds to "ss"), KELVIN SIGN (NFKC gives "K").
USERNAME_INPUTS = [
    "alice",
    "Alice",
    "\uff21\uff2c\uff29\uff23\uff25",
    "  bob.smith_2  ",
    "Stra\u00dfe",
    "\u212aate",
]
BAD_USERNAMES = ["a", "_alice", "al ice", "alice!", "a" * 33, "\u00e5lice"]
ERROR = "InvalidKey"


def seal_with_nonce(
    identity: IdentityKeys, *, key: bytes, username: str, purpose: str, nonce: bytes
) -> bytes:
    """``seal_key_bundle`` with a caller-chosen nonce: for vectors only, never for real data."""
    sealed = nacl.secret.Aead(key).encrypt(
        bytes(identity), bundle_associated_data(username, purpose), nonce, encoder=RawEncoder
    )
    return bytes([labels.KEY_BUNDLE_VERSION]) + bytes(sealed)


def _expect(parse: Any, text: str) -> dict[str, str]:
    try:
        return {"input": text, "canonical": parse(text)}
    except CryptoError as exc:
        return {"input": text, "error": type(exc).__name__}


def _bundle_vector(
    identity: IdentityKeys, *, key: bytes, purpose: str, nonce: bytes
) -> dict[str, Any]:
    bundle = seal_with_nonce(identity, key=key, username=USERNAME, purpose=purpose, nonce=nonce)
    return {
        "username": USERNAME,
        "purpose": purpose,
        "key": key.hex(),
        "nonce": nonce.hex(),
        "associated_data": bundle_associated_data(USERNAME, purpose).hex(),
        "plaintext": bytes(identity).hex(),
        "bundle": bundle.hex(),
        "bundle_b64": b64encode(bundle),
    }


def build_vectors() -> dict[str, Any]:
    params = KdfParams(opslimit=OPSLIMIT, memlimit=MEMLIMIT)
    root = derive_root_key(PASSPHRASE, SALT, params)
    account = AccountKeys.from_root(root)

    identity = IdentityKeys(X25519_SECRET, ED25519_SEED)
    public = identity.public()
    assert public.x25519_public.hex() == X25519_PUBLIC_RFC7748
    assert public.ed25519_public.hex() == ED25519_PUBLIC_RFC8032
    public.verify()
    fingerprint = public.fingerprint()
    digits = fingerprint.replace(" ", "")

    code = RecoveryCode(RECOVERY_RAW)
    text = str(code)
    passphrase_bundle = _bundle_vector(
        identity,
        key=account.wrap_key,
        purpose=labels.BUNDLE_PURPOSE_PASSPHRASE,
        nonce=PASSPHRASE_NONCE,
    )
    recovery_bundle = _bundle_vector(
        identity,
        key=code.bundle_key,
        purpose=labels.BUNDLE_PURPOSE_RECOVERY,
        nonce=RECOVERY_NONCE,
    )
    recovery_inputs = [
        text,
        text.lower(),
        text.replace("-", ""),
        text.replace("-", " "),
        "  " + text.replace("-", " - ") + "\t",
        text.replace("0", "O").replace("1", "I"),
        text.lower().replace("0", "o").replace("1", "l"),
        text.replace("1", "L"),
        text[:-1],  # 31 characters
        text + "0",  # 33 characters
        text[:-1] + "U",  # U is not in Crockford's alphabet
        text.replace("-", "_"),
        "",
    ]
    fingerprint_inputs = [
        fingerprint,
        digits,
        fingerprint.replace(" ", "-"),
        "  " + fingerprint.replace(" ", "  ") + " ",
        digits[:-1],
        digits + "7",
    ]

    return {
        "protocol": "backchannel",
        "version": 1,
        "generator": "python -m tests.crypto.make_vectors (app.crypto, libsodium via PyNaCl)",
        "encoding": (
            "Byte strings are lowercase hex, except fields whose name ends in _b64, which are "
            "RFC 4648 section 4 base64 with padding as sent over HTTP. Text is a JSON string; "
            "non-ASCII characters are written as \\u escapes."
        ),
        "labels": {
            "PERSON_AUTH_KEY": labels.PERSON_AUTH_KEY.hex(),
            "PERSON_WRAP_KEY": labels.PERSON_WRAP_KEY.hex(),
            "PERSON_RECOVERY_KEY": labels.PERSON_RECOVERY_KEY.hex(),
            "PERSON_RECOVERY_AUTH": labels.PERSON_RECOVERY_AUTH.hex(),
            "PERSON_FINGERPRINT": labels.PERSON_FINGERPRINT.hex(),
            "IDENTITY_SIGNATURE_CONTEXT": labels.IDENTITY_SIGNATURE_CONTEXT.hex(),
            "KEY_BUNDLE_AD_PREFIX": labels.KEY_BUNDLE_AD_PREFIX.hex(),
            "KEY_BUNDLE_VERSION": labels.KEY_BUNDLE_VERSION,
            "KDF_ALGORITHM": labels.KDF_ALGORITHM,
        },
        "passphrase_normalisation": [
            {"input": text_in, "utf8": normalise_passphrase(text_in).hex()}
            for text_in in NORMALISATION_INPUTS
        ],
        "account_keys": {
            "passphrase": PASSPHRASE,
            "passphrase_utf8": normalise_passphrase(PASSPHRASE).hex(),
            "salt": SALT.hex(),
            "algorithm": params.algorithm,
            "opslimit": OPSLIMIT,
            "memlimit": MEMLIMIT,
            "root_key": root.hex(),
            "auth_key": account.auth_key.hex(),
            "wrap_key": account.wrap_key.hex(),
        },
        "kdf_bounds": {
            "accept": [
                {"algorithm": "argon2id13", "opslimit": 3, "memlimit": MEMLIMIT},
                {"algorithm": "argon2id13", "opslimit": 32, "memlimit": 1024 * 1024 * 1024},
            ],
            "reject": [
                {"algorithm": "argon2id13", "opslimit": 2, "memlimit": MEMLIMIT},
                {"algorithm": "argon2id13", "opslimit": 3, "memlimit": MEMLIMIT - 1},
                {"algorithm": "argon2id13", "opslimit": 33, "memlimit": MEMLIMIT},
                {"algorithm": "argon2id13", "opslimit": 3, "memlimit": 1024 * 1024 * 1024 + 1},
                {"algorithm": "argon2i13", "opslimit": 3, "memlimit": MEMLIMIT},
            ],
        },
        "identity": {
            "x25519_secret": X25519_SECRET.hex(),
            "ed25519_seed": ED25519_SEED.hex(),
            "identity_secret": bytes(identity).hex(),
            "x25519_public": public.x25519_public.hex(),
            "ed25519_public": public.ed25519_public.hex(),
            "signature_message": (labels.IDENTITY_SIGNATURE_CONTEXT + public.x25519_public).hex(),
            "x25519_signature": public.x25519_signature.hex(),
            "fingerprint_input": (public.ed25519_public + public.x25519_public).hex(),
            "fingerprint": fingerprint,
        },
        "fingerprint_parse": [_expect(normalise_fingerprint, t) for t in fingerprint_inputs],
        "usernames": [_expect(normalise_username, t) for t in USERNAME_INPUTS + BAD_USERNAMES],
        "recovery_code": {
            "raw": RECOVERY_RAW.hex(),
            "text": text,
            "bundle_key": code.bundle_key.hex(),
            "auth_key": code.auth_key.hex(),
        },
        "recovery_code_parse": [
            _expect(lambda t: str(RecoveryCode.parse(t)), t) for t in recovery_inputs
        ],
        "key_bundles": [passphrase_bundle, recovery_bundle],
        "register_request": {
            "username": USERNAME,
            "kdf": {
                "algorithm": params.algorithm,
                "opslimit": OPSLIMIT,
                "memlimit": MEMLIMIT,
                "salt": b64encode(SALT),
            },
            "auth_key": b64encode(account.auth_key),
            "identity": {
                "x25519_public": b64encode(public.x25519_public),
                "ed25519_public": b64encode(public.ed25519_public),
                "x25519_signature": b64encode(public.x25519_signature),
            },
            "key_bundle": passphrase_bundle["bundle_b64"],
            "recovery": {
                "auth_key": b64encode(code.auth_key),
                "key_bundle": recovery_bundle["bundle_b64"],
            },
        },
    }


def main() -> None:
    # ASCII-only output: non-ASCII inputs appear as \uXXXX escapes, so no editor can
    # silently re-normalise the very strings the vectors are about.
    json.dump(build_vectors(), sys.stdout, indent=2, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
