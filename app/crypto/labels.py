"""Every protocol label in one place, so docs/protocol.md and the code can be compared.

BLAKE2b personalisations are ASCII padded with NUL bytes to exactly 16 bytes
(libsodium's ``crypto_generichash_blake2b_salt_personal`` takes 16 bytes; the
salt is always 16 zero bytes). AEAD associated data starts with a versioned
label followed by a NUL byte.
"""

from typing import Final


def _person(label: str) -> bytes:
    raw = label.encode("ascii")
    if len(raw) > 16:
        raise ValueError("personalisation longer than 16 bytes")
    return raw.ljust(16, b"\x00")


# The protocol's version (docs/protocol.md's title); every label below belongs to it.
PROTOCOL_VERSION: Final = 1

# Account key derivation (client side).
PERSON_AUTH_KEY: Final = _person("bc.v1.auth")
PERSON_WRAP_KEY: Final = _person("bc.v1.wrap")
PERSON_RECOVERY_KEY: Final = _person("bc.v1.recovery")
PERSON_RECOVERY_AUTH: Final = _person("bc.v1.recov-auth")
PERSON_FINGERPRINT: Final = _person("bc.v1.fingerprnt")

# Server-side keyed hashes (never on the wire, listed so they stay distinct).
PERSON_FAKE_SALT: Final = _person("bc.v1.fake-salt")
PERSON_TOKEN_HASH: Final = _person("bc.v1.token")
PERSON_THROTTLE: Final = _person("bc.v1.throttle")
PERSON_SERVER_KEY: Final = _person("bc.v1.server-key")

# Signatures and AEAD associated data.
IDENTITY_SIGNATURE_CONTEXT: Final = b"backchannel.identity.v1\x00"
KEY_BUNDLE_AD_PREFIX: Final = b"backchannel.keybundle.v1\x00"

KEY_BUNDLE_VERSION: Final = 1
BUNDLE_PURPOSE_PASSPHRASE: Final = "passphrase"  # noqa: S105 - a label, not a secret
BUNDLE_PURPOSE_RECOVERY: Final = "recovery"

KDF_ALGORITHM: Final = "argon2id13"

# Circles: epoch keys, key records, wraps, invites.
PERSON_KEY_ID: Final = _person("bc.v1.key-id")
PERSON_ENTRY_KEY: Final = _person("bc.v1.entry")
PERSON_META_KEY: Final = _person("bc.v1.meta")
PERSON_RECORD_HASH: Final = _person("bc.v1.record")
PERSON_EVENT_HASH: Final = _person("bc.v1.event")
PERSON_INVITE_HASH: Final = _person("bc.v1.invite")

KEY_RECORD_TYPE: Final = "backchannel.key-record"
KEY_RECORD_VERSION: Final = 1
KEY_RECORD_SIGNATURE_CONTEXT: Final = b"backchannel.key-record.v1\x00"
WRAP_PREFIX: Final = b"backchannel.wrap.v1\x00"
PREV_KEY_AD_PREFIX: Final = b"backchannel.prev-key.v1\x00"
CIRCLE_META_AD_PREFIX: Final = b"backchannel.circle-meta.v1\x00"
INVITE_PREFIX: Final = "bcinvite1"
LEAVE_TYPE: Final = "backchannel.leave"
LEAVE_SIGNATURE_CONTEXT: Final = b"backchannel.leave.v1\x00"
CIRCLE_DELETE_TYPE: Final = "backchannel.circle-delete"
CIRCLE_DELETE_SIGNATURE_CONTEXT: Final = b"backchannel.circle-delete.v1\x00"

# Entries (warnings) and corroborations.
PERSON_FRANKING: Final = _person("bc.v1.franking")
PERSON_ANON_ENTRY: Final = _person("bc.v1.anon-key")
PERSON_AUTHOR_TAG: Final = _person("bc.v1.author-tag")
ENTRY_AD_PREFIX: Final = b"backchannel.entry.v1\x00"
CORROBORATION_AD_PREFIX: Final = b"backchannel.corroboration.v1\x00"
ENVELOPE_SIGNATURE_CONTEXT: Final = b"backchannel.envelope-sig.v1\x00"
RETRACT_SIGNATURE_CONTEXT: Final = b"backchannel.retract.v1\x00"
TERMS_SIGNATURE_CONTEXT: Final = b"backchannel.entry-terms.v1\x00"
ENTRY_PAYLOAD_VERSION: Final = 1

