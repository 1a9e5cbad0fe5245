/**
 * One circle: its warnings, posting, checking a name, members and invites. Every view
 * shows what this tab verified (the signed record, opened envelopes), never the server's
 * word alone.
 */
import { formerMembers } from "../client/deletion.js";
import { CATEGORIES, SEVERITIES } from "../client/entries.js";
import { act, app, show, status } from "./app.js";
import { confirmButton, field, focusHeading, formatDate, h, replace } from "./dom.js";
import { membersPanel } from "./members.js";
import { copyBox } from "./takedown.js";
import { moderationPanel, reportButton } from "./moderation.js";
import { auditPanel } from "./audit.js";
import { describe } from "./messages.js";
import { userList, userText } from "./text.js";

const TABS = [
  ["feed", "Warnings"],
  ["post", "Post a warning"],
  ["sealed", "My sealed warnings"],
  ["check", "Check a name"],
  ["members", "Members"],
  ["invite", "Invite", { admin: true }],
  ["moderation", "Moderation", { admin: true }],
  ["audit", "Audit log"],
];

export function label(category) {
  return category.replaceAll("-", " ");
}

/** Open a circle on one tab; the sync verifies its record chain and keys first. */
export async function showCircle(circleId, tab = "feed", notice = "") {
  status("Verifying the circle…", { busy: true });
  let circle = await act(null, () => app.circles.sync(circleId));
  if (!circle) {
    return;
  }
  if (circle.isAdmin) {
    // A circle made by an older client has no moderation key: members cannot report until
    // an admin's client makes one, so the first admin to open it does.
    try {
      if (await app.moderation.setUpIfMissing(circle)) {
        circle = await app.circles.sync(circleId);
      }
      // This epoch's token key, so members can post anonymously (§37.1).
      await app.entries.anonymous.certify(circle.circleId);
    } catch (error) {
      const { text } = describe(error);
      notice = `${notice} Moderation is not set up for this circle yet: ${text}`.trim();
    }
  }
  status("");
  const panel = h("div", { class: "panel", id: "panel" });
  const tabs = TABS.filter(([, , options]) => !options?.admin || circle.isAdmin);
  const nav = h(
    "nav",
    { class: "tabs", "aria-label": "Circle sections" },
    tabs.map(([id, text]) =>
      h("button", { type: "button", "data-tab": id, "aria-current": id === tab ? "page" : null, onclick: () => select(id) }, text),
    ),
  );
  /** Each tab renders into its own element: a slow earlier tab cannot overwrite a later one. */
  async function render(id) {
    const view = h("div", { class: "view" }, h("p", {}, "Loading…"));
    panel.replaceChildren(view);
    await act(null, () => PANELS[id](view, circle));
    return view;
  }
  async function select(id) {
    for (const button of nav.querySelectorAll("button")) {
      if (button.dataset.tab === id) {
        button.setAttribute("aria-current", "page");
      } else {
        button.removeAttribute("aria-current");
      }
    }
    status("");
    const view = await render(id);
    if (view.isConnected) {
      focusHeading(view);
    }
  }
  show(
    h("h1", {}, circle.name === null || circle.name === undefined ? "(no name)" : userText(circle.name)),
    circle.description ? h("p", { class: "lead" }, userText(circle.description, { multiline: true })) : null,
    h("p", { class: "meta" }, `You are ${circle.role === "member" ? "a member" : `an ${circle.role}`} · ${circle.record.members.length} member${circle.record.members.length === 1 ? "" : "s"}`),
    nav,
    panel,
  );
  await render(tab);
  if (notice) {
    status(notice); // after the panel, which may show its own progress meanwhile
  }
}

const PANELS = {
  feed: feedPanel,
  post: postPanel,
  sealed: sealedPanel,
  check: checkPanel,
  members: membersPanel,
  invite: invitePanel,
  moderation: moderationPanel,
  audit: auditPanel,
};

// -- warnings -------------------------------------------------------------------------

/** Per circle, the authors whose accounts were deleted (the feed fills it). */
const FORMER = new Map();

function byline(entry, circleId) {
  if (!entry.author) {
    return "Posted anonymously";
  }
  return FORMER.get(circleId)?.has(entry.author) ? "Posted by a former member" : ["Posted by ", userText(entry.author)];
}

const GONE = {
  retracted: "Retracted by its author.",
  expired: "Expired.",
  removed: "Removed by the circle's admins.",
  hidden: "Hidden by the circle's admins while they review a report.",
};

