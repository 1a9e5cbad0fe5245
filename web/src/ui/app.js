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
import { StorageTokenStore } from "../client/anon.js";
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
import { describe } from "./messages.js";
import { forgetThisDevice, listenForDeviceSignOut, listenForEscape, quickExit, tabProfile } from "./safety.js";
import { isolated, userText, visible } from "./text.js";
import { showReceipt, showTakedown } from "./takedown.js";

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

/** Show an error in plain words; a session that ended sends the user to log in. */
export function fail(error) {
  status("");
  if (error instanceof ApiError && error.code === "not_authenticated" && app.account) {
    signOut({ quiet: true }); // the login page first, so the alert below keeps the focus
  }
  const { title, text, security } = describe(error);
  replace(
    alertRegion,
    h("div", { class: security ? "alert security" : "alert" }, h("strong", {}, title), " ", h("span", {}, text),
      h("button", { type: "button", class: "link", onclick: clearAlert }, "Dismiss")),
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
    h("span", { class: "who" }, "Signed in as ", h("strong", {}, app.account.username)),
    h("button", { type: "button", class: "secondary", onclick: () => showHome() }, "My circles"),
    h("button", { type: "button", class: "secondary", onclick: () => showAccount() }, "My account"),
    h("button", { type: "button", class: "secondary", onclick: (e) => act(e.currentTarget, () => signOut()) }, "Log out"),
  );
}

