/**
 * A few DOM helpers. Text always goes in as text nodes (never innerHTML): everything a
 * warning says came from another member and is shown exactly as written.
 */
import { locale, t } from "./i18n/index.js";

/** h("p", {class: "x", onclick: fn}, "text", child, [more]) → an element. */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.className = value;
    } else if (name === "for") {
      element.htmlFor = value;
    } else if (name === "value") {
      element.value = value;
    } else if (name === "checked") {
      element.checked = Boolean(value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's content. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

let counter = 0;

/** A unique id for label/aria-describedby pairs. */
export function uid(prefix = "f") {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A labelled input (or textarea/select) with an optional hint, as one field block. */
export function field(label, control, hint = null) {
  const id = control.id || uid();
  control.id = id;
  const children = [h("label", { for: id }, label)];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    children.push(h("p", { class: "hint", id: hintId }, hint));
  }
  children.push(control);
  return h("div", { class: "field" }, children);
}

/** Wait until the browser has painted, so a status shows before a long computation. */
export function nextPaint() {
  return new Promise((resolve) => {
    requestAnimationFrame(() => setTimeout(resolve, 0));
  });
}

/** Move keyboard focus to a view's heading (it has tabindex=-1), for screen readers too. */
export function focusHeading(root) {
  const heading = root.querySelector("h1, h2");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
}

/**
 * A fingerprint, large and in groups, easy to read aloud and compare. Always left to right,
 * in the CLI's order: in a right-to-left page, digit groups would otherwise be reversed.
 */
export function fingerprintBlock(fingerprint, label) {
  return h(
    "p",
    { class: "fingerprint", dir: "ltr", "aria-label": t("common.title_text", { title: label, text: fingerprint }) },
    fingerprint.split(" ").map((group) => h("span", { class: "fp-group" }, group)),
  );
}

export function formatDate(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleDateString(locale(), { year: "numeric", month: "short", day: "numeric" });
}

/** A date and time in the reader's own time zone, e.g. "5 Dec 2026, 16:02". */
export function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(locale(), { dateStyle: "medium", timeStyle: "short" });
}

/**
 * A button that asks first: a click opens an inline "are you sure?" after it, whose
 * confirming button runs `onYes(button)`; the other closes it and gives focus back.
 */
export function confirmButton(text, { question, yes, no, label }, onYes) {
  const trigger = h("button", { type: "button", class: "secondary danger" }, text);
  let box = null;
  trigger.addEventListener("click", () => {
    if (box === null) {
      const yesButton = h("button", { type: "button", class: "danger" }, yes);
      const noButton = h("button", { type: "button", class: "secondary" }, no);
      box = h("div", { class: "confirm", role: "group", "aria-label": label }, h("p", {}, question), yesButton, noButton);
      noButton.addEventListener("click", () => {
        box.remove();
        box = null;
        trigger.focus();
      });
      yesButton.addEventListener("click", () => onYes(yesButton));
      trigger.after(box);
    }
    box.querySelector("button.danger").focus();
  });
  return trigger;
}

/** A checkbox or radio button with its label beside it. */
export function checkRow(input, text) {
  input.id ||= `c-${Math.random().toString(36).slice(2)}`;
  return h("div", { class: "check" }, input, h("label", { for: input.id }, text));
}
