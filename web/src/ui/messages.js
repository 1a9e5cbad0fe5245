/**
 * Every failure in plain words: the server's stable error codes (docs/api.md) and the
 * SDK's protocol codes (docs/protocol.md §17, §27) mapped to what a person can do next.
 * Never a stack trace; unknown server errors show the server's message, which is
 * written for people.
 */
import { ApiError, ClientError, ProtocolError } from "../client/errors.js";
import { visible } from "./text.js";

const PLAIN = {
  invalid_credentials: "That username and passphrase do not match an account.",
  username_taken: "That username is taken. Choose another one.",
  not_authenticated: "Your session has ended. Log in again.",
  weak_passphrase: null, // the SDK's own message says what is needed
  common_passphrase: null,
  passphrase_contains_username: null,
  bad_username: "Usernames are 2 to 32 characters: letters a–z, digits, and . _ - (starting with a letter or digit).",
  server_unreachable: "The server cannot be reached. Check your connection and try again.",
  server_busy: "The server is busy right now. Try again in a few seconds.",
  payload_too_large: "That is too long to send. Shorten the text and try again.",
  invite_not_found: "This invite is not valid. Ask for a new one (copy the whole link).",
  invite_expired: "This invite has expired. Ask for a new one.",
  invite_revoked: "This invite was withdrawn by an admin. Ask for a new one.",
  invite_used_up: "This invite has already been used. Ask for a new one.",
  already_member: "You are already in this circle (or waiting to be confirmed).",
  bad_invite: "That is not an invite. Paste the whole link or invite text, exactly as you received it.",
  circle_not_found: "That circle does not exist, or you are not in it.",
  circle_deleted: "This circle was deleted by an owner. My circles says who deleted it.",
  owner_required: "Only an owner can do that.",
  membership_pending: "An admin has not confirmed you yet. Read them your fingerprint and wait.",
  not_a_member: "You are no longer a member of this circle.",
  admin_required: "Only the circle's admins can do that.",
  circle_changed: "Someone else changed the circle at the same moment. Try again.",
  member_set_mismatch: "The member list changed while you were acting. Try again.",
  rotation_due: "Someone left; the circle key must be renewed first. Try again.",
  last_owner: "A circle needs at least one owner. Make someone else an owner first (or delete the circle).",
  departure_required: "Leaving needs your signed departure. Reload the page and try again.",
  wrong_member_state: "That person is not in a state where this applies.",
  stale_epoch: "The circle key changed while you were writing. Send it again.",
  entry_gone: "That warning was retracted, removed or has expired.",
  entry_not_found: "That warning does not exist in this circle.",
  not_author: "Only the person who posted a warning can retract it.",
  already_corroborated: "You have already added to this warning.",
  self_corroboration: "This is your own warning: only other members can corroborate it.",
  bad_expiry: "A warning lives 1 to 3650 days.",
  bad_terms_signature: "The warning's expiry was not signed as sent; try again.",
  bad_terms: "The server shows a warning with an expiry its author did not sign.",
  already_reported: "You have already reported this warning.",
  not_pending: "That person is no longer waiting to be confirmed.",
  fingerprint_mismatch:
    "The fingerprint you typed is not this person's. Do not confirm: ask them again, in person or by a call you trust.",
  not_confirmed: "Compare the fingerprint with the person first, then tick the box.",
  bad_category: null,
  bad_severity: null,
  bad_month: null,
  bad_name: null,
  too_long: null,
  takedown_link_invalid: "This takedown link is not valid for any circle.",
  receipt_not_found: "No request matches this receipt.",
};

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
    if (SECURITY.has(error.code)) {
      return {
        security: true,
        title: "Security check failed",
        text:
          "The server's answer did not verify, so nothing from it was used. " +
          `This can mean the server or the network is tampering with your data. (${visible(error.code)}: ${visible(error.message)})`,
      };
    }
    let text = PLAIN[error.code] ?? error.message;
    if (error instanceof ApiError && error.code === "rate_limited") {
      const wait = error.retryAfter ?? 60;
      text = `Too many attempts. Wait ${wait} second${wait === 1 ? "" : "s"} and try again.`;
    } else if (error instanceof ApiError && PLAIN[error.code] === undefined) {
      text = `${visible(error.message)} (${visible(error.code)})`;
    } else if (error instanceof ProtocolError && PLAIN[error.code] === undefined) {
      text = `${visible(error.message)} (${visible(error.code)})`;
    }
    return { security: false, title: "That did not work", text };
  }
  return {
    security: false,
    title: "Something went wrong in this page",
    text: `${error?.message ?? String(error)}. Reload the page and try again.`,
  };
}