# Moderation: the circle's moderation key, reports, takedown requests, decisions.
PERSON_MODKEY_HASH: Final = _person("bc.v1.modkey")
PERSON_MODKEY_BOX: Final = _person("bc.v1.modkey-box")
PERSON_CASE_HASH: Final = _person("bc.v1.case")
PERSON_MOD_BLOB: Final = _person("bc.v1.mod-blob")
PERSON_DECISION_HASH: Final = _person("bc.v1.decision")
PERSON_RECEIPT_TOKEN: Final = _person("bc.v1.rcpt-token")
PERSON_RECEIPT_KEY: Final = _person("bc.v1.rcpt-key")
MODKEY_TYPE: Final = "backchannel.moderation-key"
MODKEY_SIGNATURE_CONTEXT: Final = b"backchannel.moderation-key.v1\x00"
MODKEY_WRAP_PREFIX: Final = b"backchannel.modkey-wrap.v1\x00"
MODKEY_PREV_AD_PREFIX: Final = b"backchannel.modkey-prev.v1\x00"
REPORT_AD_PREFIX: Final = b"backchannel.report.v1\x00"
REPORT_SIGNATURE_CONTEXT: Final = b"backchannel.report-sig.v1\x00"
TAKEDOWN_AD_PREFIX: Final = b"backchannel.takedown.v1\x00"
TAKEDOWN_RESPONSE_AD_PREFIX: Final = b"backchannel.takedown-response.v1\x00"
DECISION_NOTE_AD_PREFIX: Final = b"backchannel.decision-note.v1\x00"
DECISION_TYPE: Final = "backchannel.decision"
DECISION_SIGNATURE_CONTEXT: Final = b"backchannel.decision.v1\x00"
TAKEDOWN_LINK_PREFIX: Final = "bctakedown1"
RECEIPT_PREFIX: Final = "bcreceipt1"

# The takedown request's proof of work (the challenge itself is the server's own keyed hash).
PERSON_PROOF_SEED: Final = _person("bc.v1.proof-seed")
PROOF_ARGON2_SALT: Final = _person("bc.v1.takedn-pow")  # Argon2id's 16 salt bytes, unpadded
PERSON_PROOF_CHALLENGE: Final = _person("bc.v1.proof-chal")

# Audit log: tree heads signed by the server's own key.
TREE_HEAD_TYPE: Final = "backchannel.tree-head"
TREE_HEAD_SIGNATURE_CONTEXT: Final = b"backchannel.tree-head.v1\x00"
SIGNING_KEY_SUCCESSION_CONTEXT: Final = b"backchannel.server-key-succession.v1\x00"
PERSON_SIGNING_SEAL: Final = _person("bc.v1.sign-seal")
SIGNING_SEED_AD_PREFIX: Final = b"backchannel.server-signing-seed.v1\x00"

# VOPRF (RFC 9497, suite ristretto255-SHA512): the RFC's own strings, copied so that
# docs/protocol.md §34 and app/crypto/voprf.py can be compared with the RFC. The context
# string is OPRF_CONTEXT_VERSION || mode (one byte) || "-" || OPRF_SUITE (§3.1).
OPRF_CONTEXT_VERSION: Final = b"OPRFV1-"
OPRF_SUITE: Final = b"ristretto255-SHA512"
OPRF_HASH_TO_GROUP_DST: Final = b"HashToGroup-"
OPRF_HASH_TO_SCALAR_DST: Final = b"HashToScalar-"
OPRF_DERIVE_KEY_PAIR_DST: Final = b"DeriveKeyPair"
OPRF_SEED_DST: Final = b"Seed-"
OPRF_FINALIZE_LABEL: Final = b"Finalize"
OPRF_CHALLENGE_LABEL: Final = b"Challenge"
OPRF_COMPOSITE_LABEL: Final = b"Composite"

