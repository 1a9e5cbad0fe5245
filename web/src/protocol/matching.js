/**
 * Matching a name against the names of a warning, in the client (§25.3), as
 * app/crypto/matching.py: exact, partial and possible levels over the rules of
 * docs/vectors/name-rules-v1.json (namerules.js is its generated copy).
 * docs/vectors/name-matches-v1.json holds the pairs both clients must answer alike.
 */
import { InvalidKey } from "./errors.js";
import { NAME_RULES } from "./namerules.js";
import { exactKeys, normaliseName, sortedWords } from "./names.js";

export const EXACT = "exact";
export const PARTIAL = "partial";
export const POSSIBLE = "possible";
export const LEVELS = [EXACT, PARTIAL, POSSIBLE];

const LATIN = /^[a-z0-9]*$/;

function latin(text) {
  return typeof text === "string" && LATIN.test(text);
}

/** The number of code points (a JavaScript string's length counts UTF-16 units). */
function codePoints(text) {
  let n = 0;
  for (const _ of text) {
    n += 1;
  }
  return n;
}

/** The transliteration table and the sound rules, validated (InvalidKey otherwise). */
export class NameRules {
  constructor(data) {
    const sounds = data?.sounds;
    const table = data?.transliteration;
    const ok =
      data?.version === 1 &&
      table !== null &&
      typeof table === "object" &&
      Object.entries(table).every(([k, v]) => codePoints(k) === 1 && latin(v)) &&
      Array.isArray(sounds?.rewrites) &&
      sounds.rewrites.every(
        (r) =>
          Array.isArray(r) &&
          r.length === 2 &&
          typeof r[0] === "string" &&
          latin(r[0].replace(/^\^/, "")) &&
          r[0].replace(/^\^/, "") !== "" &&
          latin(r[1]),
      ) &&
      latin(sounds.initial_vowels) &&
      latin(sounds.initial_vowel_becomes) &&
      sounds.initial_vowel_becomes.length === 1 &&
      latin(sounds.dropped_after_first) &&
      typeof sounds.collapse_repeats === "boolean" &&
      Number.isInteger(sounds.min_partial_length) &&
      sounds.min_partial_length >= 1;
    if (!ok) {
      throw new InvalidKey("the name rules are malformed");
    }
    this.transliteration = new Map(Object.entries(table));
    this.rewrites = sounds.rewrites.map(([from, to]) => [from, to]);
    this.initialVowels = new Set(sounds.initial_vowels);
    this.initialVowelBecomes = sounds.initial_vowel_becomes;
    this.droppedAfterFirst = new Set(sounds.dropped_after_first);
    this.collapseRepeats = sounds.collapse_repeats;
    this.minPartialLength = sounds.min_partial_length;
    Object.freeze(this);
  }

  /** A word's sound key (§25.3): transliterate, rewrite, keep the first letter, drop vowels and h after it, collapse repeats. */
  sound(word) {
    let text = "";
    for (const ch of word) {
      text += this.transliteration.get(ch) ?? ch;
    }
    for (const [from, to] of this.rewrites) {
      if (from.startsWith("^")) {
        const head = from.slice(1);
        if (text.startsWith(head)) {
          text = to + text.slice(head.length);
        }
      } else {
        text = text.replaceAll(from, to);
      }
    }
    const chars = [...text];
    if (chars.length === 0) {
      return "";
    }
    const first = this.initialVowels.has(chars[0]) ? this.initialVowelBecomes : chars[0];
    const kept = [first, ...chars.slice(1).filter((ch) => !this.droppedAfterFirst.has(ch))];
    if (!this.collapseRepeats) {
      return kept.join("");
    }
    return kept.filter((ch, i) => i === 0 || kept[i - 1] !== ch).join("");
  }
}

let loaded = null;

/** The rules of name-rules-v1.json, validated once. */
export function nameRules() {
  loaded ??= new NameRules(NAME_RULES);
  return loaded;
}

/** One name, analysed once (a client keeps these for every warning it holds). */
export class NameForms {
  constructor(words, sounds, joinedSound) {
    this.words = Object.freeze([...words]);
    this.sounds = Object.freeze([...sounds]);
    this.joinedSound = joinedSound;
    this.keys = exactKeys(this.words);
    this.soundKeys =
      this.sounds.length > 0 ? new Set([`w:${sortedWords(this.sounds).join(" ")}`, `c:${joinedSound}`]) : new Set();
    this.longWords = new Set(this.words.filter((w) => codePoints(w) > 1));
    this.longSounds = new Set(this.sounds.filter((s) => codePoints(s) > 1));
    Object.freeze(this);
  }
}

/** Analyse a name; InvalidKey if it has no letter or digit (§25.1). */
export function nameForms(name, rules = nameRules()) {
  const normal = normaliseName(name);
  if (normal === "") {
    throw new InvalidKey("a name needs at least one letter or digit");
  }
  const words = normal.split(" ");
  const sounds = words.map((w) => rules.sound(w)).filter((s) => s !== "");
  return new NameForms(words, sounds, rules.sound(words.join("")));
}

/** The same word, or an initial and a word it begins. */
function compatible(a, b) {
  return a === b || (codePoints(a) === 1 && b.startsWith(a)) || (codePoints(b) === 1 && a.startsWith(b));
}

/** Whether every word of `short` pairs with its own word of `long` (augmenting paths). */
function covers(short, long) {
  const owner = new Array(long.length).fill(-1);
  function place(i, seen) {
    for (let j = 0; j < long.length; j += 1) {
      if (!seen[j] && compatible(short[i], long[j])) {
        seen[j] = true;
        if (owner[j] < 0 || place(owner[j], seen)) {
          owner[j] = i;
          return true;
        }
      }
    }
    return false;
  }
  return short.every((_, i) => place(i, new Array(long.length).fill(false)));
}

function withoutOne(words, word) {
  const rest = [...words];
  rest.splice(rest.indexOf(word), 1);
  return rest;
}

/** One name's words all pair with words of the other, at least one a whole word of `least` letters. */
function partOf(first, second, shared, least) {
  const [short, long] = first.length <= second.length ? [first, second] : [second, first];
  // Fast refusal: every word of the shorter name needs some word of the longer to pair with.
  const present = new Set(long);
  const initials = new Set(long.filter((w) => codePoints(w) === 1));
  const firsts = new Set(long.map((w) => [...w][0]));
  const lonely = (w) => (codePoints(w) === 1 ? !firsts.has(w) : !present.has(w) && !initials.has([...w][0]));
  if (short.some(lonely)) {
    return false;
  }
  for (const word of sortedWords([...shared])) {
    if (codePoints(word) >= least && covers(withoutOne(short, word), withoutOne(long, word))) {
      return true;
    }
  }
  return false;
}

function intersect(a, b) {
  return new Set([...a].filter((x) => b.has(x)));
}

function meets(a, b) {
  for (const x of a) {
    if (b.has(x)) {
      return true;
    }
  }
  return false;
}

/** The best level at which `query` matches `name` (both NameForms), or null. */
export function matchLevel(query, name, rules = nameRules()) {
  if (meets(query.keys, name.keys)) {
    return EXACT;
  }
  const least = rules.minPartialLength;
  let shared = intersect(query.longWords, name.longWords);
  if (shared.size > 0 && partOf(query.words, name.words, shared, least)) {
    return PARTIAL;
  }
  if (meets(query.soundKeys, name.soundKeys)) {
    return POSSIBLE;
  }
  shared = intersect(query.longSounds, name.longSounds);
  if (shared.size > 0 && partOf(query.sounds, name.sounds, shared, least)) {
    return POSSIBLE;
  }
  return null;
}
