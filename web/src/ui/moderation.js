/**
 * Moderation: reporting a warning (members), and the admins' queue of reports and
 * takedown requests with their decisions, plus the circle's public takedown link.
 * Reasons, notes, requests and responses are encrypted to the admins in this browser.
 */
import { ACTIONS, REASONS } from "../client/moderation.js";
import { act, app, status } from "./app.js";
import { checkRow, showCircleTab } from "./circle.js";
import { field, formatDate, formatTime, h, replace } from "./dom.js";
import { copyBox } from "./takedown.js";
import { userText } from "./text.js";

const REASON_TEXT = {
  false: "It is not true",
  doxxing: "It exposes private details (doxxing)",
  harassment: "It is itself harassment",
  "off-topic": "It does not belong in this circle",
  other: "Something else",
};

const STATUS_TEXT = {
  open: "open",
  hidden: "warning hidden while under review",
  dismissed: "dismissed",
  removed: "warning removed",
  restored: "warning restored",
};

const ACTION_TEXT = {
  dismiss: "Dismiss (no action)",
  hide: "Hide the warning while you review",
  remove: "Remove the warning (cannot be undone)",
  restore: "Restore the warning",
};

/** The actions a case in this status still allows (docs/api.md, Moderation statuses). */
function allowed(status) {
  if (status === "open") {
    return ["dismiss", "hide", "remove"];
  }
  if (status === "hidden") {
    return ["restore", "remove"];
  }
  return [];
}

/** A "Report" button for a warning: reason and note, encrypted to the circle's admins. */
export function reportButton(entry, circle) {
  const button = h("button", { type: "button", class: "secondary" }, "Report");
  button.addEventListener("click", () => {
    const reason = h("select", { name: "reason" }, REASONS.map((r) => h("option", { value: r }, REASON_TEXT[r] ?? r)));
    const note = h("textarea", { name: "note", rows: "3", maxlength: "4000" });
    const send = h("button", { type: "submit" }, "Send report to the admins");
    const form = h("form", {
      class: "card report",
      "aria-label": `Report the warning about ${entry.subject}`,
      onsubmit: (event) => {
        event.preventDefault();
        act(send, async () => {
          await app.moderation.report(circle.circleId, entry.entryId, { reason: reason.value, note: note.value });
          form.replaceWith(h("p", { class: "notice" }, "Your report was sent to the circle's admins."));
        });
      },
    },
    h("p", {}, "Your report and a verifiable copy of this warning are encrypted to the circle's admins. The server and the author do not learn who reported."),
    field("Why?", reason), field("Anything the admins should know (optional)", note), send);
    button.replaceWith(form);
    reason.focus();
  });
  return button;
}

export async function moderationPanel(panel, circle) {
  status("Opening the moderation queue…", { busy: true });
  const { cases } = await app.moderation.listCases(circle.circleId);
  const link = await app.moderation.takedownLink(circle.circleId, window.location.origin);
  // Sealed warnings: the first admin to open Moderation signs the settings (k = 2 by default).
  const settings = await app.sealed.configure(circle.circleId);
  const matches = await app.sealed.matches(circle.circleId);
  status("");
  const open = cases.filter((c) => c.status === "open" || c.status === "hidden");
  const closed = cases.filter((c) => !(c.status === "open" || c.status === "hidden"));
  // Open takedown requests can be dismissed together (a flood of junk): when there are
  // several, each gets a box.
  const bulky = open.filter((c) => c.kind === "takedown" && c.status === "open");
  const boxes = new Map(
    bulky.length > 1 ? bulky.map((c) => [c.caseId, h("input", { type: "checkbox", name: "bulk" })]) : [],
  );
  replace(
    panel,
    h("h2", {}, "Moderation"),
    h("section", { class: "card" }, h("h3", {}, "Takedown link"),
      h("p", {}, "Publish this link (on a website, in a letter). Anyone who finds a warning about them here can ask for it to be taken down, without an account; the request is encrypted to this circle's admins."),
      copyBox(link, "Takedown link", "Copy takedown link")),
    h("h3", {}, open.length ? `Waiting for a decision (${open.length})` : "Nothing is waiting for a decision."),
    boxes.size ? bulkForm(boxes, circle) : null,
    open.map((c) => caseCard(c, circle, boxes.get(c.caseId))),
    closed.length ? [h("h3", {}, `Decided (${closed.length})`), closed.map((c) => caseCard(c, circle))] : null,
    sealedSection(matches, settings, circle),
    probesSection(circle),
  );
}

