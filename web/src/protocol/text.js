/**
 * The Unicode operations of §2 and §25.1 with the reference's data (Unicode 14.0.0):
 * full case folding, Python's notion of whitespace, and the classification steps of
 * name normalisation. JavaScript has NFKC and NFKD built in but no case folding and no
 * combining classes, and its engine may ship a newer Unicode version.
 */
import { ASSIGNED_RANGES, CASE_FOLD_MULTI, CASE_FOLD_RUNS } from "./unicode14.js";

const FOLD = new Map();
for (const [first, count, step, delta] of CASE_FOLD_RUNS) {
  for (let i = 0; i < count; i++) {
    FOLD.set(first + i * step, String.fromCodePoint(first + i * step + delta));
  }
}
for (const [codePoint, folded] of CASE_FOLD_MULTI) {
  FOLD.set(codePoint, folded);
}

/** Python's str.casefold(): Unicode full case folding, statuses C and F of CaseFolding.txt. */
export function casefold(text) {
  let out = "";
  for (const ch of text) {
    out += FOLD.get(ch.codePointAt(0)) ?? ch;
  }
  return out;
}

/** Whether a code point was assigned (General_Category other than Cn) in Unicode 14.0.0. */
export function assignedInUnicode14(codePoint) {
  let lo = 0;
  let hi = ASSIGNED_RANGES.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [first, last] = ASSIGNED_RANGES[mid];
    if (codePoint < first) {
      hi = mid - 1;
    } else if (codePoint > last) {
      lo = mid + 1;
    } else {
      return true;
    }
  }
  return false;
}

// Python's str.isspace() (Unicode 14.0.0): what str.strip() removes. JavaScript's trim()
// differs: it also removes U+FEFF and keeps U+001C..U+001F and U+0085.
const PYTHON_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
  0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** Python's " ".join(text.split()): whitespace runs become one space, none at the ends. */
export function collapseWhitespace(text) {
  const words = [];
  let word = "";
  for (const ch of text) {
    if (PYTHON_SPACE.has(ch.codePointAt(0))) {
      if (word !== "") {
        words.push(word);
      }
      word = "";
    } else {
      word += ch;
    }
  }
  if (word !== "") {
    words.push(word);
  }
  return words.join(" ");
}

/**
 * NFKC with the reference's Unicode 14.0.0 data: code points unassigned in 14.0.0 are left
 * as they are (as Python 3.11 leaves them), the runs between them normalised by the engine.
 * Such a code point is a starter that composes with nothing, so the runs normalise apart.
 */
export function nfkcUnicode14(text) {
  let out = "";
  let run = "";
  for (const ch of text) {
    if (assignedInUnicode14(ch.codePointAt(0))) {
      run += ch;
    } else {
      out += run.normalize("NFKC") + ch;
      run = "";
    }
  }
  return out + run.normalize("NFKC");
}

/** Python's str.strip() with no argument. */
/** Python's str.isspace() for one code point. */
export function isPythonSpace(codePoint) {
  return PYTHON_SPACE.has(codePoint);
}

export function pythonStrip(text) {
  const chars = [...text];
  let start = 0;
  let end = chars.length;
  while (start < end && PYTHON_SPACE.has(chars[start].codePointAt(0))) {
    start++;
  }
  while (end > start && PYTHON_SPACE.has(chars[end - 1].codePointAt(0))) {
    end--;
  }
  return chars.slice(start, end).join("");
}

/**
 * Canonical_Combining_Class(ch) != 0, by the canonical-ordering test of §25.1: U+0345
 * has class 240 and U+0334 class 1, so NFD reorders one of the pairs iff ch has a
 * non-zero class. Exact only for a character that is its own NFD (as everything is
 * after step 3's NFKD); a precomposed "À" would wrongly count as combining.
 */
export function hasCombiningClass(ch) {
  return `\u0345${ch}`.normalize("NFD") !== `\u0345${ch}` || `${ch}\u0334`.normalize("NFD") !== `${ch}\u0334`;
}

/** General_Category starts with P, S, Z or C (§25.1 step 6). */
export const PUNCTUATION_SYMBOL_SEPARATOR_OTHER = /^[\p{P}\p{S}\p{Z}\p{C}]$/u;

/** Length in code points, as Python's len() counts (§19.1), not UTF-16 code units. */
export function codePoints(text) {
  let count = 0;
  for (const _ of text) {
    count++;
  }
  return count;
}
