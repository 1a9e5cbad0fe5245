/**
 * Getting in: log in, create an account, the recovery code shown once, and getting back in
 * with the recovery code when the passphrase is lost.
 */
import { ClientError } from "../client/errors.js";
import { MIN_PASSPHRASE_LENGTH } from "../client/passphrase.js";
import { field, fingerprintBlock, h } from "./dom.js";
import { exitHelpBox } from "./safety.js";
import { newClient, signedIn } from "./session.js";
import { act, app, current, nav, show, status } from "./shell.js";
import { t, tx } from "./i18n/index.js";

export function repeatCheck(first, second) {
  if (first.value !== second.value) {
    throw new ClientError("passphrase_mismatch", t("account.new_passphrases_differ"));
  }
}

export function passphraseInput(name, autocomplete) {
  return h("input", { name, type: "password", required: true, autocomplete, minlength: autocomplete === "new-password" ? String(MIN_PASSPHRASE_LENGTH) : null });
}

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
    nav.join(app.pendingInvite);
  } else {
    nav.home();
  }
}

/** Forgot the passphrase: the recovery code opens the keys; a new code replaces it. */
export function showRecover() {
  current(() => showRecover());
  const username = h("input", { name: "username", dir: "ltr", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" });
  const code = h("input", { name: "code", dir: "ltr", required: true, autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
  const next = passphraseInput("next", "new-password");
  const again = passphraseInput("again", "new-password");
  const submit = h("button", { type: "submit" }, t("recover.submit"));
  show(
    h("h1", {}, t("recover.title")),
    h("p", {}, t("recover.intro")),
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
    field(t("auth.username"), username),
    field(t("recover.code"), code, t("recover.code_hint")),
    field(t("account.new_passphrase"), next, t("account.new_passphrase_hint", { min: MIN_PASSPHRASE_LENGTH })),
    field(t("account.new_passphrase_again"), again),
    submit),
    h("p", {}, h("button", { type: "button", class: "link", onclick: () => showAuth("login") }, t("recover.back"))),
  );
}