/**
 * Who asked the server to evaluate names for sealed warnings, how many forms and when: the
 * audit log's evaluation records, verified in full and their notes opened in this browser
 * (only admins can). Loaded on request: it verifies the whole log.
 */
function probesSection(circle) {
  const result = h("div", { "aria-live": "polite" });
  const show = h("button", { type: "button", class: "secondary" }, "Show who evaluated names");
  show.addEventListener("click", () => act(show, async () => {
    status("Verifying the audit log…", { busy: true });
    const rows = await app.audit.evaluations(circle.circleId);
    status("");
    if (rows.length === 0) {
      replace(result, h("p", {}, "Nobody has evaluated a name for a sealed warning."));
      return;
    }
    const totals = new Map();
    for (const row of rows) {
      const key = row.user ?? "";
      const total = totals.get(key) ?? { count: 0, forms: 0 };
      totals.set(key, { count: total.count + 1, forms: total.forms + (row.forms ?? 0) });
    }
    const byCount = [...totals.entries()].sort(([a, x], [b, y]) => y.count - x.count || (a < b ? -1 : 1));
    replace(result,
      h("ul", { class: "probe-totals" }, byCount.map(([user, t]) =>
        h("li", {}, user ? userText(user) : "(a note that does not open)", `: ${t.count} evaluation${t.count === 1 ? "" : "s"}, ${t.forms} name form${t.forms === 1 ? "" : "s"}`))),
      h("ol", { class: "records probes" }, rows.map((r) =>
        h("li", {}, r.user ? userText(r.user) : "(a note that does not open)",
          ` asked for ${r.forms ?? "?"} name form${r.forms === 1 ? "" : "s"}`,
          h("span", { class: "meta" }, ` · ${formatTime(r.at)} · record ${r.seq}`)))));
  }));
  return h("section", { class: "card", "aria-label": "Sealed-warning evaluations" },
    h("h3", {}, "Who evaluated names"),
    h("p", {}, "Each sealed warning asks the server to evaluate its names (one or two forms per name), and each evaluation is an audit record whose who and when only the admins can read. Many evaluations by one member can mean they are testing names. The server wrote these notes: it is its word."),
    show, result);
}

/** What an excluded filing's reason means to an admin (§36.7). */
const EXCLUDED = {
  unreadable_share: "its share does not open with the moderation key",
  bad_share: "its share fails the commitments sealed with it",
  other_commitments: "it committed to another polynomial than the verified shares",
  decryption_failed: "its warning does not open with the matched key",
};

