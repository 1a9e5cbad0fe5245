/**
 * One circle: its warnings, posting, checking a name, members and invites. Every view
 * shows what this tab verified (the signed record, opened envelopes), never the server's
 * word alone.
 */
import { formerMembers } from "../client/deletion.js";
import { CATEGORIES, SEVERITIES } from "../client/entries.js";
import { act, app, copyBox, current, show, status } from "./shell.js";
import { followFeed, markSeen, seenIn } from "./live.js";
import { checkRow, confirmButton, field, focusHeading, formatDate, h, replace } from "./dom.js";
import { membersPanel } from "./members.js";
import { moderationPanel, reportButton } from "./moderation.js";
import { auditPanel } from "./audit.js";
import { describe } from "./messages.js";
import { t, tx } from "./i18n/index.js";
import { isolated, userList, userText } from "./text.js";

/** The circle's sections; each is named by `tab.<id>` in the catalogues. */
const TABS = [
  ["feed"],
  ["post"],
  ["sealed"],
  ["check"],
  ["members"],
  ["invite", { admin: true }],
  ["moderation", { admin: true }],
  ["audit"],
];

/** A category's name in the reader's language (a category unknown to this page as written). */
export function label(category) {
  const key = `category.${category}`;
  const text = t(key);
  return text === key ? category.replaceAll("-", " ") : text;
}

/** Open a circle on one tab; the sync verifies its record chain and keys first. */
export async function showCircle(circleId, tab = "feed", notice = "") {
  current(() => showCircle(circleId, tab));
  // What was new when the circle was opened stays marked while it is open.
  NEW_SINCE.set(circleId, seenIn(circleId));
  status(t("circle.verifying"), { busy: true });
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
      // This epoch's token key, so members can post anonymously (§38.1).
      await app.entries.anonymous.certify(circle.circleId);
    } catch (error) {
      const { text } = describe(error);
      notice = `${notice} ${t("circle.moderation_not_set_up", { text })}`.trim();
    }
  }
  // Anonymous posting tokens now, not at the post: the issuance and a later post are then not
  // next to each other (§38.2). In the background; a post waits for it.
  app.entries.anonymous.stockUp(circle).catch(() => undefined);
  status("");
  const panel = h("div", { class: "panel", id: "panel", "data-circle": circleId });
  const tabs = TABS.filter(([, options]) => !options?.admin || circle.isAdmin);
  const nav = h(
    "nav",
    { class: "tabs", "aria-label": t("circle.sections") },
    tabs.map(([id]) =>
      h("button", { type: "button", "data-tab": id, "aria-current": id === tab ? "page" : null, onclick: () => select(id) }, t(`tab.${id}`)),
    ),
  );
  /** Each tab renders into its own element: a slow earlier tab cannot overwrite a later one. */
  async function render(id) {
    const view = h("div", { class: "view" }, h("p", {}, t("common.loading")));
    panel.replaceChildren(view);
    await act(null, () => PANELS[id](view, circle));
    return view;
  }
  async function select(id) {
    current(() => showCircle(circleId, id));
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
    h("h1", {}, circle.name === null || circle.name === undefined ? t("circle.no_name") : userText(circle.name)),
    circle.description ? h("p", { class: "lead" }, userText(circle.description, { multiline: true })) : null,
    h("p", { class: "meta" }, t(`role.you_are_${circle.role}`), " · ", t("circle.member_count", { count: circle.record.members.length })),
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
/** Per circle, the newest position seen before it was opened: newer warnings are marked new. */
const NEW_SINCE = new Map();

function byline(entry, circleId) {
  if (!entry.author) {
    return t("warning.posted_anonymously");
  }
  return FORMER.get(circleId)?.has(entry.author) ? t("warning.posted_by_former") : tx("warning.posted_by", { name: userText(entry.author) });
}

/** What a card says of a warning that is no longer shown, by its status (`gone.<status>`). */
const GONE = new Set(["retracted", "expired", "removed", "hidden"]);

/** One verified warning as a card. */
export function warningCard(entry, circle, { actions = true, isNew = false } = {}) {
  if (entry.subject === null) {
    return h("article", { class: "warning gone" }, h("p", {}, GONE.has(entry.status) ? t(`gone.${entry.status}`) : t("gone.other", { status: entry.status })),
      h("p", { class: "meta" }, t("warning.posted_on", { date: formatDate(entry.createdAt) })));
  }
  const details = [
    entry.aliases.length ? [t("warning.aliases"), userList(entry.aliases)] : null,
    entry.severity ? [t("warning.severity"), severityText(entry.severity)] : null,
    entry.happened ? [t("warning.when"), userText(entry.happened)] : null,
    entry.affiliation ? [t("warning.where"), userText(entry.affiliation)] : null,
    entry.contact ? [t("warning.contact"), userText(entry.contact)] : null,
  ].filter(Boolean);
  const card = h(
    "article",
    { class: isNew ? "warning new" : "warning", "data-entry": entry.entryId },
    isNew ? h("p", { class: "new-mark" }, t("feed.new_mark")) : null,
    h("h3", {}, userText(entry.subject)),
    h("ul", { class: "chips", "aria-label": t("warning.categories") }, entry.categories.map((c) => h("li", {}, label(c)))),
    details.length ? h("dl", {}, details.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])) : null,
    entry.text ? h("p", {}, userText(entry.text, { multiline: true })) : null,
    h("p", { class: "meta" },
      byline(entry, circle.circleId),
      ` · ${formatDate(entry.createdAt)}`,
      entry.corroborations ? [" · ", t("warning.corroboration_count", { count: entry.corroborations })] : ""),
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
  const box = h("section", { class: "corroborations", "aria-label": t("warning.corroborations_of", { subject: isolated(entry.subject) }) },
    h("p", { class: "meta" }, t("warning.loading_corroborations")));
  app.entries.show(circle.circleId, entry.entryId).then(({ corroborations: items }) => {
    replace(box, items.length ? h("ul", {}, items.map((c) => h("li", {}, h("p", {}, userText(c.text, { multiline: true })),
      h("p", { class: "meta" }, corroboratorLine(c.author, circle.circleId), ` · ${formatDate(c.createdAt)}`)))) : null);
  }, () => replace(box, h("p", { class: "meta" }, t("warning.corroborations_failed"))));
  return box;
}

