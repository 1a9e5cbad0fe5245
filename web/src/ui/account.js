/**
 * The account: the sessions (see, end; each named by its device, session.js), a passphrase
 * change, signing out everywhere on this device, and deleting the account.
 */
import { deleteAccount } from "../client/deletion.js";
import { MIN_PASSPHRASE_LENGTH } from "../client/passphrase.js";
import { passphraseInput, repeatCheck } from "./auth.js";
import { confirmButton, field, formatTime, h, replace } from "./dom.js";
import { exitHelpBox } from "./safety.js";
import { signOut, signOutDevice } from "./session.js";
import { act, app, current, show, status } from "./shell.js";
import { t, tx } from "./i18n/index.js";
import { isolated, userText } from "./text.js";

export async function showAccount(notice = "") {
  current(() => showAccount());
  const sessions = h("div", {}, h("p", {}, t("common.loading")));
  show(
    h("h1", {}, t("bar.my_account")),
    h("p", { class: "meta" }, tx("bar.signed_in_as", { name: h("strong", {}, app.account.username) })),
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
  const endOthers = h("button", { type: "button", class: "secondary danger" }, t("account.end_others"));
  const end = (button, sessionIds) => act(button, async () => {
    status(t("account.checking_passphrase"), { busy: true });
    const ended = await app.client.endSessions(app.account.username, passphrase.value, { sessionIds });
    passphrase.value = "";
    await showAccount(t("account.sessions_ended", { count: ended }));
  });
  endOthers.addEventListener("click", () => end(endOthers, null));
  replace(container,
    h("section", { class: "card", "aria-labelledby": "sessions-heading" },
      h("h2", { id: "sessions-heading" }, t("account.sessions_title")),
      h("p", {}, t("account.sessions_intro")),
      h("ul", { class: "sessions" }, rows.map((row) => {
        const label = row.device_label ?? null;
        const item = h("li", { class: "session" },
          h("span", { class: "session-name" }, label === null ? t("account.unnamed_device") : userText(label), row.current ? t("account.this_browser") : ""),
          h("span", { class: "meta" }, t("account.session_times", { created: formatTime(row.created_at), used: formatTime(row.last_used_at) })));
        if (!row.current) {
          const device = label === null ? t("account.unnamed_device") : isolated(label);
          const button = h("button", { type: "button", class: "secondary danger", "aria-label": t("account.end_label", { device, date: formatTime(row.created_at) }) }, t("account.end"));
          button.addEventListener("click", () => end(button, [row.session_id]));
          item.append(button);
        }
        return item;
      })),
      field(t("account.passphrase_to_end"), passphrase, t("account.passphrase_to_end_hint")),
      rows.length > 1 ? endOthers : null));
}

function passphraseForm() {
  const current = passphraseInput("current", "current-password");
  const next = passphraseInput("next", "new-password");
  const again = passphraseInput("again", "new-password");
  const submit = h("button", { type: "submit" }, t("account.change_passphrase"));
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
        await showAccount(t("account.passphrase_changed"));
      });
    },
  },
  h("h2", {}, t("account.change_title")),
  h("p", {}, t("account.change_intro")),
  field(t("account.current_passphrase"), current),
  field(t("account.new_passphrase"), next, t("account.new_passphrase_hint", { min: MIN_PASSPHRASE_LENGTH })),
  field(t("account.new_passphrase_again"), again),
  submit);
}

function deviceBox() {
  const forget = confirmButton(t("device.forget"), {
    question: t("device.forget_question"),
    yes: t("device.forget_yes"),
    no: t("common.cancel"),
    label: t("device.forget_label"),
  }, (yes) => act(yes, () => signOutDevice()));
  return h("section", { class: "card" },
    h("h2", {}, t("device.title")),
    h("p", {}, t("device.intro")),
    forget);
}

function deleteForm() {
  const retract = h("input", { type: "radio", name: "warnings", value: "retract", id: "warnings-retract", required: true });
  const keep = h("input", { type: "radio", name: "warnings", value: "keep", id: "warnings-keep" });
  const passphrase = passphraseInput("passphrase", "current-password");
  const submit = h("button", { type: "submit", class: "danger" }, t("account.delete"));
  return h("form", {
    class: "card",
    onsubmit: (event) => {
      event.preventDefault();
      act(submit, async () => {
        status(t("account.deleting"), { busy: true });
        await deleteAccount(app.circles, { passphrase: passphrase.value, warnings: retract.checked ? "retract" : "keep" });
        passphrase.value = "";
        await signOut({ quiet: true });
        status(t("account.deleted"));
      });
    },
  },
  h("h2", {}, t("account.delete")),
  h("p", {}, t("account.delete_intro")),
  h("fieldset", {}, h("legend", {}, t("account.your_warnings")),
    h("div", { class: "check" }, retract, h("label", { for: "warnings-retract" }, t("account.warnings_retract"))),
    h("div", { class: "check" }, keep, h("label", { for: "warnings-keep" }, t("account.warnings_keep")))),
  field(t("account.your_passphrase"), passphrase),
  submit);
}
