/**
 * The one module that loads libsodium.js. The sumo build is needed: it has Argon2id
 * (crypto_pwhash) and BLAKE2b with salt and personalisation.
 *
 * The import is the bare specifier "libsodium-wrappers-sumo": Node resolves it in
 * web/node_modules, a browser through the page's import map (web/README.md).
 * Every other protocol module calls `sodium.<function>` only after `ready()` resolved.
 */
import sodium from "libsodium-wrappers-sumo";

export { sodium };

/** Resolves once the WebAssembly module is instantiated; safe to call more than once. */
export async function ready() {
  await sodium.ready;
  return sodium;
}
