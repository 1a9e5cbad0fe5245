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
      showCircleTab(circle, "members", `${visible(member.user)} was removed and the circle key renewed.`);
    }));
    row.append(remove);
  }
  return row;
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
