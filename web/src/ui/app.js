/**
 * The web client's entry point: one page for `/`, `/join`, `/takedown` and `/receipt`.
 *
 * Keys are derived, opened and used in this tab only. To survive a reload they are also
 * kept sealed under a non-extractable device key (client/profile.js) in this tab's
 * sessionStorage; logout, quick exit and "sign out everywhere on this device" drop them. Secrets carried by a link (an invite, a takedown link, a receipt)
 * are in the URL fragment, which browsers never send; they are read once and removed
 * from the address bar and history.
 */
import { Circles } from "../client/circles.js";
import { Audit, AuditPins } from "../client/audit.js";
import { Entries } from "../client/entries.js";
import { ApiError, ClientError } from "../client/errors.js";
import { MIN_PASSPHRASE_LENGTH } from "../client/passphrase.js";
import { Account, Client } from "../client/sdk.js";
import { Moderation } from "../client/moderation.js";
import { Sealed } from "../client/sealed.js";
import { TrustStore } from "../client/trust.js";
import { ready } from "../protocol/sodium.js";
import { deviceLabel, exitHelpBox, showAccount, showRecover } from "./account.js";
import { showCircle } from "./circle.js";
import { field, fingerprintBlock, focusHeading, formatTime, h, nextPaint, replace } from "./dom.js";
import { ensureIntegrity, showRelease } from "./integrity.js";
import { onLive, startLive, stopLive, unseenIn } from "./live.js";
import { describe } from "./messages.js";
import {
  forgetThisDevice,
  listenForAlarms,
  listenForDeviceSignOut,
  listenForEscape,
  quickExit,
  shareAlarm,
  tabProfile,
} from "./safety.js";
import { isolated, userText, visible } from "./text.js";
import { LANGUAGES, language, setLanguage, startLanguage, t, tx } from "./i18n/index.js";
import { showReceipt, showTakedown } from "./takedown.js";

startLanguage();
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
    signOut({ quiet: true }); // the login page first, so the alert below keeps the focus
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
let integrityState = null;

/** Remember how to draw the current view again (each top-level view calls this first). */
export function current(draw) {
  redraw = draw;
}

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
  redraw?.();
  if (integrityState !== null) {
    showRelease(integrityState).catch(fail);
  }
}

/** Render a view into <main> and move focus to its heading. */
export function show(...children) {
  replace(main, ...children);
  focusHeading(main);
  window.scrollTo(0, 0);
}

function renderAccountBar() {
  if (!app.account) {
    replace(accountBar);
    return;
  }
  replace(
    accountBar,
    h("span", { class: "who" }, tx("bar.signed_in_as", { name: h("strong", {}, app.account.username) })),
    h("button", { type: "button", class: "secondary", onclick: () => showHome() }, t("bar.my_circles")),
    h("button", { type: "button", class: "secondary", onclick: () => showAccount() }, t("bar.my_account")),
    h("button", { type: "button", class: "secondary", onclick: (e) => act(e.currentTarget, () => signOut()) }, t("bar.log_out")),
  );
}

export function newClient() {
  return new Client({
    deviceLabel: deviceLabel(),
    onKdf: async (phase) => {
      if (phase === "start") {
        status(t("auth.deriving"), { busy: true });
        await nextPaint();
      } else {
        status(t("auth.derived"), { busy: true });
      }
    },
  });
}

export function signedIn(client, account) {
  app.client = client;
  app.account = account;
  app.circles = new Circles(client, {
    username: account.username,
    identity: account.identity,
    trust: TrustStore.load(window.localStorage, account.username),
  });
  app.entries = new Entries(app.circles);
  app.moderation = new Moderation(app.circles, app.entries);
  app.sealed = new Sealed(app.moderation);
  app.audit = new Audit(app.circles, app.moderation, AuditPins.load(window.localStorage, account.username));
  renderAccountBar();
  tabProfile.save(account).catch(() => undefined); // without IndexedDB a reload asks again
  startLive(client, account.username, {
    onEnded: (error) => {
      if (app.client === client) {
        fail(error); // a 401: back to the login page, saying the session ended
      }
    },
  });
}

/** Forget the keys in memory; return the client that held the session. */
function drop() {
  const client = app.client;
  stopLive();
  Object.assign(app, { client: null, account: null, circles: null, entries: null, moderation: null, sealed: null, audit: null });
  tabProfile.clear();
  renderAccountBar();
  return client;
}

export async function signOut({ quiet = false } = {}) {
  const client = drop();
  if (client && !quiet) {
    await client.logout().catch(() => undefined); // the keys are dropped either way
  }
  showAuth();
}

/** "Sign out everywhere on this device": this session, the device key, the pins, every tab. */
export async function signOutDevice() {
  await forgetThisDevice(drop());
  showAuth();
  status(t("device.signed_out"));
}

