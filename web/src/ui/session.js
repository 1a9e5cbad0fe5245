/**
 * Signing in and out in this tab: the SDK objects of the account (`app`), the tab's sealed
 * sign-in that survives a reload, the live stream, and dropping the keys.
 */
import { Audit, AuditPins } from "../client/audit.js";
import { Circles } from "../client/circles.js";
import { Entries } from "../client/entries.js";
import { StorageTokenStore } from "../client/anon.js";
import { Moderation } from "../client/moderation.js";
import { Account, Client } from "../client/sdk.js";
import { Sealed } from "../client/sealed.js";
import { TrustStore } from "../client/trust.js";
import { nextPaint } from "./dom.js";
import { startLive, stopLive } from "./live.js";
import { forgetThisDevice, tabProfile } from "./safety.js";
import { app, fail, nav, renderAccountBar, status } from "./shell.js";
import { t } from "./i18n/index.js";

/**
 * What this browser calls itself in the session list ("Firefox on Android"): no version.
 * Products keep their names; the words around them are in the reader's language.
 */
export function deviceLabel(agent = navigator.userAgent) {
  // i18n-exempt-begin: the names of browsers and systems
  const browser = [
    [/Edg\//, "Edge"],
    [/Firefox\//, "Firefox"],
    [/OPR\//, "Opera"],
    [/Chrom(e|ium)\//, "Chrome"],
    [/Safari\//, "Safari"],
  ].find(([pattern]) => pattern.test(agent))?.[1] ?? t("device.a_browser");
  const system = [
    [/Android/, "Android"],
    [/iPhone/, "iPhone"],
    [/iPad/, "iPad"],
    [/Windows/, "Windows"],
    [/Mac OS X|Macintosh/, "macOS"],
    [/CrOS/, "ChromeOS"],
    [/Linux/, "Linux"],
  ].find(([pattern]) => pattern.test(agent))?.[1] ?? t("device.unknown_system");
  // i18n-exempt-end
  return t("device.label", { browser, system });
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
  const tokens = new StorageTokenStore(window.localStorage, account.username);
  app.entries = new Entries(app.circles, { tokens });
  app.moderation = new Moderation(app.circles, app.entries);
  app.sealed = new Sealed(app.moderation);
  // The audit reads the keys anonymous tokens were taken under (one per epoch, the log's).
  app.audit = new Audit(app.circles, app.moderation, AuditPins.load(window.localStorage, account.username), { tokens });
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
export function drop() {
  const client = app.client;
  stopLive();
  if (app.account) {
    // Unspent anonymous tokens would let whoever holds the device post as a member. Closing
    // the page's store also keeps a stock-up still in flight from saving its batch after this.
    app.entries?.anonymous.tokens.close();
    new StorageTokenStore(window.localStorage, app.account.username).clear();
  }
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
  nav.auth();
}

/** "Sign out everywhere on this device": this session, the device key, the pins, every tab. */
export async function signOutDevice() {
  await forgetThisDevice(drop());
  nav.auth();
  status(t("device.signed_out"));
}

/** After a reload: the tab's sealed sign-in, if it still opens and its session still lives. */
export async function resume() {
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