export function newClient() {
  return new Client({
    deviceLabel: deviceLabel(),
    onKdf: async (phase) => {
      if (phase === "start") {
        status("Deriving keys… this takes a few seconds; your passphrase never leaves this device.", { busy: true });
        await nextPaint();
      } else {
        status("Keys derived. Talking to the server…", { busy: true });
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
  app.entries = new Entries(app.circles, { tokens: new StorageTokenStore(window.localStorage, account.username) });
  app.moderation = new Moderation(app.circles, app.entries);
  app.sealed = new Sealed(app.moderation);
  app.audit = new Audit(app.circles, app.moderation, AuditPins.load(window.localStorage, account.username));
  renderAccountBar();
  tabProfile.save(account).catch(() => undefined); // without IndexedDB a reload asks again
}

/** Forget the keys in memory; return the client that held the session. */
function drop() {
  const client = app.client;
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
  status("Signed out on this device. Nothing of your account is kept in this browser now.");
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
      throw new Error("another account");
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
    return h("p", { class: "notice" }, "You have been invited to a circle. Log in, or create an account, to join it.");
  }
  return h(
    "p",
    { class: "lead" },
    "Warnings about people who harass or abuse, shared only with the members of your circles. ",
    "Everything is encrypted in this browser before it is sent; the server stores ciphertext only.",
  );
}

export function showAuth(mode = "login") {
  const registering = mode === "register";
  const username = h("input", { name: "username", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" });
  const passphrase = h("input", {
    name: "passphrase",
    type: "password",
    required: true,
    autocomplete: registering ? "new-password" : "current-password",
    minlength: registering ? String(MIN_PASSPHRASE_LENGTH) : null,
  });
  const repeat = registering ? h("input", { name: "repeat", type: "password", required: true, autocomplete: "new-password" }) : null;
  const submit = h("button", { type: "submit" }, registering ? "Create account" : "Log in");
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: (event) => {
        event.preventDefault();
        act(submit, async () => {
          if (registering && passphrase.value !== repeat.value) {
            throw new ClientError("passphrase_mismatch", "The two passphrases differ. Type the same passphrase twice.");
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
    h("h2", {}, registering ? "Create an account" : "Log in"),
    field("Username", username),
    field(
      "Passphrase",
      passphrase,
      registering
        ? `At least ${MIN_PASSPHRASE_LENGTH} characters, not a common passphrase, without your username. Several unrelated words work well.`
        : null,
    ),
    registering ? field("Passphrase again", repeat) : null,
    submit,
  );
  show(
    h("h1", {}, "Backchannel"),
    authIntro(),
    form,
    h(
      "p",
      {},
      registering ? "Already have an account? " : "New here? ",
      h("button", { type: "button", class: "link", onclick: () => showAuth(registering ? "login" : "register") },
        registering ? "Log in" : "Create an account"),
    ),
    registering
      ? null
      : h("p", {}, "Forgot your passphrase? ",
        h("button", { type: "button", class: "link", onclick: () => showRecover() }, "Use your recovery code")),
    exitHelpBox(),
  );
}

export function showRecoveryCode(account, { recovered = false } = {}) {
  const done = h("input", { type: "checkbox", id: "wrote-it-down" });
  const next = h("button", { type: "button", disabled: true, onclick: () => afterSignIn() }, "Continue");
  done.addEventListener("change", () => {
    next.disabled = !done.checked;
  });
  show(
    h("h1", {}, "Write this down"),
    recovered
      ? h("p", { class: "notice" }, "You are back in. Your other sessions have ended, and your old recovery code no longer works: this is the new one.")
      : null,
    h("p", {}, "This is your recovery code. It is shown ", h("strong", {}, "once"), ". If you forget your passphrase, it is the only way back into your account. Keep it on paper, somewhere safe."),
    h("p", { class: "recovery-code", "aria-label": `Recovery code: ${String(account.recoveryCode)}` }, String(account.recoveryCode)),
    h("h2", {}, "Your fingerprint"),
    h("p", {}, "Admins compare this with you before they let you into a circle. You can always see it again on your circles page."),
    fingerprintBlock(account.fingerprint, "Your fingerprint"),
    h("div", { class: "check" }, done, h("label", { for: "wrote-it-down" }, "I have written down my recovery code")),
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
  if (!app.account) {
    showAuth();
    return;
  }
  const list = h("div", { class: "circles" }, h("p", {}, "Loading your circles…"));
  const name = h("input", { name: "name", required: true, maxlength: "200" });
  const description = h("input", { name: "description", maxlength: "500" });
  const create = h("button", { type: "submit" }, "Create circle");
  const pasted = h("input", { name: "invite", required: true, autocomplete: "off", spellcheck: "false" });
  const join = h("button", { type: "submit" }, "Continue");
  show(
    h("h1", {}, "My circles"),
    h("section", { class: "card" }, h("h2", {}, "Your fingerprint"),
      h("p", {}, "Read this to an admin when you join a circle."),
      fingerprintBlock(app.account.fingerprint, "Your fingerprint")),
    list,
    h("form", {
      class: "card",
      onsubmit: (event) => {
        event.preventDefault();
        act(create, async () => {
          status("Creating the circle…", { busy: true });
          const circle = await app.circles.create(name.value.trim(), description.value.trim());
          // The moderation key from the start, so members can report at once (as the CLI does).
          await app.moderation.ensureKey(circle.circleId);
          await app.entries.anonymous.certify(circle.circleId); // the token key (§37.1)
          showCircle(circle.circleId, "invite", `Created “${isolated(circle.name)}”. Invite people with a link.`);
        });
      },
    }, h("h2", {}, "Create a circle"),
      field("Name", name, "Only members see it: it is encrypted before it is sent."),
      field("Description (optional)", description), create),
    h("form", {
      class: "card",
      onsubmit: (event) => {
        event.preventDefault();
        act(join, async () => showJoin(inviteFrom(pasted.value)));
      },
    }, h("h2", {}, "Join with an invite"), field("Invite link or text", pasted), join),
  );
  await act(null, async () => {
    const circles = await app.circles.list();
    replace(list, h("h2", {}, "Circles"), circles.length === 0
      ? h("p", {}, "You are not in any circle yet. Create one, or open an invite link someone sent you.")
      : h("ul", { class: "circle-list" }, circles.map(circleItem)));
  });
}

function circleItem(c) {
  if (c.status === "pending") {
    return h("li", { class: "circle pending" }, h("span", { class: "circle-name" }, "A circle you asked to join"),
      h("span", { class: "meta" }, "Waiting for an admin to confirm you. Read them your fingerprint (above)."));
  }
  if (c.status === "deleted") {
    const when = c.deletedAt ? ` on ${formatTime(c.deletedAt)}` : "";
    return h("li", { class: "circle deleted" },
      h("span", { class: "circle-name" }, c.name ? userText(c.name) : "A circle you were in"),
      h("span", { class: "meta" }, c.verified
        ? [`Deleted by ${visible(c.deletedBy)}${when}. Its warnings are gone from the server.`]
        : [`The server says ${visible(c.deletedBy)} deleted this circle${when}; this browser could not check it (it never verified this circle, or the statement does not verify).`]));
  }
  if (c.problem) {
    const { title, text } = describe(c.problem);
    return h("li", { class: "circle problem" }, h("span", { class: "circle-name" }, "A circle that did not verify"),
      h("span", { class: "meta" }, `${title}: ${text}`));
  }
  return h("li", { class: "circle" },
    h("button", { type: "button", class: "circle-open", onclick: () => showCircle(c.circleId) },
      h("span", { class: "circle-name" }, c.name === null || c.name === undefined ? "(no name)" : userText(c.name)),
      h("span", { class: "meta" }, `You are ${c.role === "member" ? "a member" : `an ${c.role}`}`)));
}

/** The join page: what the invite says, then redeem it and show the fingerprint to read out. */
export function showJoin(inviteText) {
  app.pendingInvite = null;
  let invite;
  try {
    invite = Circles.parseInvite(inviteText);
  } catch (error) {
    showHome().then(() => fail(error));
    return;
  }
  const button = h("button", { type: "button" }, "Ask to join");
  button.addEventListener("click", () => act(button, async () => {
    status("Sending your request…", { busy: true });
    const result = await app.circles.join(inviteText);
    status("");
    show(
      h("h1", {}, "Request sent"),
      h("p", {}, `Now ${visible(result.inviter)} (or another admin) must confirm you. Read them your fingerprint — in person or on a call you trust — so they know the request is really yours:`),
      fingerprintBlock(app.account.fingerprint, "Your fingerprint"),
      h("p", {}, "Once you are confirmed, the circle appears in your list with its name and warnings."),
      h("button", { type: "button", onclick: () => showHome() }, "Go to my circles"),
    );
  }));
  show(
    h("h1", {}, "Join a circle"),
    h("p", {}, "You were invited by the person with this fingerprint. If you can, check it with them:"),
    fingerprintBlock(invite.inviterFingerprint, "Inviter's fingerprint"),
    h("p", {}, "The circle's name and warnings are shown once an admin has confirmed you."),
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
  status("Loading…", { busy: true });
  const integrity = await ensureIntegrity();
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
    status("You were signed out on this device from another tab.");
  }
});

window.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  fail(event.reason);
});
start().catch(fail);