/** After a reload: the tab's sealed sign-in, if it still opens and its session still lives. */
async function resume() {
  const saved = await tabProfile.load().catch(() => null);
  if (saved === null) {
    return false;
  }
  const client = newClient();
  client.token = saved.token;
  try {
    const me = await client.me();
    if (me.username !== saved.username || me.fingerprint !== saved.identity.fingerprint) {
      throw new Error("another account"); // i18n-exempt: caught below, never shown
    }
  } catch {
    tabProfile.clear();
    return false;
  }
  signedIn(client, new Account({ username: saved.username, token: saved.token, identity: saved.identity }));
  return true;
}

// -- signing in ----------------------------------------------------------------------

function authIntro() {
  if (app.pendingInvite) {
    return h("p", { class: "notice" }, t("auth.invited"));
  }
  return h("p", { class: "lead" }, t("auth.lead"));
}

export function showAuth(mode = "login") {
  current(() => showAuth(mode));
  const registering = mode === "register";
  const username = h("input", { name: "username", dir: "ltr", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" });
  const passphrase = h("input", {
    name: "passphrase",
    type: "password",
    required: true,
    autocomplete: registering ? "new-password" : "current-password",
    minlength: registering ? String(MIN_PASSPHRASE_LENGTH) : null,
  });
  const repeat = registering ? h("input", { name: "repeat", type: "password", required: true, autocomplete: "new-password" }) : null;
  const submit = h("button", { type: "submit" }, registering ? t("auth.create_account") : t("auth.log_in"));
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: (event) => {
        event.preventDefault();
        act(submit, async () => {
          if (registering && passphrase.value !== repeat.value) {
            throw new ClientError("passphrase_mismatch", t("auth.passphrases_differ"));
          }
          const client = newClient();
          // Arriving from a /join# link: the invite goes with the registration, for a server
          // that makes accounts only for invite holders (it is redeemed afterwards, on Join).
          const account = registering
            ? await client.register(username.value, passphrase.value, { invite: app.pendingInvite ?? null })
            : await client.login(username.value, passphrase.value);
          passphrase.value = "";
          if (repeat) {
            repeat.value = "";
          }
          status("");
          signedIn(client, account);
          if (registering) {
            showRecoveryCode(account);
          } else {
            afterSignIn();
          }
        });
      },
    },
    h("h2", {}, registering ? t("auth.create_an_account") : t("auth.log_in")),
    field(t("auth.username"), username),
    field(
      t("auth.passphrase"),
      passphrase,
      registering
        ? t("auth.passphrase_hint", { min: MIN_PASSPHRASE_LENGTH })
        : null,
    ),
    registering ? field(t("auth.passphrase_again"), repeat) : null,
    submit,
  );
  show(
    h("h1", {}, t("app.name")),
    authIntro(),
    form,
    h(
      "p",
      {},
      registering ? t("auth.have_account") : t("auth.new_here"),
      h("button", { type: "button", class: "link", onclick: () => showAuth(registering ? "login" : "register") },
        registering ? t("auth.log_in") : t("auth.create_an_account")),
    ),
    registering
      ? null
      : h("p", {}, t("auth.forgot"),
        h("button", { type: "button", class: "link", onclick: () => showRecover() }, t("auth.use_recovery_code"))),
    exitHelpBox(),
  );
}

export function showRecoveryCode(account, { recovered = false } = {}) {
  current(() => showRecoveryCode(account, { recovered }));
  const done = h("input", { type: "checkbox", id: "wrote-it-down" });
  const next = h("button", { type: "button", disabled: true, onclick: () => afterSignIn() }, t("common.continue"));
  done.addEventListener("change", () => {
    next.disabled = !done.checked;
  });
  show(
    h("h1", {}, t("recovery.title")),
    recovered
      ? h("p", { class: "notice" }, t("recovery.recovered"))
      : null,
    h("p", {}, tx("recovery.explain", { once: h("strong", {}, t("recovery.once")) })),
    h("p", { class: "recovery-code", dir: "ltr", "aria-label": t("recovery.code_label", { code: String(account.recoveryCode) }) }, String(account.recoveryCode)),
    h("h2", {}, t("fingerprint.yours")),
    h("p", {}, t("recovery.fingerprint_explain")),
    fingerprintBlock(account.fingerprint, t("fingerprint.yours")),
    h("div", { class: "check" }, done, h("label", { for: "wrote-it-down" }, t("recovery.written_down"))),
    next,
  );
}

function afterSignIn() {
  if (app.pendingInvite) {
    showJoin(app.pendingInvite);
  } else {
    showHome();
  }
}

// -- circles -------------------------------------------------------------------------

/** A fragment as text; a malformed %-escape is kept as typed (the parser then refuses it). */
function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The invite text in a pasted link (`…/join#bcinvite1…`) or the invite itself. */
function inviteFrom(text) {
  const trimmed = text.trim();
  const at = trimmed.indexOf("#");
  return at >= 0 ? decoded(trimmed.slice(at + 1)) : trimmed;
}