/** One verified warning as a card. */
export function warningCard(entry, circle, { actions = true } = {}) {
  if (entry.subject === null) {
    return h("article", { class: "warning gone" }, h("p", {}, GONE[entry.status] ?? `Not shown (${entry.status}).`),
      h("p", { class: "meta" }, `Posted ${formatDate(entry.createdAt)}`));
  }
  const details = [
    entry.aliases.length ? ["Also known as", userList(entry.aliases)] : null,
    entry.severity ? ["Severity", entry.severity] : null,
    entry.happened ? ["When", userText(entry.happened)] : null,
    entry.affiliation ? ["Where / organisation", userText(entry.affiliation)] : null,
    entry.contact ? ["Contact the author", userText(entry.contact)] : null,
  ].filter(Boolean);
  const card = h(
    "article",
    { class: "warning", "data-entry": entry.entryId },
    h("h3", {}, userText(entry.subject)),
    h("ul", { class: "chips", "aria-label": "Categories" }, entry.categories.map((c) => h("li", {}, label(c)))),
    details.length ? h("dl", {}, details.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])) : null,
    entry.text ? h("p", {}, userText(entry.text, { multiline: true })) : null,
    h("p", { class: "meta" },
      byline(entry, circle.circleId),
      ` · ${formatDate(entry.createdAt)}`,
      entry.corroborations ? ` · ${entry.corroborations} corroboration${entry.corroborations === 1 ? "" : "s"}` : ""),
  );
  if (entry.corroborations && entry.status === "live") {
    card.append(corroborationList(entry, circle)); // readable without pressing anything
  }
  if (actions && entry.status === "live") {
    card.append(warningActions(entry, circle));
  }
  return card;
}

/** The "me too"s of a warning, fetched and verified in the background, shown in the card. */
function corroborationList(entry, circle) {
  const box = h("section", { class: "corroborations", "aria-label": `Corroborations of the warning about ${entry.subject}` },
    h("p", { class: "meta" }, "Loading corroborations…"));
  app.entries.show(circle.circleId, entry.entryId).then(({ corroborations: items }) => {
    replace(box, items.length ? h("ul", {}, items.map((c) => h("li", {}, h("p", {}, userText(c.text, { multiline: true })),
      h("p", { class: "meta" }, c.author ? ["— ", userText(c.author)] : "— anonymous", ` · ${formatDate(c.createdAt)}`)))) : null);
  }, () => replace(box, h("p", { class: "meta" }, "The corroborations could not be loaded; reload to try again.")));
  return box;
}

function warningActions(entry, circle) {
  const box = h("div", { class: "actions" });
  const mine = app.entries.isMine(circle.circleId, entry);
  // Authors cannot corroborate their own warnings (§24.1): they only read what others added.
  const more = h("button", { type: "button", class: "secondary" }, mine ? "Corroborations" : "Corroborate");
  more.addEventListener("click", () => act(more, async () => {
    more.remove();
    box.append(await corroborations(entry, circle, { form: !mine }));
  }));
  box.append(more);
  if (mine) {
    const retract = confirmButton("Retract", {
      question: "Retract this warning? Its text is wiped for everyone; this cannot be undone.",
      yes: "Yes, retract it",
      no: "Keep it",
      label: "Confirm retraction",
    }, (yes) => act(yes, async () => {
      await app.entries.retract(circle.circleId, entry.entryId);
      showCircleTab(circle, "feed", "The warning was retracted.");
    }));
    box.append(retract);
  } else {
    box.append(reportButton(entry, circle));
  }
  return box;
}

/** The form to add a corroboration (the existing ones are already in the card); for the
 * warning's own author, who cannot corroborate it, only a word when there are none. */
async function corroborations(entry, circle, { form: withForm = true } = {}) {
  if (!withForm) {
    return h("div", { class: "corroborations" }, entry.corroborations ? null : h("p", {}, "No corroborations yet."));
  }
  const text = h("textarea", { rows: "3", required: true });
  const anonymous = h("input", { type: "checkbox" });
  const add = h("button", { type: "submit" }, "Add my corroboration");
  const form = h("form", {
    class: "corroborate",
    onsubmit: (event) => {
      event.preventDefault();
      act(add, async () => {
        await app.entries.corroborate(circle.circleId, entry.entryId, { text: text.value, anonymous: anonymous.checked });
        showCircleTab(circle, "feed", "Your corroboration was added.");
      });
    },
  },
  field("Something similar happened to me", text, "Encrypted in this browser; only members can read it."),
  checkRow(anonymous, "Post anonymously (members will not see it was you)"),
  add);
  return h("div", { class: "corroborations" }, form);
}

