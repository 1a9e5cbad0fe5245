/**
 * The protocol of docs/protocol.md for the browser client: one import for the page.
 * Call `await ready()` once before anything else (libsodium's WebAssembly must load).
 */
export { ready } from "./sodium.js";
export * from "./errors.js";
export * from "./encoding.js";
export * from "./json.js";
export * as labels from "./labels.js";
export { randomBytes, randomUuid } from "./random.js";
export { sha256, verifySignature } from "./hash.js";
export * from "./accounts.js";
export * from "./identity.js";
export * from "./records.js";
export * from "./circles.js";
export * from "./membership.js";
export * from "./entries.js";
export * from "./names.js";
export * from "./matching.js";
export * from "./moderation.js";
export * from "./reports.js";
export * from "./decisions.js";
export * from "./takedowns.js";
export * from "./proofs.js";
export * from "./audit.js";
export * from "./voprf.js";
export * from "./sealed.js";
export * from "./sealedfilings.js";
export * from "./anon.js";
export * from "./release.js";
export * from "./deletion.js";
