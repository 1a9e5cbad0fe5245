/**
 * The audit log: verified in this browser every time it is opened (docs/protocol.md
 * §33.6), and said loudly when it does not verify.
 */
import { AuditFailure } from "../client/audit.js";
import { act, app, status } from "./app.js";
import { formatTime, h, replace } from "./dom.js";
import { userText, visible } from "./text.js";

const KIND_TEXT = {
  circle_created: "created the circle",
  invite_created: "made an invite",
  invite_revoked: "withdrew an invite",
  invite_redeemed: "opened an invite",
  member_confirmed: "confirmed",
  role_changed: "changed the role of",
  member_removed: "removed",
  member_left: "left",
  key_rotated: "renewed the circle key",
  entry_retracted: "retracted a warning",
  entry_expired: "a warning expired",
  moderation_key_rotated: "renewed the moderation key",
  report_filed: "a warning was reported",
  takedown_filed: "a takedown request came in",
  case_decided: "decided a case",
  sealed_settings_changed: "set how many members open a sealed warning",
  sealed_evaluation: "a name was evaluated for a sealed warning (who: only the admins can see)",
};

function describeRecord(body) {
  const who = body.actor ? [userText(body.actor), " "] : "";
  const whom = body.subject && body.subject !== body.actor ? [" ", userText(body.subject)] : "";
  const what = KIND_TEXT[body.kind] ?? visible(body.kind);
  const action = body.kind === "case_decided" && body.details?.action ? ` (${visible(body.details.action)})` : "";
  return [who, what, whom, action];
}

export async function auditPanel(panel, circle) {
  const verdict = h("div", { "aria-live": "polite" });
  const list = h("div", {});
  const again = h("button", { type: "button", class: "secondary" }, "Verify again");
  replace(panel, h("h2", {}, "Audit log"),
    h("p", {}, "Every change to this circle is a record in a tamper-evident log the server signs. Your browser checks every record, every signature and that the log only ever grew since you last looked."),
    verdict, again, list);
  const run = async () => {
    status("Verifying the audit log…", { busy: true });
    replace(verdict);
    try {
      const result = await app.audit.verify(circle.circleId, { full: true }); // the page lists every record
      status("");
      replace(verdict, h("p", { class: "verdict good" },
        `The audit log verifies: ${result.treeSize} records, ${result.signaturesChecked} signatures checked.`));
      replace(list, h("ol", { class: "records", start: "0" }, result.records.map((r) =>
        h("li", {}, h("span", {}, describeRecord(r.body)), h("span", { class: "meta" }, ` · ${formatTime(r.body.at)}`)))));
    } catch (error) {
      if (!(error instanceof AuditFailure)) {
        throw error;
      }
      status("");
      replace(list);
      replace(verdict, h("div", { class: "verdict bad", role: "alert" },
        h("p", {}, "THE AUDIT LOG DOES NOT VERIFY."),
        h("p", {}, `${error.code}: ${error.message}`),
        h("p", {}, "The server changed, dropped, reordered or rolled back records, or shows you a different history than before. Tell the circle's other members, through another channel.")));
    }
  };
  again.addEventListener("click", () => act(again, run));
  await run();
}
