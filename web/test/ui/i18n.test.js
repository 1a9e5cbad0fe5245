// The message catalogues (web/src/ui/i18n): every language complete, placeholders alike,
// every key the code asks for present, and no sentence left in the UI code itself.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

import { CATALOGUES, LANGUAGES, message, pickLanguage, placeholders, setLanguage, t, tx } from "../../src/ui/i18n/index.js";

const UI = new URL("../../src/ui/", import.meta.url);
const en = CATALOGUES.en;

function uiSources() {
  return readdirSync(UI)
    .filter((name) => name.endsWith(".js"))
    .map((name) => [name, readFileSync(new URL(name, UI), "utf8")]);
}

/**
 * The string literals of a JavaScript source, with their line numbers: quotes and template
 * literals (each `${…}` replaced by "X"), comments and regular expressions skipped.
 */
export function literals(source) {
  const found = [];
  let i = 0;
  let line = 1;
  let last = ""; // the last significant character, to tell a regex from a division
  const advance = (n = 1) => {
    for (let k = 0; k < n; k += 1) {
      if (source[i] === "\n") {
        line += 1;
      }
      i += 1;
    }
  };
  const readQuoted = (quote) => {
    const at = line;
    let text = "";
    advance();
    while (i < source.length && source[i] !== quote) {
      if (source[i] === "\\") {
        text += source[i + 1] === "u" || source[i + 1] === "x" ? "~" : source[i + 1]; // an escape, not a word
        advance(2);
      } else {
        text += source[i];
        advance();
      }
    }
    advance();
    return { text, line: at };
  };
  const readTemplate = () => {
    const at = line;
    let text = "";
    advance();
    while (i < source.length && source[i] !== "`") {
      if (source[i] === "\\") {
        text += source[i + 1] === "u" || source[i + 1] === "x" ? "~" : source[i + 1]; // an escape, not a word
        advance(2);
      } else if (source[i] === "$" && source[i + 1] === "{") {
        advance(2);
        let depth = 1;
        do {
          if (source[i] === "{") {
            depth += 1;
          } else if (source[i] === "}") {
            depth -= 1;
          } else if (source[i] === '"' || source[i] === "'") {
            found.push(readQuoted(source[i]));
            continue;
          } else if (source[i] === "`") {
            found.push(readTemplate());
            continue;
          }
          advance();
        } while (i < source.length && depth > 0);
        text += "X";
      } else {
        text += source[i];
        advance();
      }
    }
    advance();
    return { text, line: at };
  };
  while (i < source.length) {
    const c = source[i];
    if (c === "/" && source[i + 1] === "/") {
      while (i < source.length && source[i] !== "\n") {
        advance();
      }
    } else if (c === "/" && source[i + 1] === "*") {
      while (i < source.length && !(source[i] === "*" && source[i + 1] === "/")) {
        advance();
      }
      advance(2);
    } else if (c === '"' || c === "'") {
      found.push(readQuoted(c));
      last = c;
    } else if (c === "`") {
      found.push(readTemplate());
      last = c;
    } else if (c === "/" && (last === "" || "(,=:[!&|?{};+".includes(last))) {
      advance();
      let inClass = false;
      while (i < source.length && (source[i] !== "/" || inClass)) {
        if (source[i] === "\\") {
          advance();
        } else if (source[i] === "[") {
          inClass = true;
        } else if (source[i] === "]") {
          inClass = false;
        }
        advance();
      }
      advance();
      last = "/";
    } else {
      if (!/\s/.test(c)) {
        last = c;
      }
      advance();
    }
  }
  return found;
}

/** Lines a comment exempts: `i18n-exempt` on the line, or between `i18n-exempt-begin` and `-end`. */
function exemptLines(source) {
  const exempt = new Set();
  let inside = false;
  source.split("\n").forEach((text, index) => {
    if (text.includes("i18n-exempt-begin")) {
      inside = true;
    }
    if (inside || /i18n-exempt\b(?!-)/.test(text)) {
      exempt.add(index + 1);
    }
    if (text.includes("i18n-exempt-end")) {
      inside = false;
    }
  });
  return exempt;
}

const CSS_CLASSES = new Set(readFileSync(new URL("styles.css", UI), "utf8").match(/(?<=\.)[a-z][a-z0-9-]*/g));

/**
 * Whether a literal reads as words for people: a capitalised word, an ellipsis or quotes,
 * punctuation after a word, or several lower-case words that are not a list of CSS classes.
 */
function userFacing(text) {
  if (!/\p{L}{2}/u.test(text)) {
    return false;
  }
  if (/(^|[^A-Za-z])[A-Z][a-z]/.test(text) || /[…“”]/.test(text)) {
    return true;
  }
  if (/[a-z]{2,}[.,:;?!]( |$)/.test(text) && !/^[\w.-]+$/.test(text)) {
    return true;
  }
  const words = text.trim().split(/\s+/).filter(Boolean);
  return words.length > 1 && words.every((w) => /^[a-z]+$/.test(w)) && !words.some((w) => CSS_CLASSES.has(w));
}

