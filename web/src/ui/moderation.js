/**
 * Moderation: reporting a warning (members), and the admins' queue of reports and
 * takedown requests with their decisions, plus the circle's public takedown link.
 * Reasons, notes, requests and responses are encrypted to the admins in this browser.
 */
import { ACTIONS, REASONS } from "../client/moderation.js";
import { act, app, copyBox, nav, status } from "./shell.js";
import { checkRow, confirmButton, field, formatDate, formatTime, h, replace } from "./dom.js";
import { t, tx } from "./i18n/index.js";
import { isolated, userList, userText } from "./text.js";

/** A report's reason, a case's status, a decision's action, in words (`report.reason_<r>`, …). */
function said(prefix, value) {
  const key = `${prefix}${value}`;
  const text = t(key);
  return text === key ? isolated(value) : text;
}

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
  const button = h("button", { type: "button", class: "secondary" }, t("report.button"));
  button.addEventListener("click", () => {
    const reason = h("select", { name: "reason" }, REASONS.map((r) => h("option", { value: r }, said("report.reason_", r))));
    const note = h("textarea", { name: "note", rows: "3", maxlength: "4000" });
    const send = h("button", { type: "submit" }, t("report.send"));
    const form = h("form", {
      class: "card report",
      "aria-label": t("report.form_label", { subject: isolated(entry.subject) }),
      onsubmit: (event) => {
        event.preventDefault();
        act(send, async () => {
          await app.moderation.report(circle.circleId, entry.entryId, { reason: reason.value, note: note.value });
          form.replaceWith(h("p", { class: "notice" }, t("report.sent")));
        });
      },
    },
    h("p", {}, t("report.intro")),
    field(t("report.why"), reason), field(t("report.note"), note), send);
    button.replaceWith(form);
    reason.focus();
  });
  return button;
}

export async function moderationPanel(panel, circle) {
  status(t("moderation.opening"), { busy: true });
  // A page of each (newest first), with a button for more: the panel costs the same
  // however many cases the circle has had.
  const waiting = await app.moderation.listCases(circle.circleId, { status: "open" });
  const decided = await app.moderation.listCases(circle.circleId, { status: "decided" });
  const link = await app.moderation.takedownLink(circle.circleId, window.location.origin);
  // Sealed warnings: the first admin to open Moderation signs the settings (k = 2 by default).
  const settings = await app.sealed.configure(circle.circleId);
  const matches = await app.sealed.matches(circle.circleId);
  status("");
  // Open takedown requests can be dismissed together (a flood of junk): when there are
  // several, each gets a box.
  const bulky = waiting.cases.filter((c) => c.kind === "takedown" && c.status === "open");
  const boxes = new Map(
    bulky.length > 1 ? bulky.map((c) => [c.caseId, h("input", { type: "checkbox", name: "bulk" })]) : [],
  );
  replace(
    panel,
    h("h2", {}, t("tab.moderation")),
    h("section", { class: "card" }, h("h3", {}, t("moderation.takedown_link")),
      h("p", {}, t("moderation.takedown_link_intro")),
      copyBox(link, t("moderation.takedown_link"), t("moderation.copy_takedown_link"))),
    h("h3", {}, heading(waiting, "moderation.waiting", "moderation.waiting_paged", "moderation.nothing_waiting")),
    boxes.size ? bulkForm(boxes, circle) : null,
    caseList(waiting, circle, "open", boxes),
    decided.cases.length ? [h("h3", {}, heading(decided, "moderation.decided", "moderation.decided_paged")), caseList(decided, circle, "decided")] : null,
    sealedSection(matches, settings, circle),
    probesSection(circle),
  );
}

/** A section's heading: its count when the page holds every case, else "newest first". */
function heading(page, counted, paged, empty = null) {
  if (!page.cases.length) {
    return t(empty);
  }
  return page.nextCursor === null ? t(counted, { count: page.cases.length }) : t(paged);
}

