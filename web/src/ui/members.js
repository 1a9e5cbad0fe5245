/**
 * Members: the verified member list (the newest signed key record, not the server's
 * list), confirming pending members after comparing fingerprints, removing members
 * (the circle key is renewed in this browser) and leaving.
 */
import { act, app, nav, status } from "./shell.js";
import { checkRow, confirmButton, field, fingerprintBlock, h, replace } from "./dom.js";
import { t } from "./i18n/index.js";
import { isolated, userText } from "./text.js";

function roleText(role) {
  const key = `role.${role}`;
  const text = t(key);
  return text === key ? isolated(role) : text;
}

export async function membersPanel(panel, circle) {
  const pending = circle.isAdmin ? await app.circles.pending(circle.circleId) : [];
  const rows = circle.record.members.map((m) => memberRow(m, circle));
  replace(
    panel,
    h("h2", {}, t("tab.members")),
    pending.length
      ? h("section", { class: "pending-list" }, h("h3", {}, t("members.waiting", { count: pending.length })),
          pending.map((p) => pendingCard(p, circle)))
      : null,
    h("p", { class: "hint" }, t("members.from_record")),
    h("ul", { class: "members" }, rows),
    leaveBox(circle),
    circle.role === "owner" ? deleteBox(circle) : null,
  );
}

function memberRow(member, circle) {
  const me = member.user === app.account.username;
  const row = h("li", { class: "member" },
    h("span", { class: "member-name" }, userText(member.user), me ? t("members.you") : ""),
    h("span", { class: "meta" }, roleText(member.role)),
    h("span", { class: "fp-small", dir: "ltr", "aria-label": t("members.fingerprint_of_value", { name: isolated(member.user), fingerprint: member.fp }) }, member.fp));
  if (circle.isAdmin && !me && (member.role !== "owner" || circle.role === "owner")) {
    const name = isolated(member.user);
    const remove = confirmButton(t("members.remove"), {
      question: t("members.remove_question", { name }),
      yes: t("members.remove_yes", { name }),
      no: t("common.cancel"),
      label: t("members.remove_label", { name }),
    }, (yes) => act(yes, async () => {
      status(t("members.renewing"), { busy: true });
      await app.circles.remove(circle.circleId, member.user);
      await app.entries.anonymous.certify(circle.circleId).catch(() => undefined); // the new epoch's token key
      nav.circle(circle.circleId, "members", t("members.removed", { name }));
    }));
    row.append(remove);
  }
  row.append(...roleButtons(member, circle, me));
  return row;
}

/** Change a role (signed in this browser), then renew the moderation key for the new admins. */
async function changeRole(circle, username, role) {
  status(t("members.signing_role", { name: isolated(username) }), { busy: true });
  await app.circles.setRole(circle.circleId, username, role);
  await app.moderation.ensureKey(circle.circleId).catch(() => undefined); // the tab says so if not
}

/**
 * Promote, demote, hand over ownership. Admins move members and admins; only an owner
 * makes or unmakes owners (the server enforces the same, and keeps one owner at least).
 */
function roleButtons(member, circle, me) {
  const buttons = [];
  const owners = circle.record.members.filter((m) => m.role === "owner").length;
  const button = (text, onClick, danger = false) => {
    const b = h("button", { type: "button", class: danger ? "secondary danger" : "secondary" }, text);
    b.addEventListener("click", () => act(b, onClick));
    return b;
  };
  const done = (text) => nav.circle(circle.circleId, "members", text);
  const name = isolated(member.user);
  if (me) {
    if (member.role === "owner" && owners > 1) {
      buttons.push(button(t("members.step_down_admin"), async () => {
        await changeRole(circle, member.user, "admin");
        await done(t("members.now_admin_you"));
      }));
    } else if (member.role === "admin") {
      buttons.push(button(t("members.step_down_member"), async () => {
        await changeRole(circle, member.user, "member");
        await done(t("members.now_member_you"));
      }));
    }
    return buttons;
  }
  if (!circle.isAdmin) {
    return buttons;
  }
  if (member.role === "member") {
    buttons.push(button(t("members.make_admin", { name }), async () => {
      await changeRole(circle, member.user, "admin");
      await done(t("members.now_admin", { name }));
    }));
  }
  if (member.role === "admin") {
    buttons.push(button(t("members.make_member", { name }), async () => {
      await changeRole(circle, member.user, "member");
      await done(t("members.now_member", { name }));
    }));
  }
  if (circle.role === "owner" && member.role !== "owner") {
    buttons.push(confirmButton(t("members.hand_over", { name }), {
      question: t("members.hand_over_question", { name }),
      yes: t("members.hand_over_yes", { name }),
      no: t("common.cancel"),
      label: t("members.hand_over_label", { name }),
    }, (yes) => act(yes, async () => {
      await changeRole(circle, member.user, "owner");
      await changeRole(circle, app.account.username, "admin");
      await done(t("members.handed_over", { name }));
    })));
  }
  if (circle.role === "owner" && member.role === "owner") {
    buttons.push(button(t("members.make_admin", { name }), async () => {
      await changeRole(circle, member.user, "admin");
      await done(t("members.now_admin", { name }));
    }));
  }
  return buttons;
}

/** A pending member: fingerprint large, compared before anything is signed (§16.4). */
function pendingCard(member, circle) {
  const typed = h("input", { inputmode: "numeric", dir: "ltr", autocomplete: "off", spellcheck: "false" });
  const compared = h("input", { type: "checkbox" });
  const name = isolated(member.username);
  const confirm = h("button", { type: "submit" }, t("members.confirm", { name }));
  return h("form", {
    class: "card pending",
    "aria-label": t("members.pending_label", { name }),
    onsubmit: (event) => {
      event.preventDefault();
      act(confirm, async () => {
        status(t("members.confirming", { name }), { busy: true });
        await app.circles.confirm(circle.circleId, member.username, {
          fingerprint: typed.value.trim() || null,
          compared: compared.checked,
        });
        nav.circle(circle.circleId, "members", t("members.now_member", { name }));
      });
    },
  },
  h("h4", {}, t("members.asks_to_join", { name, role: roleText(member.role) })),
  h("p", {}, t("members.ask_to_read", { name })),
  fingerprintBlock(member.fingerprint, t("members.fingerprint_of", { name })),
  field(t("members.typed"), typed),
  checkRow(compared, t("members.compared", { name })),
  confirm);
}

function deleteBox(circle) {
  const remove = confirmButton(t("members.delete"), {
    question: t("members.delete_question"),
    yes: t("members.delete_yes"),
    no: t("common.keep_it"),
    label: t("members.delete_label"),
  }, (yes) => act(yes, async () => {
    status(t("members.deleting"), { busy: true });
    await app.circles.delete(circle.circleId);
    await nav.home();
    status(t("members.deleted"));
  }));
  return h("div", { class: "leave" }, h("h3", {}, t("members.delete_title")),
    h("p", { class: "hint" }, t("members.delete_hint")), remove);
}

function leaveBox(circle) {
  const leave = confirmButton(t("members.leave"), {
    question: t("members.leave_question"),
    yes: t("members.leave_yes"),
    no: t("members.stay"),
    label: t("members.leave_label"),
  }, (yes) => act(yes, async () => {
    await app.circles.leave(circle.circleId);
    status(t("members.left"));
    nav.home();
  }));
  return h("div", { class: "leave" }, leave);
}