/** Sealed warnings that matched (verified and opened in this browser), and the circle's k. */
function sealedSection(matches, settings, circle) {
  const k = h("select", { name: "sealed-k" }, [2, 3, 4, 5].map((n) => h("option", { value: String(n), selected: n === settings.k }, String(n))));
  k.value = String(settings.k);
  const save = h("button", { type: "submit", class: "secondary" }, "Save");
  const form = h("form", {
    class: "card",
    "aria-label": "Sealed warnings setting",
    onsubmit: (event) => {
      event.preventDefault();
      act(save, async () => {
        await app.sealed.configure(circle.circleId, { k: Number(k.value) });
        showCircleTab(circle, "moderation", `Sealed warnings now open when ${k.value} members name the same person. The change is signed by you and in the audit log.`);
      });
    },
  },
  field("Sealed warnings open when this many members name the same person", k, "Changing it leaves warnings sealed under the old number uncounted until their authors seal them again."),
  save);
  return h("section", { "aria-label": "Sealed warnings" },
    h("h3", {}, matches.length ? `Sealed warnings that matched (${matches.length})` : "No sealed warnings have matched."),
    h("p", {}, "Each match was opened in this browser after checking that at least k different members, each in the circle's signed record, signed a warning naming the same person. Nothing here is visible to the rest of the circle unless an author publishes their own warning."),
    matches.map((m) => h("article", { class: "card match", "aria-label": `Sealed match ${m.matchId}` },
      h("h4", {}, m.opened ? `${m.filers.length} members: ${m.filers.join(", ")}` : `Waiting: fewer than ${m.k} members' shares check out`),
      m.kCurrent ? null : h("p", { class: "hint" }, `Opened when the circle needed ${m.k}.`),
      m.warnings.map((w) => h("div", { class: "sealed-warning" },
        h("p", {}, h("strong", {}, w.subject ?? ""), ` — from ${w.filer}`),
        h("p", { class: "narrative" }, w.text ?? ""))),
      m.excluded.map((e) => h("p", { class: "hint excluded" }, `Left out: ${e.filer}'s filing — ${EXCLUDED[e.reason] ?? e.reason}.`)))),
    form);
}

/** Dismiss the ticked takedown requests at once, each by its own signed decision. */
function bulkForm(boxes, circle) {
  const count = h("span", {}, "0");
  const update = () => {
    count.textContent = String([...boxes.values()].filter((b) => b.checked).length);
  };
  for (const box of boxes.values()) {
    box.addEventListener("change", update);
  }
  const all = h("button", { type: "button", class: "secondary" }, `Tick all ${boxes.size} open takedown requests`);
  all.addEventListener("click", () => {
    const tick = ![...boxes.values()].every((b) => b.checked);
    for (const box of boxes.values()) {
      box.checked = tick;
    }
    update();
  });
  const reason = h("textarea", { name: "bulk-reason", rows: "2", required: true, maxlength: "4000" });
  const submit = h("button", { type: "submit", class: "danger" }, "Dismiss the ticked requests (", count, ")");
  return h("form", {
    class: "card bulk",
    "aria-label": "Dismiss takedown requests in bulk",
    onsubmit: (event) => {
      event.preventDefault();
      act(submit, async () => {
        const chosen = [...boxes].filter(([, box]) => box.checked).map(([caseId]) => caseId);
        if (chosen.length === 0) {
          status("Tick the requests to dismiss first.");
          return;
        }
        const done = await app.moderation.dismissCases(circle.circleId, chosen, {
          reason: reason.value,
          progress: (n) => status(`Dismissed ${n} of ${chosen.length}…`, { busy: true }),
        });
        status("");
        showCircleTab(circle, "moderation", `${done.length} requests dismissed. Each decision is signed by you and in the circle's audit log.`);
      });
    },
  },
  h("h4", {}, "Dismiss takedown requests in bulk"),
  h("p", {}, "If this channel was flooded with junk, tick the requests that are junk and dismiss them together. Each one still gets its own decision, signed by you and recorded in the circle's audit log; the requesters see “dismissed”."),
  all,
  field("Reason (only the circle's admins can read it)", reason),
  submit);
}