/** A page of cases and, while the server has more, a button that adds the next page. */
function caseList(page, circle, wanted, boxes = new Map()) {
  const list = h("div", { class: "cases" }, page.cases.map((c) => caseCard(c, circle, boxes.get(c.caseId))));
  if (page.nextCursor === null) {
    return list;
  }
  let cursor = page.nextCursor;
  const more = h("button", { type: "button", class: "secondary more" }, t(wanted === "open" ? "moderation.more_open" : "moderation.more_decided"));
  more.addEventListener("click", () => act(more, async () => {
    status(t("moderation.loading_more"), { busy: true });
    const next = await app.moderation.listCases(circle.circleId, { status: wanted, cursor });
    status("");
    const cards = next.cases.map((c) => caseCard(c, circle));
    list.append(...cards);
    cursor = next.nextCursor;
    if (cursor === null) {
      more.remove();
    }
    if (cards.length) {
      cards[0].setAttribute("tabindex", "-1");
      cards[0].focus(); // keyboard and screen-reader users land on the first new case
    }
  }));
  return [list, more];
}

/** Sealed warnings that matched (verified and opened in this browser), and the circle's k. */
function sealedSection(matches, settings, circle) {
  const k = h("select", { name: "sealed-k" }, [2, 3, 4, 5].map((n) => h("option", { value: String(n), selected: n === settings.k }, String(n))));
  k.value = String(settings.k);
  const save = h("button", { type: "submit", class: "secondary" }, t("moderation.save"));
  const form = h("form", {
    class: "card",
    "aria-label": t("moderation.sealed_setting"),
    onsubmit: (event) => {
      event.preventDefault();
      act(save, async () => {
        await app.sealed.configure(circle.circleId, { k: Number(k.value) });
        nav.circle(circle.circleId, "moderation", t("moderation.sealed_saved", { count: Number(k.value) }));
      });
    },
  },
  field(t("moderation.sealed_k"), k, t("moderation.sealed_k_hint")),
  save);
  return h("section", { "aria-label": t("moderation.sealed_section") },
    h("h3", {}, matches.length ? t("moderation.sealed_matched", { count: matches.length }) : t("moderation.sealed_none")),
    h("p", {}, t("moderation.sealed_intro")),
    matches.map((m) => h("article", { class: "card match", "aria-label": t("moderation.sealed_match_label", { id: m.matchId }) },
      h("h4", {}, m.opened
        ? tx("moderation.sealed_filers", { count: m.filers.length, names: userList(m.filers) })
        : t("moderation.sealed_waiting", { count: m.k })),
      m.kCurrent ? null : h("p", { class: "hint" }, t("moderation.sealed_opened_at", { count: m.k })),
      m.warnings.map((w) => h("div", { class: "sealed-warning" },
        h("p", {}, h("strong", {}, userText(w.subject ?? "")), " ", tx("moderation.sealed_from", { name: userText(w.filer) })),
        h("p", {}, userText(w.text ?? "", { multiline: true })))),
      // Filings left out because their filer's share failed its checks (§36.7).
      m.excluded.map((e) => h("p", { class: "hint excluded" },
        tx("moderation.sealed_left_out", { name: userText(e.filer), reason: said("moderation.excluded_", e.reason) }))))),
    form);
}

/**
 * Who asked the server to evaluate names for sealed warnings, how many forms and when: the
 * audit log's evaluation records, verified in full and their notes opened in this browser
 * (only admins can). Loaded on request: it verifies the whole log.
 */
