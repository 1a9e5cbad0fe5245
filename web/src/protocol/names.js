/**
 * Name normalisation (§25.1) and the exact form of a name (§25.2), as app/crypto/names.py.
 * The looser levels of a check (partial, possible) are in matching.js.
 *
 * The reference uses the Unicode 14.0.0 data of Python 3.11. This module gets the same
 * result from a JavaScript engine with newer data by first turning every code point
 * unassigned in 14.0.0 into a space (as the reference's step 6 does to them, category
 * Cn), and by taking case folding from the 14.0.0 table in unicode14.js.
 */
import { InvalidKey } from "./errors.js";
import { compareBytes, utf8 } from "./encoding.js";
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

/** Words sorted by code point (UTF-8 byte order is code point order; UTF-16 is not). */
export function sortedWords(words) {
  return words
    .map((word) => [utf8(word), word])
    .sort((a, b) => compareBytes(a[0], b[0]))
    .map(([, word]) => word);
}

/**
 * exact_keys(name) of §25.2, for a name (a string) or its normalised words (an array): two
 * names match exactly when they share one. InvalidKey for a text with no letter or digit.
 */
export function exactKeys(name) {
  const words = typeof name === "string" ? normaliseName(name).split(" ") : [...name];
  if (words.length === 0 || words.some((word) => word === "")) {
    throw new InvalidKey("a name needs at least one letter or digit");
  }
  return new Set([`w:${sortedWords(words).join(" ")}`, `c:${words.join("")}`]);
}