export function checkRow(input, text) {
  input.id ||= `c-${Math.random().toString(36).slice(2)}`;
  return h("div", { class: "check" }, input, h("label", { for: input.id }, text));
}

/** Re-open the circle on a tab (after an action changed what it shows). */
export function showCircleTab(circle, tab, notice = "") {
  return showCircle(circle.circleId, tab, notice);
}

async function feedPanel(panel, circle, before = null) {
  const [page, former] = await Promise.all([
    app.entries.feed(circle.circleId, { before }),
    formerMembers(app.circles, circle.circleId),
  ]);
  FORMER.set(circle.circleId, former);
  const list = h("div", { class: "feed" });
  if (before === null) {
    replace(panel, h("h2", {}, "Warnings"),
      h("button", { type: "button", class: "secondary", onclick: (e) => act(e.currentTarget, () => feedPanel(panel, circle)) }, "Refresh"),
      list);
  } else {
    panel.querySelector(".older")?.remove();
    panel.append(list);
  }
  if (page.entries.length === 0 && before === null) {
    list.append(h("p", {}, "No warnings yet. If you have one, post it: only this circle's members can read it."));
  }
  for (const entry of page.entries) {
    list.append(warningCard(entry, circle));
  }
  if (page.nextBefore !== null) {
    panel.append(h("button", { type: "button", class: "secondary older", onclick: (e) => act(e.currentTarget, () => feedPanel(panel, circle, page.nextBefore)) }, "Show older warnings"));
  }
}

function lines(text) {
  return text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
}

function postPanel(panel, circle) {
  const subject = h("input", { name: "subject", required: true, maxlength: "200" });
  const aliases = h("textarea", { name: "aliases", rows: "2" });
  const boxes = CATEGORIES.map((c) => h("input", { type: "checkbox", name: "category", value: c }));
  const severity = h("select", { name: "severity" }, h("option", { value: "" }, "Not stated"),
    SEVERITIES.map((s) => h("option", { value: s }, s)));
  const happened = h("input", { name: "happened", type: "month", placeholder: "YYYY-MM" });
  const affiliation = h("input", { name: "affiliation", maxlength: "200" });
  const contact = h("input", { name: "contact", maxlength: "200" });
  const text = h("textarea", { name: "text", rows: "6" });
  const anonymous = h("input", { type: "checkbox", name: "anonymous" });
  const sealed = h("input", { type: "checkbox", name: "sealed" });
  const submit = h("button", { type: "submit" }, "Post warning");
  sealed.addEventListener("change", () => {
    anonymous.disabled = sealed.checked;
    submit.textContent = sealed.checked ? "Seal warning" : "Post warning";
  });
  const form = h("form", {
    class: "card",
    onsubmit: (event) => {
      event.preventDefault();
      act(submit, async () => {
        const fields = {
          subject: subject.value.trim(),
          aliases: lines(aliases.value),
          categories: boxes.filter((b) => b.checked).map((b) => b.value),
          severity: severity.value || null,
          happened: happened.value || null,
          affiliation: affiliation.value.trim() || null,
          contact: contact.value.trim() || null,
          text: text.value,
        };
        if (sealed.checked) {
          status("Sealing… (one evaluation of each name by the server, which learns nothing of it)", { busy: true });
          const result = await app.sealed.seal(circle.circleId, fields);
          showCircleTab(circle, "sealed", result.status === "matched"
            ? "Sealed, and it matched: you are not the only one. The circle's admins can now read it and the others."
            : `Sealed. Nobody can read it until ${result.k} members have named this person.`);
          return;
        }
        status("Encrypting and posting…", { busy: true });
        await app.entries.post(circle.circleId, { ...fields, anonymous: anonymous.checked });
        showCircleTab(circle, "feed", "Your warning was posted.");
      });
    },
  },
  h("h2", {}, "Post a warning"),
  h("p", {}, "Everything here is encrypted in this browser. The server sees neither the name nor the text."),
  field("Who is it about?", subject, "Their name as people know it."),
  field("Other names, handles or spellings (one per line)", aliases),
  h("fieldset", {}, h("legend", {}, "What happened (choose at least one)"),
    h("div", { class: "options" }, boxes.map((b) => checkRow(b, label(b.value))))),
  field("Severity", severity),
  field("When (month)", happened, "Optional, as YYYY-MM."),
  field("Where / organisation", affiliation, "Optional: employer, production, organisation."),
  field("How members can reach you about it", contact, "Optional."),
  field("What happened", text),
  checkRow(anonymous, "Post anonymously: members will not see that it was you (the server still knows who sent it)"),
  h("p", { class: "hint proof" }, NAMED_PROOF),
  checkRow(sealed, "Only if I am not the only one: keep it sealed until other members name the same person; then only the circle's admins can read it"),
  h("p", { class: "hint" }, "A sealed warning matches only the same name or alias (spelling, accents and word order aside), never a surname alone. Until it matches, nobody can read it or learn whom it names: not the server, not the admins. You can withdraw it, or publish it yourself, at any time."),
  submit);
  replace(panel, form);
}

