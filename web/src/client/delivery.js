/**
 * Sending what a person wrote so that it lands once, while the circle changes under it
 * (app/client/delivery.py; docs/protocol.md §26.10).
 *
 * A post, a corroboration or a report is sealed to the circle as the client last synced it.
 * Between that sync and the POST the circle can move on honestly: the key rotates
 * (`stale_epoch`), or the admins change and renew the moderation key
 * (`moderation_key_stale`). The connection can also break anywhere, in the sync or in the
 * POST, and the database can be briefly unavailable (503). `deliver` then does what the
 * person meant:
 *
 * - a transport error or a 503 anywhere: the same step again, up to `ATTEMPTS` times; a POST
 *   whose answer was lost is sent again byte for byte, so the server's idempotency (same id,
 *   same bytes: the stored row) keeps it from landing twice;
 * - the stale code, from the server or from the client's own check of what it synced (a
 *   report finds the moderation key stale when the admins changed after its sync): sync and
 *   seal once more, under the same id, from the same fields the person wrote (`build` seals
 *   them; it never changes them); a second stale answer is thrown;
 * - any other answer is final.
 */
import { ApiError, ProtocolError, TransportError } from "./errors.js";

export const ATTEMPTS = 3; // transport errors and 503s, over the whole operation
export const RETRY_MS = 500;

const passing = (error) => error instanceof TransportError || (error instanceof ApiError && error.status === 503);

/** `build()` syncs and seals, resolving to `[path, body]` for the POST; see the module. */
export async function deliver(client, build, { stale, anonymous = false }) {
  const staleCodes = Array.isArray(stale) ? stale : [stale];
  let request = null;
  let resealed = false;
  let failures = 0;
  for (;;) {
    try {
      if (request === null) {
        request = await build();
      }
      const [path, json] = request;
      return await client.request("POST", path, { json, anonymous });
    } catch (error) {
      const staleAnswer = (error instanceof ApiError || error instanceof ProtocolError) && staleCodes.includes(error.code);
      if (staleAnswer && !resealed) {
        resealed = true;
        request = null;
        continue;
      }
      if (error instanceof ProtocolError || !passing(error)) {
        throw error;
      }
      failures += 1;
      if (failures >= ATTEMPTS) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS * failures));
    }
  }
}