export async function showHome() {
  current(() => showHome());
  if (!app.account) {
    showAuth();
    return;
  }
  const list = h("div", { class: "circles" }, h("p", {}, t("home.loading")));
  const name = h("input", { name: "name", required: true, maxlength: "200" });
  const description = h("input", { name: "description", maxlength: "500" });
  const create = h("button", { type: "submit" }, t("home.create_circle"));
  const pasted = h("input", { name: "invite", required: true, autocomplete: "off", spellcheck: "false" });
  const join = h("button", { type: "submit" }, t("common.continue"));
  show(
    h("h1", {}, t("bar.my_circles")),
    h("section", { class: "card" }, h("h2", {}, t("fingerprint.yours")),
      h("p", {}, t("home.fingerprint_explain")),
      fingerprintBlock(app.account.fingerprint, t("fingerprint.yours"))),
    list,
    h("form", {
      class: "card",
      onsubmit: (event) => {
        event.preventDefault();
        act(create, async () => {
          status(t("home.creating"), { busy: true });
          const circle = await app.circles.create(name.value.trim(), description.value.trim());
          // The moderation key from the start, so members can report at once (as the CLI does).
          await app.moderation.ensureKey(circle.circleId);
          showCircle(circle.circleId, "invite", t("home.created", { name: isolated(circle.name) }));
        });
      },
    }, h("h2", {}, t("home.create_a_circle")),
      field(t("home.name"), name, t("home.name_hint")),
      field(t("home.description"), description), create),
    h("form", {
      class: "card",
      onsubmit: (event) => {
        event.preventDefault();
        act(join, async () => showJoin(inviteFrom(pasted.value)));
      },
    }, h("h2", {}, t("home.join_title")), field(t("home.invite_field"), pasted), join),
  );
  await act(null, async () => {
    const circles = await app.circles.list();
    replace(list, h("h2", {}, t("home.circles")), circles.length === 0
      ? h("p", {}, t("home.none"))
      : h("ul", { class: "circle-list" }, circles.map(circleItem)));
    showUnseen(list);
    onLive(() => {
      if (!list.isConnected) {
        return false;
      }
      showUnseen(list);
      return true;
    });
  });
}

/** Each circle's count of warnings posted since the person last looked (from the stream). */
function showUnseen(list) {
  for (const badge of list.querySelectorAll("[data-unseen]")) {
    const count = unseenIn(badge.dataset.unseen);
    badge.hidden = !count;
    badge.textContent = count ? t("home.unseen", { count }) : "";
  }
}

function circleItem(c) {
  if (c.status === "pending") {
    return h("li", { class: "circle pending" }, h("span", { class: "circle-name" }, t("home.pending_name")),
      h("span", { class: "meta" }, t("home.pending_meta")));
  }
  if (c.status === "deleted") {
    const params = { who: visible(c.deletedBy), when: c.deletedAt ? formatTime(c.deletedAt) : "" };
    const key = `home.deleted_${c.verified ? "verified" : "unverified"}${c.deletedAt ? "_when" : ""}`;
    return h("li", { class: "circle deleted" },
      h("span", { class: "circle-name" }, c.name ? userText(c.name) : t("home.deleted_name")),
      h("span", { class: "meta" }, t(key, params)));
  }
  if (c.problem) {
    const { title, text } = describe(c.problem);
    return h("li", { class: "circle problem" }, h("span", { class: "circle-name" }, t("home.problem_name")),
      h("span", { class: "meta" }, t("common.title_text", { title, text })));
  }
  return h("li", { class: "circle" },
    h("button", { type: "button", class: "circle-open", onclick: () => showCircle(c.circleId) },
      h("span", { class: "circle-name" }, c.name === null || c.name === undefined ? t("circle.no_name") : userText(c.name),
        h("span", { class: "unseen", "data-unseen": c.circleId, hidden: true })),
      h("span", { class: "meta" }, t(`role.you_are_${c.role}`))));
}

/** The join page: what the invite says, then redeem it and show the fingerprint to read out. */
export function showJoin(inviteText) {
  current(() => showJoin(inviteText));
  app.pendingInvite = null;
  let invite;
  try {
    invite = Circles.parseInvite(inviteText);
  } catch (error) {
    showHome().then(() => fail(error));
    return;
  }
  const button = h("button", { type: "button" }, t("join.ask"));
  button.addEventListener("click", () => act(button, async () => {
    status(t("join.sending"), { busy: true });
    const result = await app.circles.join(inviteText);
    status("");
    show(
      h("h1", {}, t("join.sent")),
      h("p", {}, t("join.sent_explain", { inviter: visible(result.inviter) })),
      fingerprintBlock(app.account.fingerprint, t("fingerprint.yours")),
      h("p", {}, t("join.once_confirmed")),
      h("button", { type: "button", onclick: () => showHome() }, t("join.go_home")),
    );
  }));
  show(
    h("h1", {}, t("join.title")),
    h("p", {}, t("join.invited_by")),
    fingerprintBlock(invite.inviterFingerprint, t("join.inviter_fingerprint")),
    h("p", {}, t("join.shown_once_confirmed")),
    button,
  );
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
  if (main.querySelector(`[data-circle="${data.circle_id}"]`)) {
    showHome().then(() => fail(new ApiError(403, data.code, "")));
  } else if (main.querySelector(".circle-list")) {
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