function corroboratorLine(author, circleId) {
  if (!author) {
    return t("warning.by_anonymous");
  }
  return FORMER.get(circleId)?.has(author) ? t("feed.by_former") : ["— ", userText(author)];
}

function warningActions(entry, circle) {
  const box = h("div", { class: "actions" });
  const mine = app.entries.isMine(circle.circleId, entry);
  // Authors cannot corroborate their own warnings (§24.1): they only read what others added.
  const more = h("button", { type: "button", class: "secondary" }, mine ? t("warning.corroborations") : t("warning.corroborate"));
  more.addEventListener("click", () => act(more, async () => {
    more.remove();
    box.append(await corroborations(entry, circle, { form: !mine }));
  }));
  box.append(more);
  if (mine) {
    const retract = confirmButton(t("warning.retract"), {
      question: t("warning.retract_question"),
      yes: t("warning.retract_yes"),
      no: t("common.keep_it"),
      label: t("warning.retract_label"),
    }, (yes) => act(yes, async () => {
      await app.entries.retract(circle.circleId, entry.entryId);
      showCircleTab(circle, "feed", t("warning.retracted"));
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
    return h("div", { class: "corroborations" }, entry.corroborations ? null : h("p", {}, t("warning.no_corroborations")));
  }
  const text = h("textarea", { rows: "3", required: true });
  const anonymous = h("input", { type: "checkbox" });
  const add = h("button", { type: "submit" }, t("warning.add_corroboration"));
  const form = h("form", {
    class: "corroborate",
    onsubmit: (event) => {
      event.preventDefault();
      act(add, async () => {
        await app.entries.corroborate(circle.circleId, entry.entryId, { text: text.value, anonymous: anonymous.checked });
        showCircleTab(circle, "feed", t("warning.corroboration_added"));
      });
    },
  },
  field(t("warning.similar"), text, t("warning.similar_hint")),
  checkRow(anonymous, t("warning.corroborate_anonymously")),
  add);
  return h("div", { class: "corroborations" }, form);
}

/** Re-open the circle on a tab (after an action changed what it shows). */
function showCircleTab(circle, tab, notice = "") {
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
    replace(panel, h("h2", {}, t("tab.feed")),
      h("button", { type: "button", class: "secondary", onclick: (e) => act(e.currentTarget, () => feedPanel(panel, circle)) }, t("feed.refresh")),
      list);
  } else {
    panel.querySelector(".older")?.remove();
    panel.append(list);
  }
  if (page.entries.length === 0 && before === null) {
    list.append(h("p", { class: "empty" }, t("feed.empty")));
  }
  const since = NEW_SINCE.get(circle.circleId) ?? seenIn(circle.circleId);
  for (const entry of page.entries) {
    list.append(warningCard(entry, circle, { isNew: entry.seq > since }));
  }
  if (before === null) {
    markSeen(circle.circleId, page.lastSeq);
    followFeed(list, {
      circleId: circle.circleId,
      lastSeq: page.lastSeq,
      newest: () => app.entries.feed(circle.circleId),
      card: (entry) => warningCard(entry, circle, { isNew: entry.seq > since }),
    });
  }
  if (page.nextBefore !== null) {
    panel.append(h("button", { type: "button", class: "secondary older", onclick: (e) => act(e.currentTarget, () => feedPanel(panel, circle, page.nextBefore)) }, t("feed.older")));
  }
}

function lines(text) {
  return text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
}

function postPanel(panel, circle) {
  const subject = h("input", { name: "subject", required: true, maxlength: "200" });
  const aliases = h("textarea", { name: "aliases", rows: "2" });
  const boxes = CATEGORIES.map((c) => h("input", { type: "checkbox", name: "category", value: c }));
  const severity = h("select", { name: "severity" }, h("option", { value: "" }, t("post.severity_none")),
    SEVERITIES.map((s) => h("option", { value: s }, severityText(s))));
  const happened = h("input", { name: "happened", type: "month", placeholder: "YYYY-MM" });
  const affiliation = h("input", { name: "affiliation", maxlength: "200" });
  const contact = h("input", { name: "contact", maxlength: "200" });
  const text = h("textarea", { name: "text", rows: "6" });
  const anonymous = h("input", { type: "checkbox", name: "anonymous" });
  const sealed = h("input", { type: "checkbox", name: "sealed" });
  const submit = h("button", { type: "submit" }, t("post.submit"));
  sealed.addEventListener("change", () => {
    anonymous.disabled = sealed.checked;
    submit.textContent = sealed.checked ? t("post.seal") : t("post.submit");
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
          status(t("post.sealing"), { busy: true });
          const result = await app.sealed.seal(circle.circleId, fields);
          showCircleTab(circle, "sealed", result.status === "matched"
            ? t("post.sealed_matched")
            : t("post.sealed_open", { count: result.k }));
          return;
        }
        status(t("post.posting"), { busy: true });
        await app.entries.post(circle.circleId, { ...fields, anonymous: anonymous.checked });
        showCircleTab(circle, "feed", t("post.posted"));
      });
    },
  },
  h("h2", {}, t("tab.post")),
  h("p", {}, t("post.intro")),
  field(t("post.subject"), subject, t("post.subject_hint")),
  field(t("post.aliases"), aliases),
  h("fieldset", {}, h("legend", {}, t("post.categories")),
    h("div", { class: "options" }, boxes.map((b) => checkRow(b, label(b.value))))),
  field(t("warning.severity"), severity),
  field(t("post.when"), happened, t("post.when_hint")),
  field(t("warning.where"), affiliation, t("post.where_hint")),
  field(t("post.contact"), contact, t("post.optional")),
  field(t("post.text"), text),
  checkRow(anonymous, t("post.anonymous")),
  h("p", { class: "hint proof" }, t("post.named_proof")),
  checkRow(sealed, t("post.sealed")),
  h("p", { class: "hint" }, t("post.sealed_hint")),
  submit);
  replace(panel, form);
}