# Sealed warnings (§36): opened to the admins only when k members name the same person.
PERSON_SEAL_SECRET: Final = _person("bc.v1.seal-root")
PERSON_SEAL_VALUE: Final = _person("bc.v1.seal-value")
PERSON_SEAL_TAG: Final = _person("bc.v1.seal-tag")
PERSON_SEAL_COEF: Final = _person("bc.v1.seal-coef")
PERSON_SEAL_POINT: Final = _person("bc.v1.seal-point")
PERSON_SEAL_WRAP: Final = _person("bc.v1.seal-wrap")
PERSON_SEAL_SETTINGS: Final = _person("bc.v1.seal-set")
PERSON_SEAL_OPRF_KEY: Final = _person("bc.v1.seal-oprf")  # server only: its OPRF key seed
SEALED_NAME_PREFIX: Final = b"backchannel.sealed-name.v1\x00"
SEALED_BODY_AD_PREFIX: Final = b"backchannel.sealed-body.v1\x00"
SEALED_WRAP_AD_PREFIX: Final = b"backchannel.sealed-wrap.v1\x00"
SEALED_SHARE_AD_PREFIX: Final = b"backchannel.sealed-share.v2\x00"  # v2: with commitments
SEALED_SELF_PREFIX: Final = b"backchannel.sealed-self.v1\x00"
SEALED_FILING_TYPE: Final = "backchannel.sealed-filing"
SEALED_FILING_SIGNATURE_CONTEXT: Final = b"backchannel.sealed-filing.v1\x00"
SEALED_SETTINGS_TYPE: Final = "backchannel.sealed-settings"
SEALED_SETTINGS_SIGNATURE_CONTEXT: Final = b"backchannel.sealed-settings.v1\x00"
SEALED_EVALUATION_AD_PREFIX: Final = b"backchannel.sealed-evaluation.v1\x00"
# Anonymous posting tokens (§38): blind issuance per circle and epoch, spent without a session.
PERSON_ANON_OPRF_KEY: Final = _person("bc.v1.anon-oprf")  # server only: its OPRF key seed
PERSON_ANON_SPENT: Final = _person("bc.v1.anon-spent")
ANON_ISSUANCE_TYPE: Final = "backchannel.anon-issuance"
ANON_ISSUANCE_SIGNATURE_CONTEXT: Final = b"backchannel.anon-issuance.v1\x00"
ANON_TOKEN_PREFIX: Final = b"backchannel.anon-token.v1\x00"
ANON_AUTHOR_TYPE: Final = "backchannel.anon-author"
ANON_AUTHOR_SIGNATURE_CONTEXT: Final = b"backchannel.anon-author-sig.v1\x00"
ANON_AUTHOR_AD_PREFIX: Final = b"backchannel.anon-author.v1\x00"
ANON_CASES_SIGNATURE_CONTEXT: Final = b"backchannel.author-cases.v1\x00"
# Web releases (§35): the signed manifest of the web client's assets and the release key.
RELEASE_TYPE: Final = "backchannel.web-release"
RELEASE_SIGNATURE_CONTEXT: Final = b"backchannel.web-release.v1\x00"
RELEASE_ROTATION_CONTEXT: Final = b"backchannel.release-key-rotation.v1\x00"
RELEASE_FINGERPRINT_PREFIX: Final = b"backchannel.release-key.v1\x00"

# A device's own files (never on the wire): the encrypted copy of synced warnings.
PERSON_LOCAL_CACHE_KEY: Final = _person("bc.v1.cache-key")
LOCAL_CACHE_AD_PREFIX: Final = b"backchannel.local-cache.v1\x00"

# Retired: labels of the server-side name index (index subkey, name tokens), removed in
# favour of matching in the client. Listed so that no new label ever reuses them.
RETIRED_PERSON_INDEX_KEY: Final = _person("bc.v1.index")
RETIRED_PERSON_NAME_TOKEN: Final = _person("bc.v1.name-token")
