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
import { act, show, status } from "./app.js";
import { field, formatDate, h, replace } from "./dom.js";
import { userText } from "./text.js";

const STATUS_TEXT = {
  open: "Received. The circle's admins have not decided yet.",
  hidden: "The warning is hidden while the admins review your request.",
  removed: "The admins removed the warning.",
  dismissed: "The admins decided not to remove it.",
  restored: "The admins reviewed it and left the warning up.",
};

/** A read-only copy of a link with a Copy button. */
export function copyBox(value, labelText, buttonText = "Copy") {
  const box = h("input", { type: "text", readonly: true, value, class: "invite-link", "aria-label": labelText });
  box.addEventListener("focus", () => box.select());
  const copy = h("button", { type: "button" }, buttonText);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(value);
      status("Copied.");
    } catch {
      box.select();
      status("Select the text and copy it (Ctrl+C or ⌘C).");
    }
  });
  return h("div", { class: "copy" }, box, copy);
}

function pasteForm(what, onLink) {
  const input = h("input", { name: "link", required: true, autocomplete: "off", spellcheck: "false" });
  const go = h("button", { type: "submit" }, "Continue");
  return h("form", {
    class: "card",
    onsubmit: (event) => {
      event.preventDefault();
      act(go, async () => onLink(input.value));
    },
  }, field(`Paste the ${what}`, input), go);
}

export function showTakedown(fragment) {
  if (!fragment) {
    show(h("h1", {}, "Ask for a takedown"), h("p", {}, "Open the takedown link a circle published, or paste it here."),
      pasteForm("takedown link", (text) => showTakedown(text.slice(text.indexOf("#") + 1))));
    return;
  }
  const origin = window.location.origin;
  let link;
  try {
    link = parseTakedownLink(`${origin}/takedown#${fragment}`, origin);
  } catch (error) {
    show(h("h1", {}, "Ask for a takedown"));
    throw error;
  }
  const name = h("input", { name: "name", required: true, maxlength: "200" });
  const contact = h("input", { name: "contact", maxlength: "500" });
  const text = h("textarea", { name: "text", rows: "6", required: true });
  const room = h("p", { class: "hint", "aria-live": "polite" });
  const send = h("button", { type: "submit" }, "Send request");
  // What the server keeps of a request is at most 4 KiB for everyone; say so while typing.
  const measure = () => {
    const used = requestSize({ name: name.value, contact: contact.value, text: text.value });
    const over = used - MAX_REQUEST_BYTES;
    room.className = over > 0 ? "hint over" : "hint";
    room.textContent = over > 0
      ? `Too long by ${over} bytes: shorten your request before sending it.`
      : `${MAX_REQUEST_BYTES - used} bytes left (a request holds about ${MAX_REQUEST_BYTES} bytes; letters outside A–Z take two or more).`;
  };
  for (const input of [name, contact, text]) {
    input.addEventListener("input", measure);
  }
  measure();
  show(
    h("h1", {}, "Ask for a takedown"),
    h("p", {}, "If a warning in this circle is about you and you want it taken down, tell the circle's admins here. You need no account. Your request is encrypted in this page so that only the circle's admins can read it; the server cannot."),
    h("form", {
      class: "card",
      onsubmit: (event) => {
        event.preventDefault();
        act(send, async () => {
          status("Encrypting…", { busy: true });
          const result = await fileTakedown(new Client(), link, { name: name.value, contact: contact.value, text: text.value }, {
            progress: (p) => status(progressText(p), { busy: true }),
          });
          status("");
          showFiled(result);
        });
      },
    },
    field("Your name, as the warning would name you", name, "The admins use it to find the warning."),
    field("How the admins can reach you (optional)", contact),
    field("Your request", text, "Which warning, and why it should come down."),
    room,
    h("p", { class: "hint" }, "Before it is sent, this page does a few seconds of computing (a proof of work) that the server asks of every request, so that nobody can jam this channel with junk. It takes longer while the channel is busy; keep the page open."),
    send),
  );
}

function progressText({ stage, work, evaluations, found }) {
  if (stage === "challenge") {
    return "Asking the server for its challenge…";
  }
  if (stage === "sending") {
    return "Sending…";
  }
  // The work is random: the expected count of tries is an estimate, never passed.
  const share = Math.min(99, Math.floor((100 * evaluations) / (SOLUTIONS * work)));
  return `Working on the proof of work: about ${share} % (${found} of ${SOLUTIONS} found)…`;
}

function showFiled(result) {
  show(
    h("h1", {}, "Request sent"),
    h("p", {}, h("strong", {}, "Keep this receipt link."), " It is the only way to see what the admins decide and read their answer. Anyone who has it can read the answer, so keep it private."),
    copyBox(result.receipt, "Receipt link", "Copy receipt link"),
    h("p", {}, h("a", { href: result.receipt }, "Open the receipt now")),
  );
}

export function showReceipt(fragment) {
  if (!fragment) {
    show(h("h1", {}, "Your takedown request"), pasteForm("receipt link", (text) => showReceipt(text.slice(text.indexOf("#") + 1))));
    return;
  }
  const origin = window.location.origin;
  const heading = h("h1", {}, "Your takedown request");
  const answer = h("div", { "aria-live": "polite" }, h("p", {}, "Checking…"));
  const refresh = h("button", { type: "button", class: "secondary" }, "Check again");
  show(heading, answer, refresh);
  const check = () => act(refresh, async () => {
    const receipt = parseReceipt(`${origin}/receipt#${fragment}`, origin);
    const result = await takedownStatus(new Client(), receipt);
    replace(answer,
      h("p", { class: "verdict good" }, STATUS_TEXT[result.status] ?? result.status),
      h("p", { class: "meta" }, `Last change: ${formatDate(result.updatedAt)}`),
      result.response ? [h("h2", {}, "The admins' answer"), h("p", { class: "card" }, userText(result.response, { multiline: true }))] : null,
    );
  });
  refresh.addEventListener("click", check);
  return check();
}
