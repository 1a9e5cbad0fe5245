/**
 * My circles: the circles with what is new in each, creating one, and joining one from an
 * invite (the join page shows the fingerprint to read out to the inviter).
 */
import { Circles } from "../client/circles.js";
import { showCircle } from "./circle.js";
import { field, fingerprintBlock, formatTime, h, replace } from "./dom.js";
import { onLive, unseenIn } from "./live.js";
import { describe } from "./messages.js";
import { act, app, current, fail, nav, show, status } from "./shell.js";
import { isolated, userText } from "./text.js";
import { t } from "./i18n/index.js";

/** A fragment as text; a malformed %-escape is kept as typed (the parser then refuses it). */
export function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The invite text in a pasted link (`…/join#bcinvite1…`) or the invite itself. */
function inviteFrom(text) {
  const trimmed = text.trim();
  const at = trimmed.indexOf("#");
  return at >= 0 ? decoded(trimmed.slice(at + 1)) : trimmed;
}

export async function showHome() {
  current(() => showHome());
  if (!app.account) {
    nav.auth();
    return;
  }
  const list = h("div", { class: "circles" }, h("p", {}, t("home.loading")));
  const name = h("input", { name: "name", required: true, maxlength: "200" });
  const description = h("input", { name: "description", maxlength: "500" });
  const create = h("button", { type: "submit" }, t("home.create_circle"));
  const pasted = h("input", { name: "invite", required: true, autocomplete: "off", spellcheck: "false" });
  const join = h("button", { type: "submit" }, t("common.continue"));
  show(
    h("h1", {}, t("bar.my_circles")),
    h("section", { class: "card" }, h("h2", {}, t("fingerprint.yours")),
      h("p", {}, t("home.fingerprint_explain")),
      fingerprintBlock(app.account.fingerprint, t("fingerprint.yours"))),
    list,
    h("form", {
      class: "card",
      onsubmit: (event) => {
        event.preventDefault();
        act(create, async () => {
          status(t("home.creating"), { busy: true });
          const circle = await app.circles.create(name.value.trim(), description.value.trim());
          // The moderation key from the start, so members can report at once (as the CLI does).
          await app.moderation.ensureKey(circle.circleId);
          await app.entries.anonymous.certify(circle.circleId); // the token key (§38.1)
          showCircle(circle.circleId, "invite", t("home.created", { name: isolated(circle.name) }));
        });
      },
    }, h("h2", {}, t("home.create_a_circle")),
      field(t("home.name"), name, t("home.name_hint")),
      field(t("home.description"), description), create),
    h("form", {
      class: "card",
      onsubmit: (event) => {
        event.preventDefault();
        act(join, async () => showJoin(inviteFrom(pasted.value)));
      },
    }, h("h2", {}, t("home.join_title")), field(t("home.invite_field"), pasted), join),
  );
  await act(null, async () => {
    const circles = await app.circles.list();
    replace(list, h("h2", {}, t("home.circles")), circles.length === 0
      ? h("p", {}, t("home.none"))
      : h("ul", { class: "circle-list" }, circles.map(circleItem)));
    showUnseen(list);
    onLive(() => {
      if (!list.isConnected) {
        return false;
      }
      showUnseen(list);
      return true;
    });
  });
}

/** Each circle's count of warnings posted since the person last looked (from the stream). */
function showUnseen(list) {
  for (const badge of list.querySelectorAll("[data-unseen]")) {
    const count = unseenIn(badge.dataset.unseen);
    badge.hidden = !count;
    badge.textContent = count ? t("home.unseen", { count }) : "";
  }
}

function circleItem(c) {
  if (c.status === "pending") {
    return h("li", { class: "circle pending" }, h("span", { class: "circle-name" }, t("home.pending_name")),
      h("span", { class: "meta" }, t("home.pending_meta")));
  }
  if (c.status === "deleted") {
    const params = { who: isolated(c.deletedBy), when: c.deletedAt ? formatTime(c.deletedAt) : "" };
    const key = `home.deleted_${c.verified ? "verified" : "unverified"}${c.deletedAt ? "_when" : ""}`;
    return h("li", { class: "circle deleted" },
      h("span", { class: "circle-name" }, c.name ? userText(c.name) : t("home.deleted_name")),
      h("span", { class: "meta" }, t(key, params)));
  }
  if (c.problem) {
    const { title, text } = describe(c.problem);
    return h("li", { class: "circle problem" }, h("span", { class: "circle-name" }, t("home.problem_name")),
      h("span", { class: "meta" }, t("common.title_text", { title, text })));
  }
  return h("li", { class: "circle" },
    h("button", { type: "button", class: "circle-open", onclick: () => showCircle(c.circleId) },
      h("span", { class: "circle-name" }, c.name === null || c.name === undefined ? t("circle.no_name") : userText(c.name),
        h("span", { class: "unseen", "data-unseen": c.circleId, hidden: true })),
      h("span", { class: "meta" }, t(`role.you_are_${c.role}`))));
}

/** The join page: what the invite says, then redeem it and show the fingerprint to read out. */
export function showJoin(inviteText) {
  current(() => showJoin(inviteText));
  app.pendingInvite = null;
  let invite;
  try {
    invite = Circles.parseInvite(inviteText);
  } catch (error) {
    showHome().then(() => fail(error));
    return;
  }
  const button = h("button", { type: "button" }, t("join.ask"));
  button.addEventListener("click", () => act(button, async () => {
    status(t("join.sending"), { busy: true });
    const result = await app.circles.join(inviteText);
    status("");
    show(
      h("h1", {}, t("join.sent")),
      h("p", {}, t("join.sent_explain", { inviter: isolated(result.inviter) })),
      fingerprintBlock(app.account.fingerprint, t("fingerprint.yours")),
      h("p", {}, t("join.once_confirmed")),
      h("button", { type: "button", onclick: () => showHome() }, t("join.go_home")),
    );
  }));
  show(
    h("h1", {}, t("join.title")),
    h("p", {}, t("join.invited_by")),
    fingerprintBlock(invite.inviterFingerprint, t("join.inviter_fingerprint")),
    h("p", {}, t("join.shown_once_confirmed")),
    button,
  );
}