function caseCard(c, circle, box = null) {
  const title = c.kind === "report" ? "Report" : "Takedown request";
  const card = h("article", { class: "card case", "aria-label": `${title} ${c.caseId}` },
    h("h4", {}, `${title} · ${STATUS_TEXT[c.status] ?? c.status}`),
    h("p", { class: "meta" }, `Filed ${formatDate(c.createdAt)}`),
    box ? checkRow(box, "Tick to dismiss in bulk") : null);
  if (c.unreadable) {
    card.append(h("p", { class: "alert security" }, `This case does not verify and is not shown: ${c.unreadable}`));
    return card;
  }
  if (c.kind === "report") {
    card.append(h("dl", {},
      h("dt", {}, "Reported by"), h("dd", {}, userText(c.reporter), c.reporterVerified ? "" : " (not in the circle's signed record: unverified)"),
      h("dt", {}, "Reason"), h("dd", {}, REASON_TEXT[c.reason] ?? c.reason),
      c.note ? [h("dt", {}, "Note"), h("dd", {}, userText(c.note, { multiline: true }))] : null,
      h("dt", {}, "The warning said"),
      h("dd", {}, h("strong", {}, userText(c.reported.subject ?? "")), c.reported.text ? [" — ", userText(c.reported.text, { multiline: true })] : "",
        h("span", { class: "meta" }, ` (${c.reported.check})`))));
  } else {
    card.append(h("dl", {},
      h("dt", {}, "About"), h("dd", {}, userText(c.name)),
      h("dt", {}, "Contact"), h("dd", {}, c.contact ? userText(c.contact) : "(none given)"),
      h("dt", {}, "Request"), h("dd", {}, userText(c.text, { multiline: true }))));
  }
  if (c.decisions.length) {
    card.append(h("ol", { class: "decisions", "aria-label": "Decisions" }, c.decisions.map((d) => h("li", {},
      `${d.action} by ${d.signer}${d.signerVerified ? "" : " (unverified)"}, ${formatDate(d.createdAt)}`,
      d.reason ? [": ", userText(d.reason, { multiline: true })] : null,
      d.response ? [h("br"), "Response sent: ", userText(d.response, { multiline: true })] : null))));
  }
  const actions = allowed(c.status);
  if (actions.length) {
    card.append(decideForm(c, circle, actions));
  }
  return card;
}

function decideForm(c, circle, actions) {
  const action = h("select", { name: "action" }, actions.filter((a) => ACTIONS.includes(a)).map((a) => h("option", { value: a }, ACTION_TEXT[a])));
  const reason = h("textarea", { name: "reason", rows: "2", required: true, maxlength: "4000" });
  const response = c.kind === "takedown" ? h("textarea", { name: "response", rows: "2", maxlength: "4000" }) : null;
  const choices = c.kind === "takedown" ? targets(c) : null;
  const submit = h("button", { type: "submit" }, "Record decision");
  return h("form", {
    class: "decide",
    onsubmit: (event) => {
      event.preventDefault();
      act(submit, async () => {
        const chosen = choices?.querySelector("input:checked")?.value ?? null;
        await app.moderation.decide(circle.circleId, c.caseId, {
          action: action.value,
          reason: reason.value,
          entryId: c.kind === "takedown" ? chosen : null,
          response: response && response.value.trim() ? response.value : null,
        });
        showCircleTab(circle, "moderation", "The decision was signed and recorded.");
      });
    },
  },
  h("h5", {}, "Decide"),
  choices,
  field("Decision", action),
  field("Reason (only the circle's admins can read it)", reason),
  response ? field("Response to the requester (optional; they read it with their receipt)", response) : null,
  submit);
}

/** For a takedown: which warning the decision acts on, from the warnings matching the name. */
function targets(c) {
  if (c.candidates.length === 0) {
    return h("p", { class: "hint" }, "None of the live warnings this browser holds from this circle matches the name in the request, even in part or by sound.");
  }
  // Only a warning with the same name is chosen in advance: a partial or possible match may be someone else.
  return h("fieldset", {}, h("legend", {}, "Which warning does this decide on?"),
    c.candidates.map((candidate, i) => {
      const radio = h("input", { type: "radio", name: `target-${c.caseId}`, value: candidate.entryId, checked: i === 0 && candidate.level === "exact" });
      return checkRow(radio, [userText(candidate.subject), ": ", userText([...(candidate.text ?? "")].slice(0, 120).join("")), ` (${candidate.level} match)`]);
    }));
}
