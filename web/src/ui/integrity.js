/**
 * The page's side of code integrity (docs/protocol.md §35): on the first visit to a server
 * that publishes a signed release, install the integrity worker and reload under it, so that
 * the page that runs is the one it checked; then show, in the footer, which release key the
 * browser pinned, so a person can compare it with the release notes.
 *
 * The checks themselves and the alarm are the worker's (web/src/worker/sw.js): when it
 * refuses, this code never runs.
 */
import { parseSignedRelease, releaseKeyFingerprint } from "../protocol/release.js";
import { h, replace } from "./dom.js";
import { t, tx } from "./i18n/index.js";
import { isolated } from "./text.js";

const RELEASE_PATH = "/web-release.json";
const INSTALL_WAIT_MS = 15_000;

/**
 * Resolves to "checked" (the worker served this page after checking it), "unsigned" (the
 * server publishes no release), "unsupported" (no service workers here); or reloads the
 * page under a newly installed worker and never resolves.
 */
export async function ensureIntegrity() {
  if (!("serviceWorker" in navigator)) {
    return "unsupported";
  }
  if (navigator.serviceWorker.controller !== null) {
    return "checked";
  }
  const answer = await fetch(RELEASE_PATH, { cache: "no-store" });
  if (answer.status === 404) {
    return "unsigned";
  }
  try {
    await navigator.serviceWorker.register("/sw.js", { type: "module", scope: "/", updateViaCache: "none" });
    // An install that fails never makes the worker ready: the page then runs unchecked, and says so.
    const ready = await Promise.race([navigator.serviceWorker.ready, new Promise((done) => setTimeout(done, INSTALL_WAIT_MS))]);
    if (ready === undefined) {
      return "unsupported";
    }
  } catch {
    return "unsupported"; // private windows of some browsers refuse service workers
  }
  window.location.reload();
  return new Promise(() => {});
}

/** The footer: the pinned release key's fingerprint, or why this page's code is not checked. */
export async function showRelease(state, footer = document.getElementById("release")) {
  if (footer === null) {
    return;
  }
  if (state !== "checked") {
    const why = state === "unsigned" ? t("release.unsigned") : t("release.unsupported");
    replace(footer, h("p", {}, why, " ", t("release.use_cli")));
    return;
  }
  // Answered by the worker: the release it checked this page against.
  const signed = await parseSignedRelease(new Uint8Array(await (await fetch(RELEASE_PATH)).arrayBuffer()));
  const fingerprint = await releaseKeyFingerprint(signed.manifest.key);
  replace(
    footer,
    h(
      "p",
      {},
      tx("release.checked", {
        release: String(signed.manifest.release),
        version: isolated(signed.manifest.version),
        key: h("span", { class: "release-key", dir: "ltr" }, fingerprint),
      }),
    ),
  );
}