const SEALED_STATUS = {
  open: "Sealed: nobody can read it",
  matched: "Matched: you are not the only one. The circle's admins can read it.",
  withdrawn: "Withdrawn",
  void: "Void (you left the circle)",
};

/** One's own sealed warnings, whether each has matched, and the one action to publish it. */
async function sealedPanel(panel, circle) {
  const filings = await app.sealed.filings(circle.circleId);
  replace(panel, h("h2", {}, "My sealed warnings"),
    filings.length === 0
      ? h("p", {}, "You have no sealed warnings in this circle. Choose “Only if I am not the only one” when you post a warning.")
      : filings.map((f) => sealedCard(f, circle)));
}

function sealedCard(f, circle) {
  const card = h("article", { class: "card sealed", "aria-label": `Sealed warning ${f.filingId}` },
    h("h3", {}, f.subject ?? "(withdrawn)"),
    h("p", { class: f.matched ? "notice" : "meta" }, SEALED_STATUS[f.status] ?? f.status),
    f.status === "open" && !f.counts ? h("p", { class: "hint" }, "Filed while the circle needed a different number of members; withdraw it and seal it again to count.") : null,
    f.text ? h("p", { class: "narrative" }, f.text) : null,
    h("p", { class: "meta" }, `Sealed ${formatDate(f.createdAt)}`));
  if (f.subject !== null) {
    const named = h("button", { type: "button" }, "Publish to the circle");
    const anonymous = h("button", { type: "button", class: "secondary" }, "Publish anonymously");
    for (const [button, hidden] of [[named, false], [anonymous, true]]) {
      button.addEventListener("click", () => act(button, async () => {
        await app.sealed.publish(circle.circleId, f.filingId, { anonymous: hidden });
        showCircleTab(circle, "feed", "Your warning was published to the circle.");
      }));
    }
    card.append(h("div", { class: "actions" }, named, anonymous));
  }
  if (f.status === "open") {
    card.append(confirmButton("Withdraw", {
      question: "Withdraw this sealed warning? It is deleted and can no longer match.",
      yes: "Withdraw it",
      no: "Keep it",
      label: `Withdraw the sealed warning about ${f.subject}`,
    }, (yes) => act(yes, async () => {
      await app.sealed.withdraw(circle.circleId, f.filingId);
      showCircleTab(circle, "sealed", "Withdrawn.");
    })));
  }
  return card;
}

/** What a named warning proves and to whom (docs/threat-model.md, Attribution); the CLI says the same. */
export const NAMED_PROOF =
  "A named warning is signed with your key, so any member can prove to anyone, even outside this circle, " +
  "that you wrote its text; an anonymous warning carries no such proof, and the server does not learn who " +
  "posted it (only the circle's admins can unmask it, and every member sees that they did).";

/** What each level of a check promises, in the words the page shows (§25.3). */
const LEVEL_TEXT = {
  exact: ["Same name", "The same words as a name or alias in the warning, in any order, ignoring accents, capitals, spacing and punctuation."],
  partial: ["Part of the name", "One name is part of the other: a surname or given name alone, initials, or a middle name more or less. It may be someone else."],
  possible: ["Possible match", "Sounds alike, or another spelling or script (Nowak and Novák, Мюллер and Müller). It may well be someone else: read the details."],
};

