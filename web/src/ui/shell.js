/**
 * The page's frame, shared by every view: the signed-in account's SDK objects (`app`), the
 * status and alert regions, running an action (`act`), drawing a view (`show`, `current`),
 * and the account bar.
 *
 * Views never import each other to move between screens: they call `nav`, which the entry
 * point (app.js) fills with the screens. So no module of the page imports one that imports
 * it back.
 */
import { ApiError } from "../client/errors.js";
import { focusHeading, h, replace } from "./dom.js";
import { describe } from "./messages.js";
import { shareAlarm } from "./safety.js";
import { t, tx } from "./i18n/index.js";

const main = document.getElementById("main");
const statusRegion = document.getElementById("status");
const alertRegion = document.getElementById("alert");
const accountBar = document.getElementById("account");

/** Everything the views share: the SDK objects of the signed-in account. */
export const app = {
  client: null,
  account: null,
  circles: null,
  entries: null,
  moderation: null,
  sealed: null,
  audit: null,
  pendingInvite: null,
};

/**
 * The screens, by name, as app.js registers them: home(), auth(mode), account(notice),
 * join(invite), circle(circleId, tab, notice), recoveryCode(account, options), recover(),
 * signOut(options).
 */
export const nav = {};

/** Show progress in the polite live region (empty text clears it). */
export function status(text, { busy = false } = {}) {
  replace(statusRegion, text ? h("span", { class: busy ? "spinner" : null }, text) : null);
  statusRegion.hidden = !text;
}

/** Show an error in plain words; a session that ended sends the user to log in. A fork or
 * rollback is shown in this browser's other tabs too (`shareAlarm`), unless it came from one. */
export function fail(error, { shared = false } = {}) {
  status("");
  if (!shared && app.account) {
    shareAlarm(app.account.username, error);
  }
  if (error instanceof ApiError && error.code === "not_authenticated" && app.account) {
    nav.signOut({ quiet: true }); // the login page first, so the alert below keeps the focus
  }
  const { title, text, security } = describe(error);
  replace(
    alertRegion,
    h("div", { class: security ? "alert security" : "alert" }, h("strong", {}, title), " ", h("span", {}, text),
      h("button", { type: "button", class: "link", onclick: clearAlert }, t("common.dismiss"))),
  );
  alertRegion.hidden = false;
  // On a phone the form that failed may be far below the alert: bring it into view and
  // move focus there, so the failure is seen (and read out) rather than silent.
  alertRegion.scrollIntoView({ block: "center", behavior: "instant" });
  alertRegion.focus({ preventScroll: true });
}

export function clearAlert() {
  replace(alertRegion);
  alertRegion.hidden = true;
}

/** Run an action from a button or form: one at a time, errors shown, never swallowed. */
export async function act(button, fn) {
  if (button) {
    button.disabled = true;
  }
  clearAlert();
  try {
    return await fn();
  } catch (error) {
    fail(error);
    return undefined;
  } finally {
    if (button) {
      button.disabled = false;
    }
  }
}

/** The view on screen, to draw again in another language. */
let redraw = null;

/** Remember how to draw the current view again (each top-level view calls this first). */
export function current(draw) {
  redraw = draw;
}

/** Draw the current view again (after the language changed). */
export function redrawCurrent() {
  redraw?.();
}

/** Render a view into <main> and move focus to its heading. */
export function show(...children) {
  replace(main, ...children);
  focusHeading(main);
  window.scrollTo(0, 0);
}

/** The view in <main>, for checks such as "is this circle open?". */
export function mainView() {
  return main;
}

export function renderAccountBar() {
  if (!app.account) {
    replace(accountBar);
    return;
  }
  replace(
    accountBar,
    h("span", { class: "who" }, tx("bar.signed_in_as", { name: h("strong", {}, app.account.username) })),
    h("button", { type: "button", class: "secondary", onclick: () => nav.home() }, t("bar.my_circles")),
    h("button", { type: "button", class: "secondary", onclick: () => nav.account() }, t("bar.my_account")),
    h("button", { type: "button", class: "secondary", onclick: (e) => act(e.currentTarget, () => nav.signOut()) }, t("bar.log_out")),
  );
}

/** A read-only copy of a link with a Copy button. */
export function copyBox(value, labelText, buttonText = t("copy.copy")) {
  const box = h("input", { type: "text", readonly: true, value, dir: "ltr", class: "invite-link", "aria-label": labelText });
  box.addEventListener("focus", () => box.select());
  const copy = h("button", { type: "button" }, buttonText);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(value);
      status(t("copy.copied"));
    } catch {
      box.select();
      status(t("copy.by_hand"));
    }
  });
  return h("div", { class: "copy" }, box, copy);
}
