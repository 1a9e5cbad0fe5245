/**
 * Name normalisation and name tokens (§25): what "check a name" runs on.
 *
 * The reference uses the Unicode 14.0.0 data of Python 3.11. This module gets the same
 * result from a JavaScript engine with newer data by first turning every code point
 * unassigned in 14.0.0 into a space (as the reference's step 6 does to them, category
 * Cn), and by taking case folding from the 14.0.0 table in unicode14.js.
 */
import { InvalidKey } from "./errors.js";
import { compareBytes, utf8 } from "./encoding.js";
import { blake2b, requireSize } from "./hash.js";
import * as labels from "./labels.js";
import { PUNCTUATION_SYMBOL_SEPARATOR_OTHER, assignedInUnicode14, casefold, hasCombiningClass } from "./text.js";

// §25.1 step 5, applied once: replacements are not looked up again.
const FOLD = new Map([
  ["\u00f8", "o"],
  ["\u0142", "l"],
  ["\u0111", "d"],
  ["\u00f0", "d"],
  ["\u00e6", "ae"],
  ["\u0153", "oe"],
  ["\u00fe", "th"],
  ["\u0131", "i"],
  ["\u0127", "h"],
  ["\u0167", "t"],
]);

/** normalise(text) of §25.1: "Jan Novák", "JAN NOVAK" and " jan  novak " are "jan novak". */
export function normaliseName(text) {
  if (typeof text !== "string") {
    throw new InvalidKey("a name is a string");
  }
  let unicode14 = "";
  for (const ch of text) {
    unicode14 += assignedInUnicode14(ch.codePointAt(0)) ? ch : " ";
  }
  const decomposed = casefold(unicode14.normalize("NFKC")).normalize("NFKD");
  let spaced = "";
  for (const ch of decomposed) {
    if (hasCombiningClass(ch)) {
      continue;
    }
    for (const folded of FOLD.get(ch) ?? ch) {
      spaced += PUNCTUATION_SYMBOL_SEPARATOR_OTHER.test(folded) ? " " : folded;
    }
  }
  return spaced
    .split(" ")
    .filter((word) => word !== "")
    .join(" ");
}

/** token = keyed BLAKE2b-256 of UTF-8(normalise(name)) under an epoch's index_key (§25.2). */
export function nameToken(indexKey, name) {
  requireSize(indexKey, 32, "an index key");
  const normal = normaliseName(name);
  if (normal === "") {
    throw new InvalidKey("a name needs at least one letter or digit");
  }
  return blake2b(utf8(normal), { size: 32, key: indexKey, personal: labels.PERSON_NAME_TOKEN });
}

/** Posting (§25.2): the tokens of the subject and every alias under one epoch key, unique, sorted by bytes. */
export function postingTokens(key, names) {
  const unique = new Map();
  for (const name of names) {
    const token = nameToken(key.indexKey, name);
    unique.set(token.join(","), token);
  }
  return [...unique.values()].sort(compareBytes);
}

/** Checking (§25.2): the name's token under every epoch key the member holds. */
export function checkTokens(keys, name) {
  return keys.map((key) => nameToken(key.indexKey, name));
}