function probesSection(circle) {
  const result = h("div", { "aria-live": "polite" });
  const show = h("button", { type: "button", class: "secondary" }, t("moderation.probes_show"));
  const who = (user) => (user === null ? t("moderation.probes_unreadable") : userText(user));
  show.addEventListener("click", () => act(show, async () => {
    status(t("audit.verifying"), { busy: true });
    const rows = await app.audit.evaluations(circle.circleId);
    status("");
    if (rows.length === 0) {
      replace(result, h("p", {}, t("moderation.probes_none")));
      return;
    }
    const totals = new Map();
    for (const row of rows) {
      const total = totals.get(row.user) ?? { count: 0, forms: 0 };
      totals.set(row.user, { count: total.count + 1, forms: total.forms + (row.forms ?? 0) });
    }
    const byCount = [...totals.entries()].sort(([a, x], [b, y]) => y.count - x.count || String(a).localeCompare(String(b)));
    replace(result,
      h("ul", { class: "probe-totals" }, byCount.map(([user, total]) =>
        h("li", {}, tx("moderation.probes_total", { name: who(user), count: total.count, forms: total.forms })))),
      h("ol", { class: "records probes" }, rows.map((r) =>
        h("li", {}, tx("moderation.probes_row", { name: who(r.user), count: r.forms ?? "?" }),
          h("span", { class: "meta" }, t("moderation.probes_meta", { time: formatTime(r.at), seq: r.seq }))))));
  }));
  return h("section", { class: "card", "aria-label": t("moderation.probes_section") },
    h("h3", {}, t("moderation.probes_title")),
    h("p", {}, t("moderation.probes_intro")),
    show, result);
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
  const all = h("button", { type: "button", class: "secondary" }, t("bulk.tick_all", { count: boxes.size }));
  all.addEventListener("click", () => {
    const tick = ![...boxes.values()].every((b) => b.checked);
    for (const box of boxes.values()) {
      box.checked = tick;
    }
    update();
  });
  const reason = h("textarea", { name: "bulk-reason", rows: "2", required: true, maxlength: "4000" });
  const submit = h("button", { type: "submit", class: "danger" }, tx("bulk.dismiss", { count }));
  return h("form", {
    class: "card bulk",
    "aria-label": t("bulk.title"),
    onsubmit: (event) => {
      event.preventDefault();
      act(submit, async () => {
        const chosen = [...boxes].filter(([, box]) => box.checked).map(([caseId]) => caseId);
        if (chosen.length === 0) {
          status(t("bulk.tick_first"));
          return;
        }
        const done = await app.moderation.dismissCases(circle.circleId, chosen, {
          reason: reason.value,
          progress: (n) => status(t("bulk.progress", { n, total: chosen.length }), { busy: true }),
        });
        status("");
        nav.circle(circle.circleId, "moderation", t("bulk.done", { count: done.length }));
      });
    },
  },
  h("h4", {}, t("bulk.title")),
  h("p", {}, t("bulk.intro")),
  all,
  field(t("decide.reason"), reason),
  submit);
}

function caseCard(c, circle, box = null) {
  const title = c.kind === "report" ? t("case.report") : t("case.takedown");
  const card = h("article", { class: "card case", "aria-label": t("case.label", { title, id: c.caseId }) },
    h("h4", {}, t("case.heading", { title, status: said("case.status_", c.status) })),
    h("p", { class: "meta" }, t("case.filed", { date: formatDate(c.createdAt) })),
    box ? checkRow(box, t("bulk.tick")) : null);
  if (c.unreadable) {
    card.append(h("p", { class: "alert security" }, t("case.unreadable", { why: isolated(c.unreadable) })));
    return card;
  }
  if (c.kind === "report") {
    card.append(h("dl", {},
      h("dt", {}, t("case.reported_by")), h("dd", {}, userText(c.reporter), c.reporterVerified ? "" : t("case.reporter_unverified")),
      h("dt", {}, t("case.reason")), h("dd", {}, said("report.reason_", c.reason)),
      c.note ? [h("dt", {}, t("case.note")), h("dd", {}, userText(c.note, { multiline: true }))] : null,
      h("dt", {}, t("case.warning_said")),
      h("dd", {}, h("strong", {}, userText(c.reported.subject ?? "")), c.reported.text ? [" — ", userText(c.reported.text, { multiline: true })] : "",
        h("span", { class: "meta" }, " ", c.reported.verified
          ? tx("case.check_opened", { name: c.reported.author ? userText(c.reported.author) : t("case.anonymous") })
          : t("case.check_wiped")))));
    if (c.reported.anonymous) {
      card.append(unmaskAction(c, circle));
    }
  } else if (c.wiped) {
    card.append(h("p", { class: "hint" }, t("case.request_wiped")));
  } else {
    card.append(h("dl", {},
      h("dt", {}, t("case.about")), h("dd", {}, userText(c.name)),
      h("dt", {}, t("case.contact")), h("dd", {}, c.contact ? userText(c.contact) : t("case.no_contact")),
      h("dt", {}, t("case.request")), h("dd", {}, userText(c.text, { multiline: true }))));
  }
  if (c.decisions.length) {
    card.append(h("ol", { class: "decisions", "aria-label": t("case.decisions") }, c.decisions.map((d) => h("li", {},
      tx(d.signerVerified ? "case.decision" : "case.decision_unverified", {
        action: said("decision.", d.action),
        name: userText(d.signer),
        date: formatDate(d.createdAt),
      }),
      d.reason ? [": ", userText(d.reason, { multiline: true })] : null,
      d.response ? [h("br"), t("case.response_sent"), " ", userText(d.response, { multiline: true })] : null))));
  }
  const actions = allowed(c.status);
  if (actions.length) {
    card.append(decideForm(c, circle, actions));
  }
  return card;
}