/** A sealed warning's states, each said by `sealed.status_<state>`. */
const SEALED_STATUS = new Set(["open", "matched", "withdrawn", "void"]);

/** One's own sealed warnings, whether each has matched, and the one action to publish it. */
async function sealedPanel(panel, circle) {
  const filings = await app.sealed.filings(circle.circleId);
  replace(panel, h("h2", {}, t("tab.sealed")),
    filings.length === 0
      ? h("p", {}, t("sealed.none"))
      : filings.map((f) => sealedCard(f, circle)));
}

function sealedCard(f, circle) {
  const card = h("article", { class: "card sealed", "aria-label": t("sealed.card_label", { id: f.filingId }) },
    h("h3", {}, f.subject === null || f.subject === undefined ? t("sealed.withdrawn_subject") : userText(f.subject)),
    h("p", { class: f.matched ? "notice" : "meta" }, SEALED_STATUS.has(f.status) ? t(`sealed.status_${f.status}`) : f.status),
    f.status === "open" && !f.counts ? h("p", { class: "hint" }, t("sealed.uncounted")) : null,
    f.text ? h("p", {}, userText(f.text, { multiline: true })) : null,
    h("p", { class: "meta" }, t("sealed.sealed_on", { date: formatDate(f.createdAt) })));
  if (f.subject !== null) {
    const named = h("button", { type: "button" }, t("sealed.publish"));
    const anonymous = h("button", { type: "button", class: "secondary" }, t("sealed.publish_anonymously"));
    for (const [button, hidden] of [[named, false], [anonymous, true]]) {
      button.addEventListener("click", () => act(button, async () => {
        await app.sealed.publish(circle.circleId, f.filingId, { anonymous: hidden });
        showCircleTab(circle, "feed", t("sealed.published"));
      }));
    }
    card.append(h("div", { class: "actions" }, named, anonymous));
  }
  if (f.status === "open") {
    card.append(confirmButton(t("sealed.withdraw"), {
      question: t("sealed.withdraw_question"),
      yes: t("sealed.withdraw_yes"),
      no: t("common.keep_it"),
      label: t("sealed.withdraw_label", { subject: isolated(f.subject) }),
    }, (yes) => act(yes, async () => {
      await app.sealed.withdraw(circle.circleId, f.filingId);
      showCircleTab(circle, "sealed", t("sealed.withdrawn"));
    })));
  }
  return card;
}

