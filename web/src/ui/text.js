/**
 * The one way the web client shows user text (anything another person, or the server,
 * wrote): the same rules as the terminal's (app/client/cli/output.py; docs/api.md, "How
 * user text is shown"). Control characters, escape sequences and bidi controls are
 * written out visibly (ESC is `\x1b`, U+202E is `<U+202E>`); every other character is
 * shown as written; each string sits in its own `<bdi dir="auto">`, put there through
 * textContent (never HTML), so it cannot reorder what is around it.
 */

// C0 (but the line feed, which multi-line fields keep), DEL, C1; the bidi embeddings,
// overrides, isolates and marks; the line and paragraph separators.
const ESCAPED = "\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069\\u2028\\u2029";
const ONE_LINE = new RegExp(`[${ESCAPED}\\n]`, "gu");
const MULTILINE = new RegExp(`[${ESCAPED}]`, "gu");

function escape(ch) {
  const code = ch.codePointAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `<U+${code.toString(16).toUpperCase().padStart(4, "0")}>`;
}

/** `text` with every control character, escape and bidi control written out. */
export function visible(text, { multiline = false } = {}) {
  return String(text ?? "").replace(multiline ? MULTILINE : ONE_LINE, escape);
}

/**
 * A user string as an element: `<bdi dir="auto">` holding the visible text. A multi-line
 * field (a warning's text, a note, a reason) keeps its line breaks (class "narrative").
 */
export function userText(text, { multiline = false, className = null } = {}) {
  const element = document.createElement("bdi");
  element.setAttribute("dir", "auto");
  const classes = [multiline ? "narrative" : null, className].filter(Boolean);
  if (classes.length) {
    element.className = classes.join(" ");
  }
  element.textContent = visible(text, { multiline });
  return element;
}

/**
 * A user string inside a sentence that must stay a string (a notice, a question, an
 * aria-label): visible, between FSI and PDI, as the terminal shows it.
 */
export function isolated(text) {
  return `\u2068${visible(text)}\u2069`;
}

/** Several user strings, each isolated, joined by our own separator. */
export function userList(texts, separator = ", ") {
  const out = [];
  texts.forEach((text, i) => {
    if (i > 0) {
      out.push(separator);
    }
    out.push(userText(text));
  });
  return out;
}
