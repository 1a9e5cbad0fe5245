/**
 * The audit log: verified in this browser every time it is opened (docs/protocol.md
 * §33.6), and said loudly when it does not verify.
 */
import { AuditFailure } from "../client/audit.js";
import { act, app, status } from "./shell.js";
import { shareAlarm } from "./safety.js";
import { formatTime, h, replace } from "./dom.js";
import { t } from "./i18n/index.js";
import { isolated, userText } from "./text.js";

function describeRecord(body) {
  const who = body.actor ? [userText(body.actor), " "] : "";
  const whom = body.subject && body.subject !== body.actor ? [" ", userText(body.subject)] : "";
  // In words when the catalogue has the kind (`audit.kind_<kind>`), else as the log says it.
  const key = `audit.kind_${body.kind}`;
  const worded = t(key);
  const what = worded === key ? isolated(body.kind) : worded;
  const action = body.kind === "case_decided" && body.details?.action ? ` (${isolated(body.details.action)})` : "";
  return [who, what, whom, action];
}

export async function auditPanel(panel, circle) {
  const verdict = h("div", { "aria-live": "polite" });
  const list = h("div", {});
  const again = h("button", { type: "button", class: "secondary" }, t("audit.verify_again"));
  replace(panel, h("h2", {}, t("tab.audit")),
    h("p", {}, t("audit.intro")),
    verdict, again, list);
  const run = async () => {
    status(t("audit.verifying"), { busy: true });
    replace(verdict);
    try {
      const result = await app.audit.verify(circle.circleId, { full: true }); // the page lists every record
      status("");
      replace(verdict, h("p", { class: "verdict good" },
        t("audit.verifies", { records: result.treeSize, signatures: result.signaturesChecked })));
      replace(list, h("ol", { class: "records", start: "0" }, result.records.map((r) =>
        h("li", {}, h("span", {}, describeRecord(r.body)), h("span", { class: "meta" }, ` · ${formatTime(r.body.at)}`)))));
    } catch (error) {
      if (!(error instanceof AuditFailure)) {
        throw error;
      }
      status("");
      shareAlarm(app.account.username, error); // the account's other tabs say so at once
      replace(list);
      replace(verdict, h("div", { class: "verdict bad", role: "alert" },
        h("p", {}, t("audit.fails")),
        h("p", {}, t("common.title_text", { title: isolated(error.code), text: isolated(error.message) })),
        h("p", {}, t("audit.fails_explain"))));
    }
  };
  again.addEventListener("click", () => act(again, run));
  await run();
}
