/**
 * Leaving in a hurry, and leaving this device for good.
 *
 * Quick exit (the button in the header, or Escape three times within two seconds): the
 * keys in memory and this tab's storage go, the session is ended on the server, and the
 * page is replaced by a neutral site with `location.replace`, so Back does not return here.
 * A page cannot delete the earlier entries of the browser's history; the help text says
 * how to clear it.
 */
import { AuditFailure, ProtocolError } from "../client/errors.js";
import { TabProfile } from "../client/profile.js";
import { h } from "./dom.js";
import { t } from "./i18n/index.js";

export const NEUTRAL_SITE = "https://www.bbc.com/weather";
const SIGNED_OUT = "backchannel.signed-out"; // a storage event tells the other tabs

export const tabProfile = new TabProfile({ storage: window.sessionStorage, indexedDB: window.indexedDB });

/** Leave now. `drop()` forgets the keys in memory and returns the session's client, if any. */
export function quickExit(drop) {
  const client = drop();
  if (client?.token) {
    // keepalive: the request outlives the page that is being replaced.
    client.request("POST", "/v1/auth/logout", { keepalive: true }).catch(() => undefined);
  }
  try {
    window.sessionStorage.clear();
  } catch {
    // storage disabled: nothing was kept there
  }
  document.body.replaceChildren();
  window.location.replace(NEUTRAL_SITE);
}

/** Escape pressed three times within two seconds runs `onExit`. */
export function listenForEscape(onExit) {
  let presses = [];
  window.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") { // i18n-exempt: a key's name
      return;
    }
    const now = Date.now();
    presses = presses.filter((at) => now - at < 2000).concat(now);
    if (presses.length >= 3) {
      presses = [];
      onExit();
    }
  });
}

/**
 * Sign out everywhere on this device: end this session, delete the device key (no tab's
 * sealed sign-in opens again), the trust and audit pins, and tell the other tabs.
 */
export async function forgetThisDevice(client) {
  await client?.logout().catch(() => undefined);
  await tabProfile.forgetDevice().catch(() => undefined);
  for (const key of Object.keys(window.localStorage)) {
    if (key.startsWith("backchannel.")) {
      window.localStorage.removeItem(key);
    }
  }
  window.sessionStorage.clear();
  window.localStorage.setItem(SIGNED_OUT, String(Date.now()));
  window.localStorage.removeItem(SIGNED_OUT);
}

/** Run `onSignedOut` when another tab signs this device out. */
export function listenForDeviceSignOut(onSignedOut) {
  window.addEventListener("storage", (event) => {
    if (event.key === SIGNED_OUT && event.newValue !== null) {
      onSignedOut();
    }
  });
}

export function exitHelp() {
  return [t("exit.help_what"), " ", t("exit.help_history")];
}

// A history that cannot be true (docs/protocol.md §10.5, §33): a key-record fork or
// rollback, or an audit log that does not verify. What one tab found, every tab of this
// browser shows at once. Nothing secret: the code and the SDK's own message.
const ALARMS = new Set(["fork", "rollback"]);

/** Tell this browser's other tabs (a `storage` event) that `error` was a fork, a rollback
 * or an audit log that does not verify. */
export function shareAlarm(username, error) {
  if (!(error instanceof AuditFailure || (error instanceof ProtocolError && ALARMS.has(error.code)))) {
    return;
  }
  const alarm = { kind: error instanceof AuditFailure ? "audit" : "protocol", code: error.code, message: error.message, at: Date.now() };
  try {
    window.localStorage.setItem(`backchannel.alarm.${username}`, JSON.stringify(alarm));
  } catch {
    // storage disabled: this tab still shows it
  }
}

/** Run `onAlarm(error)` when another tab of the signed-in account (`username()`) finds one. */
export function listenForAlarms(username, onAlarm) {
  window.addEventListener("storage", (event) => {
    const who = username();
    if (!who || event.key !== `backchannel.alarm.${who}` || event.newValue === null) {
      return;
    }
    try {
      const alarm = JSON.parse(event.newValue);
      const Kind = alarm.kind === "audit" ? AuditFailure : ProtocolError;
      onAlarm(new Kind(String(alarm.code), String(alarm.message)));
    } catch {
      // unreadable: nothing to show
    }
  });
}

/** What quick exit does and does not do, with how to clear the browser's history. */
export function exitHelpBox() {
  return h("details", { class: "help" }, h("summary", {}, t("exit.help_title")), h("p", {}, exitHelp()));
}
