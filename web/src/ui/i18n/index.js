/**
 * The page's words in the reader's language: every sentence the web client shows is a key
 * in the catalogues next to this file (en.js, es.js, ar.js), looked up by `t(key, params)`.
 *
 * A message is text with `{name}` placeholders; a message that depends on a number is an
 * object of plural forms chosen by Intl.PluralRules on `params.count` (Arabic has six).
 * Parameters go in as text, never as HTML: `t()` returns a string (a parameter that is
 * user text must come already isolated, `isolated(x)` from text.js), and `tx()` returns
 * nodes, where a parameter may be an element such as `userText(x)`'s `<bdi dir=auto>`.
 *
 * The language follows the browser (navigator.languages) unless the reader chose one
 * with the switcher, which is kept in localStorage.
 */
import ar from "./ar.js";
import en from "./en.js";
import es from "./es.js";

export const CATALOGUES = { en, es, ar };

/** The languages offered, each named in itself (the switcher shows these names as they are). */
export const LANGUAGES = [
  ["en", "English"], // i18n-exempt: a language's own name
  ["es", "Español"], // i18n-exempt: a language's own name
  ["ar", "العربية"],
];

const RIGHT_TO_LEFT = new Set(["ar"]);
const CHOSEN = "backchannel.language";
const PLACEHOLDER = /\{(\w+)\}/g;

let current = "en";
let plurals = new Intl.PluralRules(current);

/** The first of the reader's languages we have (`es-MX` → `es`), else English. */
export function pickLanguage(preferred = [], chosen = null) {
  if (chosen && CATALOGUES[chosen]) {
    return chosen;
  }
  for (const tag of preferred) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (CATALOGUES[base]) {
      return base;
    }
  }
  return "en";
}

export function language() {
  return current;
}

export function direction(lang = current) {
  return RIGHT_TO_LEFT.has(lang) ? "rtl" : "ltr";
}

/** The locale for dates and numbers: the language, with Latin digits (fingerprints use them too). */
export function locale(lang = current) {
  return `${lang}-u-nu-latn`;
}

/** Use `lang` from now on and set `<html lang dir>`; `remember` keeps the reader's choice. */
export function setLanguage(lang, { remember = false } = {}) {
  current = CATALOGUES[lang] ? lang : "en";
  plurals = new Intl.PluralRules(current);
  if (typeof document !== "undefined") {
    document.documentElement.lang = current;
    document.documentElement.dir = direction(current);
  }
  if (remember) {
    try {
      window.localStorage.setItem(CHOSEN, current);
    } catch {
      // storage disabled: the choice lasts for this page only
    }
  }
  return current;
}

/** At start: the language chosen earlier in this browser, else the browser's own. */
export function startLanguage() {
  let chosen = null;
  try {
    chosen = window.localStorage.getItem(CHOSEN);
  } catch {
    chosen = null;
  }
  return setLanguage(pickLanguage(navigator.languages ?? [navigator.language], chosen));
}

/** The message for `key` in the current language (English if it lacks one), plural form chosen. */
export function message(key, params = {}, lang = current) {
  let found = CATALOGUES[lang]?.[key] ?? en[key];
  if (found === undefined) {
    return key;
  }
  if (typeof found === "object") {
    const rules = lang === current ? plurals : new Intl.PluralRules(lang);
    found = found[rules.select(Number(params.count))] ?? found.other;
  }
  return found;
}

/** The message as one string; every parameter goes in as text (String()). */
export function t(key, params = {}) {
  return message(key, params).replace(PLACEHOLDER, (whole, name) =>
    name in params ? String(params[name]) : whole,
  );
}

/** The message as a list of children for `h()`: text, with element parameters kept as elements. */
export function tx(key, params = {}) {
  const parts = message(key, params).split(PLACEHOLDER);
  // split() with a group gives text, name, text, name, …, text.
  return parts
    .map((part, i) => {
      if (i % 2 === 0) {
        return part;
      }
      return part in params ? params[part] : `{${part}}`;
    })
    .filter((part) => part !== "");
}

/** The placeholders a message (every plural form of it) uses. */
export function placeholders(value) {
  const forms = typeof value === "object" ? Object.values(value) : [value];
  const names = new Set();
  for (const form of forms) {
    for (const match of form.matchAll(PLACEHOLDER)) {
      names.add(match[1]);
    }
  }
  return names;
}
