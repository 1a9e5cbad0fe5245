/**
 * Every failure in plain words: the server's stable error codes (docs/api.md) and the
 * SDK's protocol codes (docs/protocol.md §17, §27) mapped to what a person can do next.
 * Never a stack trace; unknown server errors show the server's message, which is
 * written for people.
 */
import { ApiError, AuditFailure, ClientError, ProtocolError } from "../client/errors.js";
import { MIN_PASSPHRASE_LENGTH } from "../client/passphrase.js";
import { t } from "./i18n/index.js";
import { isolated } from "./text.js";

/** Codes with their own words in the catalogues (`error.<code>`). */
const PLAIN = new Set([
  "invalid_credentials",
  "username_taken",
  "not_authenticated",
  "weak_passphrase",
  "common_passphrase",
  "passphrase_contains_username",
  "bad_username",
  "server_unreachable",
  "server_busy",
  "payload_too_large",
  "invite_not_found",
  "invite_expired",
  "invite_revoked",
  "invite_used_up",
  "already_member",
  "bad_invite",
  "circle_not_found",
  "circle_deleted",
  "owner_required",
  "membership_pending",
  "not_a_member",
  "admin_required",
  "circle_changed",
  "member_set_mismatch",
  "rotation_due",
  "last_owner",
  "departure_required",
  "wrong_member_state",
  "stale_epoch",
  "entry_gone",
  "entry_not_found",
  "not_author",
  "already_corroborated",
  "self_corroboration",
  "bad_expiry",
  "bad_terms_signature",
  "bad_terms",
  "already_reported",
  "not_pending",
  "fingerprint_mismatch",
  "not_confirmed",
  "bad_category",
  "bad_severity",
  "bad_month",
  "bad_name",
  "too_long",
  "takedown_link_invalid",
  "receipt_not_found",
]);

/** Codes meaning the server's data failed a cryptographic check: shown loudly. */
const SECURITY = new Set([
  "bad_signature",
  "untrusted_signer",
  "wrong_epoch",
  "broken_chain",
  "decryption_failed",
  "invalid_data",
  "rollback",
  "fork",
  "untrusted_circle",
  "not_in_record",
  "bad_identity",
  "inviter_mismatch",
  "bad_role",
  "member_key_changed",
  "unsigned_departure",
  "removal_not_applied",
  "author_leak",
  "author_mismatch",
  "unknown_author",
  "bad_page",
  "wrong_account",
  "bad_key_bundle",
  "key_mismatch",
  "weak_kdf_params",
  "bad_salt",
  "missing_key",
  "reveal_mismatch",
  "case_changed",
]);

/** {title, text, security} for an error, in plain words. */
export function describe(error) {
  if (error instanceof ClientError) {
    if (SECURITY.has(error.code) || error instanceof AuditFailure) {
      return {
        security: true,
        title: t("error.security_title"),
        text: t("error.security_text", { code: isolated(error.code), message: isolated(error.message) }),
      };
    }
    let text = PLAIN.has(error.code) ? t(`error.${error.code}`, { min: MIN_PASSPHRASE_LENGTH }) : error.message;
    if (error instanceof ApiError && error.code === "rate_limited") {
      const wait = error.retryAfter ?? 60;
      text = t("error.rate_limited", { count: wait });
    } else if ((error instanceof ApiError || error instanceof ProtocolError) && !PLAIN.has(error.code)) {
      text = t("error.other", { message: isolated(error.message), code: isolated(error.code) });
    }
    return { security: false, title: t("error.title"), text };
  }
  return {
    security: false,
    title: t("error.page_title"),
    text: t("error.page_text", { message: error?.message ?? String(error) }),
  };
}