function severityText(severity) {
  const key = `severity.${severity}`;
  const text = t(key);
  return text === key ? severity : text;
}

function checkResult(result, typed, circle) {
  const held = { count: result.searched };
  if (result.matches.length === 0) {
    return [
      h("p", { class: "notice" }, h("strong", {}, tx("check.no_match", { name: userText(typed) })), " ", t("check.among", held)),
      h("p", {}, tx("check.checked", { words: userText(result.words.join(" ")) })),
      h("p", { class: "hint" }, t("check.not_checked")),
    ];
  }
  const parts = [h("p", { class: "notice" },
    h("strong", {}, tx("check.may_be_about", { count: result.matches.length, name: userText(typed) })), " ", t("check.searched", held))];
  for (const level of ["exact", "partial", "possible"]) {
    const found = result.matches.filter((m) => m.level === level);
    if (found.length === 0) {
      continue;
    }
    const title = t(`check.level_${level}`);
    parts.push(h("section", { class: `level level-${level}`, "data-level": level },
      h("h3", {}, t("check.level_count", { title, count: found.length })),
      h("p", { class: "hint" }, t(`check.level_${level}_meaning`)),
      found.map((m) => [
        h("p", { class: "matched" }, tx("check.matched", { title, name: userText(m.matchedName) })),
        warningCard(m.warning, circle),
      ])));
  }
  return parts;
}

function checkPanel(panel, circle) {
  const name = h("input", { name: "name", required: true, autocomplete: "off" });
  const submit = h("button", { type: "submit" }, t("check.submit"));
  const results = h("div", { class: "results", "aria-live": "polite" });
  replace(panel,
    h("form", {
      class: "card",
      onsubmit: (event) => {
        event.preventDefault();
        act(submit, async () => {
          const typed = name.value.trim();
          status(t("check.updating"), { busy: true });
          const result = await app.entries.check(circle.circleId, typed);
          status("");
          replace(results, checkResult(result, typed, circle));
        });
      },
    },
    h("h2", {}, t("tab.check")),
    h("p", {}, t("check.intro")),
    field(t("check.name"), name, t("check.name_hint")), submit),
    results);
}

// -- invites --------------------------------------------------------------------------

async function invitePanel(panel, circle) {
  const role = h("select", { name: "role" }, h("option", { value: "member" }, t("role.member")), h("option", { value: "admin" }, t("role.admin")));
  const uses = h("input", { name: "uses", type: "number", min: "1", max: "1000", value: "1", required: true });
  const days = h("input", { name: "days", type: "number", min: "1", max: "90", value: "7", required: true });
  const submit = h("button", { type: "submit" }, t("invite.create"));
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
  h("h2", {}, t("invite.title")),
  h("p", {}, t("invite.intro")),
  field(t("invite.role"), role), field(t("invite.uses"), uses), field(t("invite.days"), days), submit);
  replace(panel, form, result, existing);
  await listInvites(existing, circle);
}

function inviteLink(link) {
  return h("div", { class: "card invite" }, h("h3", {}, t("invite.link")),
    h("p", {}, t("invite.link_explain")),
    copyBox(link, t("invite.link"), t("invite.copy")));
}

async function listInvites(container, circle) {
  const invites = await app.circles.invites(circle.circleId);
  const open = invites.filter((i) => !i.revoked && i.uses < i.max_uses && new Date(i.expires_at) > new Date());
  replace(container, open.length === 0 ? null : [h("h3", {}, t("invite.open")),
    h("ul", { class: "invites" }, open.map((i) => {
      const revoke = h("button", { type: "button", class: "secondary danger" }, t("invite.withdraw"));
      revoke.addEventListener("click", () => act(revoke, async () => {
        await app.circles.revokeInvite(circle.circleId, i.invite_id);
        await listInvites(container, circle);
      }));
      return h("li", {}, t("invite.row", { role: t(`role.${i.role}`), uses: i.uses, max: i.max_uses, date: formatDate(i.expires_at) }), " ", revoke);
    }))]);
}
