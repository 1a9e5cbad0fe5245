/**
 * The web client's entry point: one page for `/`, `/join`, `/takedown` and `/receipt`.
 *
 * This module starts the page and fills `nav` (shell.js) with the screens: the screens
 * themselves live in auth.js, home.js, circle.js, account.js and takedown.js, and move
 * between each other through `nav`, never by importing one another.
 *
 * Keys are derived, opened and used in this tab only. To survive a reload they are also
 * kept sealed under a non-extractable device key (client/profile.js) in this tab's
 * sessionStorage; logout, quick exit and "sign out everywhere on this device" drop them. Secrets carried by a link (an invite, a takedown link, a receipt)
 * are in the URL fragment, which browsers never send; they are read once and removed
 * from the address bar and history.
 */
import { Circles } from "../client/circles.js";
import { ApiError } from "../client/errors.js";
import { ready } from "../protocol/sodium.js";
import { showAccount } from "./account.js";
import { showAuth, showRecover, showRecoveryCode } from "./auth.js";
import { showCircle } from "./circle.js";
import { h, replace } from "./dom.js";
import { decoded, showHome, showJoin } from "./home.js";
import { ensureIntegrity, showRelease } from "./integrity.js";
import { onLive } from "./live.js";
import { listenForAlarms, listenForDeviceSignOut, listenForEscape, quickExit } from "./safety.js";
import { drop, resume, signOut } from "./session.js";
import { app, clearAlert, fail, mainView, nav, redrawCurrent, renderAccountBar, status } from "./shell.js";
import { LANGUAGES, language, setLanguage, startLanguage, t } from "./i18n/index.js";
import { showReceipt, showTakedown } from "./takedown.js";

startLanguage();
Object.assign(nav, {
  home: showHome,
  auth: showAuth,
  account: showAccount,
  join: showJoin,
  circle: showCircle,
  recoveryCode: showRecoveryCode,
  recover: showRecover,
  signOut,
});
let integrityState = null;

/** The page's own fixed words (index.html marks them `data-i18n`), and the language switcher. */
function translatePage() {
  document.title = t("app.name");
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of document.querySelectorAll("[data-i18n-aria-label]")) {
    element.setAttribute("aria-label", t(element.dataset.i18nAriaLabel));
  }
  const chooser = document.getElementById("language");
  if (chooser) {
    replace(chooser, LANGUAGES.map(([code, name]) => h("option", { value: code, lang: code, selected: code === language() }, name)));
    chooser.value = language();
    chooser.hidden = LANGUAGES.length < 2;
  }
}

function switchLanguage(lang) {
  setLanguage(lang, { remember: true });
  translatePage();
  renderAccountBar();
  clearAlert();
  status("");
  redrawCurrent();
  if (integrityState !== null) {
    showRelease(integrityState).catch(fail);
  }
}

// -- start -----------------------------------------------------------------------------

/** Read a secret from the fragment once, then drop it from the address bar and history. */
function takeFragment(path) {
  const value = decoded(window.location.hash.slice(1));
  if (value) {
    window.history.replaceState(null, "", path);
  }
  return value;
}

async function start() {
  translatePage();
  document.getElementById("language")?.addEventListener("change", (event) => switchLanguage(event.target.value));
  // A link pasted into a tab already on /join, /takedown or /receipt changes only the
  // fragment, which loads nothing: start again so the new link is read (and dropped again).
  // In-page anchors (the skip link's #main) name an element and are left alone.
  window.addEventListener("hashchange", () => {
    const fragment = window.location.hash.slice(1);
    const linkPage = ["/join", "/takedown", "/receipt"].includes(window.location.pathname);
    if (linkPage && fragment && !document.getElementById(fragment)) {
      window.location.reload();
    }
  });
  status(t("common.loading"), { busy: true });
  const integrity = await ensureIntegrity();
  integrityState = integrity;
  showRelease(integrity).catch(fail);
  await ready();
  status("");
  const path = window.location.pathname;
  if (path === "/join") {
    app.pendingInvite = takeFragment("/join") || null;
    showAuth("register");
    // A link cut off in a message is refused now, before anyone makes an account for it.
    if (app.pendingInvite !== null) {
      try {
        Circles.parseInvite(app.pendingInvite);
      } catch (error) {
        app.pendingInvite = null;
        showAuth("register");
        fail(error);
      }
    }
  } else if (path === "/takedown") {
    showTakedown(takeFragment("/takedown"));
  } else if (path === "/receipt") {
    showReceipt(takeFragment("/receipt"));
  } else if (await resume()) {
    showHome();
  } else {
    showAuth();
  }
}

function leave() {
  quickExit(drop);
}

document.getElementById("quick-exit").addEventListener("click", leave);
listenForEscape(leave);
listenForDeviceSignOut(() => {
  if (app.account) {
    drop();
    showAuth();
    status(t("device.signed_out_elsewhere"));
  }
});

// Removed from a circle, or it was deleted, while it is open or listed: say so now.
onLive((kind, data) => {
  if (kind !== "gone" || !app.account) {
    return true;
  }
  if (mainView().querySelector(`[data-circle="${data.circle_id}"]`)) {
    showHome().then(() => fail(new ApiError(403, data.code, "")));
  } else if (mainView().querySelector(".circle-list")) {
    showHome();
  }
  return true;
});
// A fork or rollback another tab of this browser found is shown here at once.
listenForAlarms(() => app.account?.username, (error) => fail(error, { shared: true }));

window.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  fail(event.reason);
});
start().catch(fail);
