/**
 * Which passphrases the page lets a user set (docs/protocol.md §3.1, ASVS 6.2), as
 * app/client/passphrase.py: the same rule, the same list file (served by app/web.py at
 * COMMON_PASSPHRASES_PATH from app/client/data/common-passphrases.txt).
 */
import { casefold, codePoints, collapseWhitespace, nfkcUnicode14 } from "../protocol/text.js";
import { CommonPassphrase, PassphraseContainsUsername, WeakPassphrase } from "./errors.js";

export const MIN_PASSPHRASE_LENGTH = 12;
export const MAX_PASSPHRASE_LENGTH = 1024;
// A context word refused anywhere in a passphrase, not only as the whole of it.
export const PRODUCT_NAME = "backchannel";
// Shorter usernames ("al", "jo") sit inside too many ordinary words to refuse them there.
export const MIN_USERNAME_REFUSED_INSIDE = 3;
export const COMMON_PASSPHRASES_PATH = "/static/data/common-passphrases.txt";

/** NFKC, casefold, whitespace collapsed: only compared with the list, never derived from. */
export function normaliseForCheck(passphrase) {
  return collapseWhitespace(casefold(nfkcUnicode14(passphrase)));
}

/** The list file's entries: every line that is neither empty nor a # comment. */
export function parseCommonPassphrases(text) {
  return new Set(text.split("\n").filter((line) => line !== "" && !line.startsWith("#")));
}

/**
 * Refuse a passphrase a guesser tries early, before any key is derived from it.
 * `username` is canonical (normaliseUsername); `common` is parseCommonPassphrases' Set.
 */
export function checkPassphrase(passphrase, { username, common }) {
  const n = codePoints(passphrase);
  if (n < MIN_PASSPHRASE_LENGTH || n > MAX_PASSPHRASE_LENGTH) {
    throw new WeakPassphrase(
      `A passphrase needs at least ${MIN_PASSPHRASE_LENGTH} characters (several unrelated words work well).`,
    );
  }
  const normal = normaliseForCheck(passphrase);
  if (normal === "" || common.has(normal)) {
    throw new CommonPassphrase(
      "This passphrase is on the list of common and breached passphrases that attackers try first. Choose several unrelated words.",
    );
  }
  if (normal.includes(PRODUCT_NAME)) {
    throw new CommonPassphrase(`A passphrase must not contain the name of this service (“${PRODUCT_NAME}”).`);
  }
  if (codePoints(username) >= MIN_USERNAME_REFUSED_INSIDE && normal.includes(username)) {
    throw new PassphraseContainsUsername("A passphrase must not contain your username.");
  }
}