test("every language has every key, with the same placeholders and plural shape", () => {
  for (const [lang, catalogue] of Object.entries(CATALOGUES)) {
    assert.deepEqual(Object.keys(catalogue).sort(), Object.keys(en).sort(), `${lang}: keys differ from en`);
    const rules = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
    for (const [key, value] of Object.entries(en)) {
      const theirs = catalogue[key];
      assert.equal(typeof theirs, typeof value, `${lang} ${key}: plural or not, as in en`);
      if (typeof value === "object") {
        for (const category of rules) {
          assert.ok(typeof theirs[category] === "string", `${lang} ${key}: no "${category}" form`);
        }
        assert.ok(theirs.other.includes("{count}"), `${lang} ${key}: the "other" form shows the count`);
        const mine = placeholders(value);
        mine.delete("count");
        const other = placeholders(theirs);
        other.delete("count");
        assert.deepEqual([...other].sort(), [...mine].sort(), `${lang} ${key}: placeholders differ`);
      } else {
        assert.ok(theirs.trim() !== "", `${lang} ${key}: empty`);
        assert.deepEqual([...placeholders(theirs)].sort(), [...placeholders(value)].sort(), `${lang} ${key}: placeholders differ`);
      }
    }
  }
});

test("the switcher offers every catalogue, each named in its own language", () => {
  assert.deepEqual(LANGUAGES.map(([code]) => code).sort(), Object.keys(CATALOGUES).sort());
});

test("every key the code asks for exists in English", () => {
  const keys = new Set(Object.keys(en));
  const prefixes = [...keys].map((key) => key);
  for (const [name, source] of uiSources()) {
    for (const match of source.matchAll(/\bt[x]?\(\s*"([^"]+)"/g)) {
      assert.ok(keys.has(match[1]), `${name}: t("${match[1]}") is not in en.js`);
    }
    for (const match of source.matchAll(/\bt[x]?\(\s*`([^`$]*)\$\{/g)) {
      assert.ok(prefixes.some((key) => key.startsWith(match[1])), `${name}: no key starts with "${match[1]}"`);
    }
  }
  for (const match of readFileSync(new URL("index.html", UI), "utf8").matchAll(/data-i18n(?:-aria-label)?="([^"]+)"/g)) {
    assert.ok(keys.has(match[1]), `index.html: ${match[1]} is not in en.js`);
  }
});

test("no sentence is left in the UI code: every one is in the catalogues", () => {
  const left = [];
  for (const [name, source] of uiSources()) {
    const exempt = exemptLines(source);
    for (const { text, line } of literals(source)) {
      if (!exempt.has(line) && userFacing(text)) {
        left.push(`${name}:${line}: ${JSON.stringify(text)}`);
      }
    }
  }
  assert.deepEqual(left, []);
});

test("the lint sees what it must: sentences, labels, fragments in templates", () => {
  const source = [
    'h("p", {}, "Loading…");',
    'const a = `You are ${role}`;',
    "b.textContent = 'Refresh';",
    'x = "an unknown system";',
    'y = "secondary danger"; // CSS classes',
    "z = /Edg\\//.test(s) ? 'Edge' : null; // i18n-exempt: a product",
    "// a comment with Words in it",
  ].join("\n");
  const exempt = exemptLines(source);
  const flagged = literals(source).filter(({ text, line }) => !exempt.has(line) && userFacing(text)).map(({ text }) => text);
  assert.deepEqual(flagged, ["Loading…", "You are X", "Refresh", "an unknown system"]);
});

test("index.html: every word on the page is marked for translation", () => {
  const html = readFileSync(new URL("index.html", UI), "utf8");
  const body = html.slice(html.indexOf("<body>"));
  for (const match of body.matchAll(/<(\w+)([^>]*)>([^<]*[A-Za-z][^<]*)</g)) {
    assert.match(match[2], /data-i18n="/, `<${match[1]}> "${match[3].trim()}" has no data-i18n`);
  }
  for (const match of body.matchAll(/aria-label="[^"]*"([^>]*)/g)) {
    assert.match(match[1], /data-i18n-aria-label="/, `aria-label without data-i18n-aria-label: ${match[0]}`);
  }
});

test("placeholders are filled as text, plural forms chosen by the language's rules", () => {
  setLanguage("en");
  assert.equal(t("circle.member_count", { count: 1 }), "1 member");
  assert.equal(t("circle.member_count", { count: 2 }), "2 members");
  assert.equal(t("home.created", { name: "<b>x</b>" }), "Created “<b>x</b>”. Invite people with a link.");
  const node = { element: true };
  assert.deepEqual(tx("bar.signed_in_as", { name: node }), ["Signed in as ", node]);
  assert.equal(t("no.such.key"), "no.such.key");
  assert.equal(message("common.dismiss", {}, "xx"), "Dismiss");
  setLanguage("ar");
  const forms = [0, 1, 2, 3, 11, 100].map((count) => t("circle.member_count", { count }));
  assert.deepEqual(forms, ["لا أعضاء", "عضو واحد", "عضوان", "3 أعضاء", "11 عضوًا", "100 عضو"]);
  setLanguage("es");
  assert.equal(t("account.sessions_ended", { count: 1 }), "Se cerró 1 sesión.");
  setLanguage("en");
});

test("the language follows the browser unless the reader chose one", () => {
  assert.equal(pickLanguage(["de-DE", "en-GB"]), "en");
  assert.equal(pickLanguage(["de-DE"]), "en");
  assert.equal(pickLanguage([], "xx"), "en");
  for (const lang of Object.keys(CATALOGUES)) {
    assert.equal(pickLanguage([`${lang}-XX`]), lang);
    assert.equal(pickLanguage(["en-US"], lang), lang);
  }
});
