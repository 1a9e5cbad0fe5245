/**
 * The public pages: `/takedown#<link>` (ask a circle's admins to take down a warning,
 * no account needed) and `/receipt#<receipt>` (read the status and the admins' answer).
 * The request is encrypted in this page; the receipt's secret never leaves it.
 */
import {
  fileTakedown,
  MAX_REQUEST_BYTES,
  parseReceipt,
  parseTakedownLink,
  requestSize,
  SOLUTIONS,
  takedownStatus,
} from "../client/takedown.js";
import { Client } from "../client/sdk.js";
import { act, copyBox, current, show, status } from "./shell.js";
import { field, formatDate, h, replace } from "./dom.js";
import { t } from "./i18n/index.js";
import { isolated, userText } from "./text.js";

/** A request's states, each said by `receipt.status_<state>`. */
const STATUSES = new Set(["open", "hidden", "removed", "dismissed", "restored"]);

/** `what` names the link in the field's label: "takedown" or "receipt". */
function pasteForm(what, onLink) {
  const input = h("input", { name: "link", required: true, autocomplete: "off", spellcheck: "false" });
  const go = h("button", { type: "submit" }, t("common.continue"));
  return h("form", {
    class: "card",
    onsubmit: (event) => {
      event.preventDefault();
      act(go, async () => onLink(input.value));
    },
  }, field(t(`takedown.paste_${what}`), input), go);
}

export function showTakedown(fragment) {
  current(() => showTakedown(fragment));
  if (!fragment) {
    show(h("h1", {}, t("takedown.title")), h("p", {}, t("takedown.open_link")),
      pasteForm("takedown", (text) => showTakedown(text.slice(text.indexOf("#") + 1))));
    return;
  }
  const origin = window.location.origin;
  let link;
  try {
    link = parseTakedownLink(`${origin}/takedown#${fragment}`, origin);
  } catch (error) {
    show(h("h1", {}, t("takedown.title")));
    throw error;
  }
  const name = h("input", { name: "name", required: true, maxlength: "200" });
  const contact = h("input", { name: "contact", maxlength: "500" });
  const text = h("textarea", { name: "text", rows: "6", required: true });
  const room = h("p", { class: "hint", "aria-live": "polite" });
  const send = h("button", { type: "submit" }, t("takedown.send"));
  // What the server keeps of a request is at most 4 KiB for everyone; say so while typing.
  const measure = () => {
    const used = requestSize({ name: name.value, contact: contact.value, text: text.value });
    const over = used - MAX_REQUEST_BYTES;
    room.className = over > 0 ? "hint over" : "hint";
    room.textContent = over > 0
      ? t("takedown.too_long", { over })
      : t("takedown.room", { left: MAX_REQUEST_BYTES - used, max: MAX_REQUEST_BYTES });
  };
  for (const input of [name, contact, text]) {
    input.addEventListener("input", measure);
  }
  measure();
  show(
    h("h1", {}, t("takedown.title")),
    h("p", {}, t("takedown.intro")),
    h("form", {
      class: "card",
      onsubmit: (event) => {
        event.preventDefault();
        act(send, async () => {
          status(t("takedown.encrypting"), { busy: true });
          const result = await fileTakedown(new Client(), link, { name: name.value, contact: contact.value, text: text.value }, {
            progress: (p) => status(progressText(p), { busy: true }),
          });
          status("");
          showFiled(result);
        });
      },
    },
    field(t("takedown.name"), name, t("takedown.name_hint")),
    field(t("takedown.contact"), contact),
    field(t("takedown.text"), text, t("takedown.text_hint")),
    room,
    h("p", { class: "hint" }, t("takedown.work_hint")),
    send),
  );
}

function progressText({ stage, work, evaluations, found }) {
  if (stage === "challenge") {
    return t("takedown.challenge");
  }
  if (stage === "sending") {
    return t("takedown.sending");
  }
  // The work is random: the expected count of tries is an estimate, never passed.
  const share = Math.min(99, Math.floor((100 * evaluations) / (SOLUTIONS * work)));
  return t("takedown.working", { share, found, total: SOLUTIONS });
}

function showFiled(result) {
  current(() => showFiled(result));
  show(
    h("h1", {}, t("join.sent")),
    h("p", {}, h("strong", {}, t("receipt.keep")), " ", t("receipt.keep_why")),
    copyBox(result.receipt, t("receipt.link"), t("receipt.copy")),
    h("p", {}, h("a", { href: result.receipt }, t("receipt.open"))),
  );
}

export function showReceipt(fragment) {
  current(() => showReceipt(fragment));
  if (!fragment) {
    show(h("h1", {}, t("receipt.title")), pasteForm("receipt", (text) => showReceipt(text.slice(text.indexOf("#") + 1))));
    return;
  }
  const origin = window.location.origin;
  const heading = h("h1", {}, t("receipt.title"));
  const answer = h("div", { "aria-live": "polite" }, h("p", {}, t("receipt.checking")));
  const refresh = h("button", { type: "button", class: "secondary" }, t("receipt.check_again"));
  show(heading, answer, refresh);
  const check = () => act(refresh, async () => {
    const receipt = parseReceipt(`${origin}/receipt#${fragment}`, origin);
    const result = await takedownStatus(new Client(), receipt);
    replace(answer,
      h("p", { class: "verdict good" }, STATUSES.has(result.status) ? t(`receipt.status_${result.status}`) : isolated(result.status)),
      h("p", { class: "meta" }, t("receipt.last_change", { date: formatDate(result.updatedAt) })),
      result.response ? [h("h2", {}, t("receipt.answer")), h("p", { class: "card" }, userText(result.response, { multiline: true }))] : null,
    );
  });
  refresh.addEventListener("click", check);
  return check();
}