function checkResult(result, typed, circle) {
  const held = `${result.searched} warning${result.searched === 1 ? "" : "s"} this browser holds from this circle`;
  if (result.matches.length === 0) {
    return [
      h("p", { class: "notice" }, h("strong", {}, `No match for “`, userText(typed), "”"), ` among the ${held}.`),
      h("p", {}, "Checked: the same words in any order, ignoring accents, capitals, spacing and punctuation (",
        userText(result.words.join(" ")), "); each word alone and initials; similar-sounding spellings and the Latin spelling of Cyrillic, Greek, Armenian, Georgian, Hebrew and Arabic names."),
      h("p", { class: "hint" }, "Not checked: nicknames (Bill for William), other forms of a surname (Nováková for Novák), other misspellings, and warnings that are hidden, retracted or expired. Try the surname alone too."),
    ];
  }
  const parts = [h("p", { class: "notice" }, h("strong", {}, `${result.matches.length} warning${result.matches.length === 1 ? "" : "s"} may be about “`, userText(typed), "”"),
    ` (searched the ${held}).`)];
  for (const level of ["exact", "partial", "possible"]) {
    const found = result.matches.filter((m) => m.level === level);
    if (found.length === 0) {
      continue;
    }
    const [title, meaning] = LEVEL_TEXT[level];
    parts.push(h("section", { class: `level level-${level}`, "data-level": level },
      h("h3", {}, `${title} (${found.length})`),
      h("p", { class: "hint" }, meaning),
      found.map((m) => [
        h("p", { class: "matched" }, `${title}: matched “`, userText(m.matchedName), "”"),
        warningCard(m.warning, circle),
      ])));
  }
  return parts;
}

function checkPanel(panel, circle) {
  const name = h("input", { name: "name", required: true, autocomplete: "off" });
  const submit = h("button", { type: "submit" }, "Check");
  const results = h("div", { class: "results", "aria-live": "polite" });
  replace(panel,
    h("form", {
      class: "card",
      onsubmit: (event) => {
        event.preventDefault();
        act(submit, async () => {
          const typed = name.value.trim();
          status("Bringing this circle's warnings up to date…", { busy: true });
          const result = await app.entries.check(circle.circleId, typed);
          status("");
          replace(results, checkResult(result, typed, circle));
        });
      },
    },
    h("h2", {}, "Check a name"),
    h("p", {}, "Before you meet, hire or work with someone. This browser compares the name with the warnings it has downloaded from this circle: the name itself is never sent to the server."),
    field("Name or handle", name, "Exact matches come first, then part of the name, then possible matches (other spellings)."), submit),
    results);
}

// -- invites --------------------------------------------------------------------------

async function invitePanel(panel, circle) {
  const role = h("select", { name: "role" }, h("option", { value: "member" }, "member"), h("option", { value: "admin" }, "admin"));
  const uses = h("input", { name: "uses", type: "number", min: "1", max: "1000", value: "1", required: true });
  const days = h("input", { name: "days", type: "number", min: "1", max: "90", value: "7", required: true });
  const submit = h("button", { type: "submit" }, "Create invite link");
  const result = h("div", { "aria-live": "polite" });
  const existing = h("div", {});
  const form = h("form", {
    class: "card",
    onsubmit: (event) => {
      event.preventDefault();
      act(submit, async () => {
        const { invite } = await app.circles.createInvite(circle.circleId, {
          role: role.value,
          maxUses: Number(uses.value),
          expiresInDays: Number(days.value),
        });
        replace(result, inviteLink(`${window.location.origin}/join#${invite}`));
        result.querySelector("input").focus();
        await listInvites(existing, circle);
      });
    },
  },
  h("h2", {}, "Invite someone"),
  h("p", {}, "You get a link to send to them. Its secret part comes after the #, which browsers never send to the server."),
  field("They join as", role), field("How many people may use it", uses), field("Valid for (days)", days), submit);
  replace(panel, form, result, existing);
  await listInvites(existing, circle);
}

function inviteLink(link) {
  return h("div", { class: "card invite" }, h("h3", {}, "Invite link"),
    h("p", {}, "Send it over a channel you trust. When they have opened it, they appear under Members; confirm them after comparing fingerprints."),
    copyBox(link, "Invite link", "Copy link"));
}

async function listInvites(container, circle) {
  const invites = await app.circles.invites(circle.circleId);
  const open = invites.filter((i) => !i.revoked && i.uses < i.max_uses && new Date(i.expires_at) > new Date());
  replace(container, open.length === 0 ? null : [h("h3", {}, "Open invites"),
    h("ul", { class: "invites" }, open.map((i) => {
      const revoke = h("button", { type: "button", class: "secondary danger" }, "Withdraw");
      revoke.addEventListener("click", () => act(revoke, async () => {
        await app.circles.revokeInvite(circle.circleId, i.invite_id);
        await listInvites(container, circle);
      }));
      return h("li", {}, `${i.role}, used ${i.uses} of ${i.max_uses}, until ${formatDate(i.expires_at)} `, revoke);
    }))]);
}
