/**
 * Every protocol label in one place, copied from the label tables of docs/protocol.md
 * (§1, §8, §18, §28, §34), so that the spec and this code can be compared line by line.
 *
 * BLAKE2b personalisations are P(label): the ASCII label padded with zero bytes to
 * exactly 16 bytes. Associated-data prefixes and signature contexts end in one zero byte.
 */

function person(label) {
  if (!/^[\x21-\x7e]{1,16}$/.test(label)) {
    throw new Error(`personalisation ${label} is not 1..16 ASCII characters`);
  }
  const out = new Uint8Array(16);
  out.set(new TextEncoder().encode(label));
  return out;
}

function context(label) {
  return new TextEncoder().encode(`${label}\0`);
}

// §1 accounts
export const PERSON_AUTH_KEY = person("bc.v1.auth");
export const PERSON_WRAP_KEY = person("bc.v1.wrap");
export const PERSON_RECOVERY_KEY = person("bc.v1.recovery");
export const PERSON_RECOVERY_AUTH = person("bc.v1.recov-auth");
export const PERSON_FINGERPRINT = person("bc.v1.fingerprnt");
export const IDENTITY_SIGNATURE_CONTEXT = context("backchannel.identity.v1");
export const KEY_BUNDLE_AD_PREFIX = context("backchannel.keybundle.v1");
export const KEY_BUNDLE_VERSION = 1;
export const BUNDLE_PURPOSE_PASSPHRASE = "passphrase";
export const BUNDLE_PURPOSE_RECOVERY = "recovery";
export const KDF_ALGORITHM = "argon2id13";

// §8 circles
export const PERSON_KEY_ID = person("bc.v1.key-id");
export const PERSON_ENTRY_KEY = person("bc.v1.entry");
export const PERSON_META_KEY = person("bc.v1.meta");
export const PERSON_RECORD_HASH = person("bc.v1.record");
export const PERSON_EVENT_HASH = person("bc.v1.event");
export const PERSON_INVITE_HASH = person("bc.v1.invite");
export const KEY_RECORD_TYPE = "backchannel.key-record";
export const KEY_RECORD_VERSION = 1;
export const KEY_RECORD_SIGNATURE_CONTEXT = context("backchannel.key-record.v1");
export const WRAP_PREFIX = context("backchannel.wrap.v1");
export const PREV_KEY_AD_PREFIX = context("backchannel.prev-key.v1");
export const CIRCLE_META_AD_PREFIX = context("backchannel.circle-meta.v1");
export const INVITE_PREFIX = "bcinvite1";
export const LEAVE_TYPE = "backchannel.leave";
export const LEAVE_SIGNATURE_CONTEXT = context("backchannel.leave.v1");
export const CIRCLE_DELETE_TYPE = "backchannel.circle-delete";
export const CIRCLE_DELETE_SIGNATURE_CONTEXT = context("backchannel.circle-delete.v1");

// §18 warnings
export const PERSON_FRANKING = person("bc.v1.franking");
export const PERSON_ANON_ENTRY = person("bc.v1.anon-key");
export const PERSON_AUTHOR_TAG = person("bc.v1.author-tag");
export const ENTRY_AD_PREFIX = context("backchannel.entry.v1");
export const CORROBORATION_AD_PREFIX = context("backchannel.corroboration.v1");
export const ENVELOPE_SIGNATURE_CONTEXT = context("backchannel.envelope-sig.v1");
export const RETRACT_SIGNATURE_CONTEXT = context("backchannel.retract.v1");
export const TERMS_SIGNATURE_CONTEXT = context("backchannel.entry-terms.v1");
export const ENTRY_PAYLOAD_VERSION = 1;

// §28 moderation and the audit log
export const PERSON_MODKEY_HASH = person("bc.v1.modkey");
export const PERSON_MODKEY_BOX = person("bc.v1.modkey-box");
export const PERSON_CASE_HASH = person("bc.v1.case");
export const PERSON_MOD_BLOB = person("bc.v1.mod-blob");
export const PERSON_DECISION_HASH = person("bc.v1.decision");
export const PERSON_RECEIPT_TOKEN = person("bc.v1.rcpt-token");
export const PERSON_RECEIPT_KEY = person("bc.v1.rcpt-key");
export const MODKEY_TYPE = "backchannel.moderation-key";
export const MODKEY_SIGNATURE_CONTEXT = context("backchannel.moderation-key.v1");
export const MODKEY_WRAP_PREFIX = context("backchannel.modkey-wrap.v1");
export const MODKEY_PREV_AD_PREFIX = context("backchannel.modkey-prev.v1");
export const REPORT_AD_PREFIX = context("backchannel.report.v1");
export const REPORT_SIGNATURE_CONTEXT = context("backchannel.report-sig.v1");
export const TAKEDOWN_AD_PREFIX = context("backchannel.takedown.v1");
export const TAKEDOWN_RESPONSE_AD_PREFIX = context("backchannel.takedown-response.v1");
export const DECISION_NOTE_AD_PREFIX = context("backchannel.decision-note.v1");
export const DECISION_TYPE = "backchannel.decision";
export const DECISION_SIGNATURE_CONTEXT = context("backchannel.decision.v1");
export const TAKEDOWN_LINK_PREFIX = "bctakedown1";
export const RECEIPT_PREFIX = "bcreceipt1";
export const PERSON_PROOF_SEED = person("bc.v1.proof-seed");
export const PROOF_ARGON2_SALT = person("bc.v1.takedn-pow"); // Argon2id's 16 salt bytes, unpadded
export const TREE_HEAD_TYPE = "backchannel.tree-head";
export const TREE_HEAD_SIGNATURE_CONTEXT = context("backchannel.tree-head.v1");
export const SIGNING_KEY_SUCCESSION_CONTEXT = context("backchannel.server-key-succession.v1");
// Written in app/crypto/moderation.py itself, not in labels.py (§28).
export const REPORT_TYPE = "backchannel.report";
export const TAKEDOWN_TYPE = "backchannel.takedown";
// Server only, never on the wire; listed (as in §28) so that no two labels collide.
export const PERSON_SIGNING_SEAL = person("bc.v1.sign-seal");
export const PERSON_PROOF_CHALLENGE = person("bc.v1.proof-chal");
export const SIGNING_SEED_AD_PREFIX = context("backchannel.server-signing-seed.v1");

