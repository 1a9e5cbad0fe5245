/**
 * The account: this browser's name in the session list, the sessions themselves (see,
 * end), a passphrase change, and getting back in with the recovery code.
 */
import { deleteAccount } from "../client/deletion.js";
import { ClientError } from "../client/errors.js";
import { MIN_PASSPHRASE_LENGTH } from "../client/passphrase.js";
import { act, app, newClient, show, showAuth, showRecoveryCode, signedIn, signOut, signOutDevice, status } from "./app.js";
import { confirmButton, field, formatTime, h, replace } from "./dom.js";
import { exitHelp } from "./safety.js";
import { userText } from "./text.js";

/** What this browser calls itself in the session list ("Firefox on Android"): no version. */
export function deviceLabel(agent = navigator.userAgent) {
  const browser = [
    [/Edg\//, "Edge"],
    [/Firefox\//, "Firefox"],
    [/OPR\//, "Opera"],
    [/Chrom(e|ium)\//, "Chrome"],
    [/Safari\//, "Safari"],
  ].find(([pattern]) => pattern.test(agent))?.[1] ?? "A browser";
  const system = [
    [/Android/, "Android"],
    [/iPhone/, "iPhone"],
    [/iPad/, "iPad"],
    [/Windows/, "Windows"],
    [/Mac OS X|Macintosh/, "macOS"],
    [/CrOS/, "ChromeOS"],
    [/Linux/, "Linux"],
  ].find(([pattern]) => pattern.test(agent))?.[1] ?? "an unknown system";
  return `${browser} on ${system}`;
}

function repeatCheck(first, second) {
  if (first.value !== second.value) {
    throw new ClientError("passphrase_mismatch", "The two new passphrases differ. Type the same passphrase twice.");
  }
}

function passphraseInput(name, autocomplete) {
  return h("input", { name, type: "password", required: true, autocomplete, minlength: autocomplete === "new-password" ? String(MIN_PASSPHRASE_LENGTH) : null });
}

export async function showAccount(notice = "") {
  const sessions = h("div", {}, h("p", {}, "Loading…"));
  show(
    h("h1", {}, "My account"),
    h("p", { class: "meta" }, "Signed in as ", h("strong", {}, app.account.username)),
    sessions,
    passphraseForm(),
    deviceBox(),
    deleteForm(),
    exitHelpBox(),
  );
  if (notice) {
    status(notice);
  }
  await act(null, () => listSessions(sessions));
}

async function listSessions(container) {
  const rows = await app.client.sessions();
  const passphrase = passphraseInput("passphrase", "current-password");
  const endOthers = h("button", { type: "button", class: "secondary danger" }, "End every other session");
  const end = (button, sessionIds) => act(button, async () => {
    status("Checking your passphrase…", { busy: true });
    const ended = await app.client.endSessions(app.account.username, passphrase.value, { sessionIds });
    passphrase.value = "";
    await showAccount(`${ended} session${ended === 1 ? "" : "s"} ended.`);
  });
  endOthers.addEventListener("click", () => end(endOthers, null));
  replace(container,
    h("section", { class: "card", "aria-labelledby": "sessions-heading" },
      h("h2", { id: "sessions-heading" }, "Where you are signed in"),
      h("p", {}, "Each device or browser you signed in on. One you do not recognise? End it, then change your passphrase."),
      h("ul", { class: "sessions" }, rows.map((row) => {
        const label = row.device_label ?? "Unnamed device";
        const item = h("li", { class: "session" },
          h("span", { class: "session-name" }, userText(label), row.current ? " (this browser)" : ""),
          h("span", { class: "meta" }, `Signed in ${formatTime(row.created_at)} · last used ${formatTime(row.last_used_at)}`));
        if (!row.current) {
          const button = h("button", { type: "button", class: "secondary danger", "aria-label": `End the session on ${label} from ${formatTime(row.created_at)}` }, "End");
          button.addEventListener("click", () => end(button, [row.session_id]));
          item.append(button);
        }
        return item;
      })),
      field("Your passphrase (needed to end a session)", passphrase, "A stolen session alone cannot end yours."),
      rows.length > 1 ? endOthers : null));
}

function passphraseForm() {
  const current = passphraseInput("current", "current-password");
  const next = passphraseInput("next", "new-password");
  const again = passphraseInput("again", "new-password");
  const submit = h("button", { type: "submit" }, "Change passphrase");
  return h("form", {
    class: "card",
    onsubmit: (event) => {
      event.preventDefault();
      act(submit, async () => {
        repeatCheck(next, again);
        await app.client.changePassphrase(app.account.username, {
          current: current.value,
          next: next.value,
          identity: app.account.identity,
        });
        for (const input of [current, next, again]) {
          input.value = "";
        }
        await showAccount("Passphrase changed. Your other sessions have ended; this one goes on.");
      });
    },
  },
  h("h2", {}, "Change your passphrase"),
  h("p", {}, "Your keys are re-wrapped in this browser under the new passphrase. Every other session ends. Your recovery code stays the same."),
  field("Current passphrase", current),
  field("New passphrase", next, `At least ${MIN_PASSPHRASE_LENGTH} characters, not a common passphrase, without your username.`),
  field("New passphrase again", again),
  submit);
}

function deviceBox() {
  const forget = confirmButton("Sign out everywhere on this device", {
    question: "Sign out in every tab of this browser, and delete what it keeps of your account (its sealed sign-in, and which circles and keys it has verified)? Next time you log in, compare fingerprints again.",
    yes: "Yes, sign out on this device",
    no: "Cancel",
    label: "Confirm signing out on this device",
  }, (yes) => act(yes, () => signOutDevice()));
  return h("section", { class: "card" },
    h("h2", {}, "This device"),
    h("p", {}, "This browser remembers, for your account, which circles and keys it has verified, so other tabs and later visits trust the same things. A reload keeps you signed in in the same tab; your keys are stored sealed under a key the browser will not hand out."),
    forget);
}

function deleteForm() {
  const retract = h("input", { type: "radio", name: "warnings", value: "retract", id: "warnings-retract", required: true });
  const keep = h("input", { type: "radio", name: "warnings", value: "keep", id: "warnings-keep" });
  const passphrase = passphraseInput("passphrase", "current-password");
  const submit = h("button", { type: "submit", class: "danger" }, "Delete my account");
  return h("form", {
    class: "card",
    onsubmit: (event) => {
      event.preventDefault();
      act(submit, async () => {
        status("Checking your passphrase and leaving your circles…", { busy: true });
        await deleteAccount(app.circles, { passphrase: passphrase.value, warnings: retract.checked ? "retract" : "keep" });
        passphrase.value = "";
        await signOut({ quiet: true });
        status("Your account was deleted.");
      });
    },
  },
  h("h2", {}, "Delete my account"),
  h("p", {}, "You leave every circle, with a signed departure. Your name is never given out again. This cannot be undone. If you are the only owner of a circle, hand it to someone or delete the circle first."),
  h("fieldset", {}, h("legend", {}, "Your warnings"),
    h("div", { class: "check" }, retract, h("label", { for: "warnings-retract" }, "Retract them: they are wiped for everyone")),
    h("div", { class: "check" }, keep, h("label", { for: "warnings-keep" }, "Leave them: members see them as from “a former member”"))),
  field("Your passphrase", passphrase),
  submit);
}

/** What quick exit does and does not do, with how to clear the browser's history. */
export function exitHelpBox() {
  return h("details", { class: "help" }, h("summary", {}, "About quick exit and your browser history"), h("p", {}, exitHelp()));
}

/** Forgot the passphrase: the recovery code opens the keys; a new code replaces it. */
export function showRecover() {
  const username = h("input", { name: "username", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" });
  const code = h("input", { name: "code", required: true, autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
  const next = passphraseInput("next", "new-password");
  const again = passphraseInput("again", "new-password");
  const submit = h("button", { type: "submit" }, "Recover my account");
  show(
    h("h1", {}, "Recover your account"),
    h("p", {}, "The recovery code you wrote down when you made the account opens your keys in this browser. You then set a new passphrase, and get a new recovery code: the old one stops working."),
    h("form", {
      class: "card",
      onsubmit: (event) => {
        event.preventDefault();
        act(submit, async () => {
          repeatCheck(next, again);
          const client = newClient();
          const account = await client.recover(username.value, code.value, next.value);
          for (const input of [code, next, again]) {
            input.value = "";
          }
          status("");
          signedIn(client, account);
          showRecoveryCode(account, { recovered: true });
        });
      },
    },
    field("Username", username),
    field("Recovery code", code, "32 letters and digits, as you wrote it down; spaces and dashes do not matter."),
    field("New passphrase", next, `At least ${MIN_PASSPHRASE_LENGTH} characters, not a common passphrase, without your username.`),
    field("New passphrase again", again),
    submit),
    h("p", {}, h("button", { type: "button", class: "link", onclick: () => showAuth("login") }, "Back to log in")),
  );
}