/**
 * Who wrote a reported anonymous warning: opened in this browser from the author sealed to
 * the moderation key (§38.3). The server writes `author_unmasked` into the circle's log
 * before it answers, so the button asks first and says that every member will see it.
 */
function unmaskAction(c, circle) {
  const result = h("div", { "aria-live": "polite" });
  const button = confirmButton(t("unmask.button"), {
    question: t("unmask.question"),
    yes: t("unmask.yes"),
    no: t("common.cancel"),
    label: t("unmask.label"),
  }, (yes) => act(yes, async () => {
    status(t("unmask.opening"), { busy: true });
    const found = await app.entries.anonymous.unmask(circle.circleId, c.entryId);
    status("");
    yes.closest(".confirm")?.remove();
    button.remove();
    replace(result, h("p", { class: found.verified ? "notice unmasked" : "alert security unmasked" },
      tx(found.verified ? "unmask.written_by" : "unmask.written_by_unverified", { name: userText(found.user) })));
  }));
  return h("div", { class: "unmask" }, button, result);
}

function decideForm(c, circle, actions) {
  const action = h("select", { name: "action" }, actions.filter((a) => ACTIONS.includes(a)).map((a) => h("option", { value: a }, t(`decide.action_${a}`))));
  const reason = h("textarea", { name: "reason", rows: "2", required: true, maxlength: "4000" });
  const response = c.kind === "takedown" ? h("textarea", { name: "response", rows: "2", maxlength: "4000" }) : null;
  const choices = c.kind === "takedown" ? targets(c) : null;
  const submit = h("button", { type: "submit" }, t("decide.submit"));
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
        nav.circle(circle.circleId, "moderation", t("decide.done"));
      });
    },
  },
  h("h5", {}, t("decide.title")),
  choices,
  field(t("decide.decision"), action),
  field(t("decide.reason"), reason),
  response ? field(t("decide.response"), response) : null,
  submit);
}

/** For a takedown: which warning the decision acts on, from the warnings matching the name. */
function targets(c) {
  if (c.candidates.length === 0) {
    return h("p", { class: "hint" }, t("decide.no_candidates"));
  }
  // Only a warning with the same name is chosen in advance: a partial or possible match may be someone else.
  return h("fieldset", {}, h("legend", {}, t("decide.which")),
    c.candidates.map((candidate, i) => {
      const radio = h("input", { type: "radio", name: `target-${c.caseId}`, value: candidate.entryId, checked: i === 0 && candidate.level === "exact" });
      return checkRow(radio, [userText(candidate.subject), ": ", userText([...(candidate.text ?? "")].slice(0, 120).join("")), " ", t(`decide.level_${candidate.level}`)]);
    }));
}