// §34 VOPRF (RFC 9497, ristretto255-SHA512): the RFC's own strings, without a terminator.
const rfc = (text) => new TextEncoder().encode(text);
export const OPRF_CONTEXT_VERSION = rfc("OPRFV1-");
export const OPRF_SUITE = rfc("ristretto255-SHA512");
export const OPRF_HASH_TO_GROUP_DST = rfc("HashToGroup-");
export const OPRF_HASH_TO_SCALAR_DST = rfc("HashToScalar-");
export const OPRF_DERIVE_KEY_PAIR_DST = rfc("DeriveKeyPair");
export const OPRF_SEED_DST = rfc("Seed-");
export const OPRF_FINALIZE_LABEL = rfc("Finalize");
export const OPRF_CHALLENGE_LABEL = rfc("Challenge");
export const OPRF_COMPOSITE_LABEL = rfc("Composite");

// §36 sealed warnings.
export const PERSON_SEAL_SECRET = person("bc.v1.seal-root");
export const PERSON_SEAL_VALUE = person("bc.v1.seal-value");
export const PERSON_SEAL_TAG = person("bc.v1.seal-tag");
export const PERSON_SEAL_COEF = person("bc.v1.seal-coef");
export const PERSON_SEAL_POINT = person("bc.v1.seal-point");
export const PERSON_SEAL_WRAP = person("bc.v1.seal-wrap");
export const PERSON_SEAL_SETTINGS = person("bc.v1.seal-set");
export const PERSON_SEAL_OPRF_KEY = person("bc.v1.seal-oprf"); // server only: its OPRF key seed
export const SEALED_NAME_PREFIX = context("backchannel.sealed-name.v1");
export const SEALED_BODY_AD_PREFIX = context("backchannel.sealed-body.v1");
export const SEALED_WRAP_AD_PREFIX = context("backchannel.sealed-wrap.v1");
export const SEALED_SHARE_AD_PREFIX = context("backchannel.sealed-share.v2"); // v2: with commitments
export const SEALED_SELF_PREFIX = context("backchannel.sealed-self.v1");
export const SEALED_FILING_TYPE = "backchannel.sealed-filing";
export const SEALED_FILING_SIGNATURE_CONTEXT = context("backchannel.sealed-filing.v1");
export const SEALED_SETTINGS_TYPE = "backchannel.sealed-settings";
export const SEALED_SETTINGS_SIGNATURE_CONTEXT = context("backchannel.sealed-settings.v1");
export const SEALED_EVALUATION_AD_PREFIX = context("backchannel.sealed-evaluation.v1");
// §38 anonymous posting tokens.
export const PERSON_ANON_OPRF_KEY = person("bc.v1.anon-oprf"); // server only: its OPRF key seed
export const PERSON_ANON_SPENT = person("bc.v1.anon-spent");
export const ANON_ISSUANCE_TYPE = "backchannel.anon-issuance";
export const ANON_ISSUANCE_SIGNATURE_CONTEXT = context("backchannel.anon-issuance.v1");
export const ANON_TOKEN_PREFIX = context("backchannel.anon-token.v1");
export const ANON_AUTHOR_TYPE = "backchannel.anon-author";
export const ANON_AUTHOR_SIGNATURE_CONTEXT = context("backchannel.anon-author-sig.v1");
export const ANON_AUTHOR_AD_PREFIX = context("backchannel.anon-author.v1");
export const ANON_CASES_SIGNATURE_CONTEXT = context("backchannel.author-cases.v1");
// §35 web releases (SHA-256 and Ed25519 only, so the service worker needs only WebCrypto)
export const RELEASE_TYPE = "backchannel.web-release";
export const RELEASE_SIGNATURE_CONTEXT = context("backchannel.web-release.v1");
export const RELEASE_ROTATION_CONTEXT = context("backchannel.release-key-rotation.v1");
export const RELEASE_FINGERPRINT_PREFIX = context("backchannel.release-key.v1");

// Retired: the server-side name index (its subkey and tokens) is gone (§25); listed so that
// no new label reuses them.
export const RETIRED_PERSON_INDEX_KEY = person("bc.v1.index");
export const RETIRED_PERSON_NAME_TOKEN = person("bc.v1.name-token");
