/**
 * Members: the verified member list (the newest signed key record, not the server's
 * list), confirming pending members after comparing fingerprints, removing members
 * (the circle key is renewed in this browser) and leaving.
 */
import { act, app, showHome, status } from "./app.js";
import { checkRow, showCircleTab } from "./circle.js";
import { confirmButton, field, fingerprintBlock, h, replace } from "./dom.js";
import { userText, visible } from "./text.js";

function roleText(role) {
  return role === "member" ? "member" : role;
}

export async function membersPanel(panel, circle) {
  const pending = circle.isAdmin ? await app.circles.pending(circle.circleId) : [];
  const rows = circle.record.members.map((m) => memberRow(m, circle));
  replace(
    panel,
    h("h2", {}, "Members"),
    pending.length
      ? h("section", { class: "pending-list" }, h("h3", {}, `Waiting for you to confirm (${pending.length})`),
          pending.map((p) => pendingCard(p, circle)))
      : null,
    h("p", { class: "hint" }, "This list comes from the circle's signed record, which your browser verified."),
    h("ul", { class: "members" }, rows),
    leaveBox(circle),
    circle.role === "owner" ? deleteBox(circle) : null,
  );
}

function memberRow(member, circle) {
  const me = member.user === app.account.username;
  const row = h("li", { class: "member" },
    h("span", { class: "member-name" }, userText(member.user), me ? " (you)" : ""),
    h("span", { class: "meta" }, roleText(member.role)),
    h("span", { class: "fp-small", "aria-label": `Fingerprint of ${visible(member.user)}: ${member.fp}` }, member.fp));
  if (circle.isAdmin && !me && (member.role !== "owner" || circle.role === "owner")) {
    const remove = confirmButton("Remove", {
      question: `Remove ${visible(member.user)}? The circle gets a new key, made in this browser and shared with everyone else. ${visible(member.user)} keeps what they have already read but sees nothing new.`,
      yes: `Yes, remove ${visible(member.user)}`,
      no: "Cancel",
      label: `Confirm removing ${visible(member.user)}`,
    }, (yes) => act(yes, async () => {
      status("Renewing the circle key…", { busy: true });
      await app.circles.remove(circle.circleId, member.user);
      await app.entries.anonymous.certify(circle.circleId).catch(() => undefined); // the new epoch's token key
      showCircleTab(circle, "members", `${visible(member.user)} was removed and the circle key renewed.`);
    }));
    row.append(remove);
  }
  row.append(...roleButtons(member, circle, me));
  return row;
}

/** Change a role (signed in this browser), then renew the moderation key for the new admins. */
async function changeRole(circle, username, role) {
  status(`Signing the new role of ${username}…`, { busy: true });
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
  const done = (text) => showCircleTab(circle, "members", text);
  if (me) {
    if (member.role === "owner" && owners > 1) {
      buttons.push(button("Step down to admin", async () => {
        await changeRole(circle, member.user, "admin");
        await done("You are now an admin.");
      }));
    } else if (member.role === "admin") {
      buttons.push(button("Step down to member", async () => {
        await changeRole(circle, member.user, "member");
        await done("You are now a member.");
      }));
    }
    return buttons;
  }
  if (!circle.isAdmin) {
    return buttons;
  }
  if (member.role === "member") {
    buttons.push(button(`Make ${member.user} an admin`, async () => {
      await changeRole(circle, member.user, "admin");
      await done(`${member.user} is now an admin.`);
    }));
  }
  if (member.role === "admin") {
    buttons.push(button(`Make ${member.user} a member`, async () => {
      await changeRole(circle, member.user, "member");
      await done(`${member.user} is now a member.`);
    }));
  }
  if (circle.role === "owner" && member.role !== "owner") {
    buttons.push(confirmButton(`Hand ownership to ${member.user}`, {
      question: `Make ${member.user} the owner, and yourself an admin? Only an owner can undo it.`,
      yes: `Yes, hand it to ${member.user}`,
      no: "Cancel",
      label: `Confirm handing ownership to ${member.user}`,
    }, (yes) => act(yes, async () => {
      await changeRole(circle, member.user, "owner");
      await changeRole(circle, app.account.username, "admin");
      await done(`${member.user} is now the owner; you are an admin.`);
    })));
  }
  if (circle.role === "owner" && member.role === "owner") {
    buttons.push(button(`Make ${member.user} an admin`, async () => {
      await changeRole(circle, member.user, "admin");
      await done(`${member.user} is now an admin.`);
    }));
  }
  return buttons;
}

/** A pending member: fingerprint large, compared before anything is signed (§16.4). */
function pendingCard(member, circle) {
  const typed = h("input", { inputmode: "numeric", autocomplete: "off", spellcheck: "false" });
  const compared = h("input", { type: "checkbox" });
  const confirm = h("button", { type: "submit" }, `Confirm ${visible(member.username)}`);
  return h("form", {
    class: "card pending",
    "aria-label": `Pending: ${visible(member.username)}`,
    onsubmit: (event) => {
      event.preventDefault();
      act(confirm, async () => {
        status(`Confirming ${visible(member.username)}…`, { busy: true });
        await app.circles.confirm(circle.circleId, member.username, {
          fingerprint: typed.value.trim() || null,
          compared: compared.checked,
        });
        showCircleTab(circle, "members", `${visible(member.username)} is now a member.`);
      });
    },
  },
  h("h4", {}, `${visible(member.username)} asks to join as ${roleText(member.role)}`),
  h("p", {}, `Ask ${visible(member.username)} to read their fingerprint to you — in person or on a call where you recognise their voice. It must match this exactly:`),
  fingerprintBlock(member.fingerprint, `Fingerprint of ${visible(member.username)}`),
  field("What they read to you (optional, checked digit by digit)", typed),
  checkRow(compared, `I compared it with ${visible(member.username)} and it matches`),
  confirm);
}

function deleteBox(circle) {
  const remove = confirmButton("Delete this circle", {
    question: "Delete this circle for everyone? Every warning, corroboration, invite and report in it is deleted from the server. Members will see that you deleted it. This cannot be undone.",
    yes: "Yes, delete the circle",
    no: "Keep it",
    label: "Confirm deleting the circle",
  }, (yes) => act(yes, async () => {
    status("Signing the deletion…", { busy: true });
    await app.circles.delete(circle.circleId);
    await showHome();
    status("The circle was deleted.");
  }));
  return h("div", { class: "leave" }, h("h3", {}, "Delete the circle"),
    h("p", { class: "hint" }, "Only owners can. The server keeps only a record that it was deleted, by you, and the audit log."), remove);
}

function leaveBox(circle) {
  const leave = confirmButton("Leave this circle", {
    question: "Leave this circle? You will not see new warnings; an admin must invite you again to come back.",
    yes: "Yes, leave",
    no: "Stay",
    label: "Confirm leaving",
  }, (yes) => act(yes, async () => {
    await app.circles.leave(circle.circleId);
    status("You left the circle.");
    showHome();
  }));
  return h("div", { class: "leave" }, leave);
}
