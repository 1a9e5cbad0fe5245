"""Sending what a person wrote so that it lands once, while the circle changes under it.

A post, a corroboration or a report is sealed to the circle as the client last synced it.
Between that sync and the POST the circle can move on honestly: the key rotates
(``stale_epoch``), or the admins change and renew the moderation key
(``moderation_key_stale``). The connection can also break anywhere, in the sync or in the
POST, and the database can be briefly unavailable (503).

``deliver`` then does what the person meant (docs/protocol.md §26.10):

- a transport error or a 503 anywhere: the same step again, up to ``ATTEMPTS`` times; a
  POST whose answer was lost is sent again byte for byte, so the server's idempotency
  (same id, same bytes: the stored row) keeps it from landing twice;
- the stale code, from the server or from the client's own check of what it synced (a
  report finds the moderation key stale when the admins changed after its sync): sync and
  seal once more, under the same id, from the same fields the
  person wrote (``build`` seals them; it never changes them); a second stale answer is
  raised;
- any other answer is final.
"""

import time
from collections.abc import Callable
from typing import Any

from app.client.errors import ApiError, ProtocolError, TransportError
from app.client.sdk import Client

__all__ = ["ATTEMPTS", "RETRY_SECONDS", "deliver"]

ATTEMPTS = 3  # transport errors and 503s, over the whole operation
RETRY_SECONDS = 0.5

Build = Callable[[], tuple[str, dict[str, Any]]]


def _passing(exc: ApiError | TransportError) -> bool:
    return isinstance(exc, TransportError) or exc.status == 503


def deliver(
    client: Client, build: Build, *, stale: str | tuple[str, ...], anonymous: bool = False
) -> Any:
    """``build()`` syncs and seals, returning the POST's path and body; see the module.
    ``anonymous``: the POST goes without the session (a token stands for it, §38)."""
    stale_codes = (stale,) if isinstance(stale, str) else stale
    request: tuple[str, dict[str, Any]] | None = None
    resealed = False
    failures = 0
    while True:
        try:
            if request is None:
                request = build()
            path, body = request
            return client.request("POST", path, json=body, anonymous=anonymous)
        except ProtocolError as exc:  # the sync itself found the state stale
            if exc.code not in stale_codes or resealed:
                raise
            resealed, request = True, None
        except (TransportError, ApiError) as exc:
            if isinstance(exc, ApiError) and exc.code in stale_codes and not resealed:
                resealed, request = True, None
                continue
            failures += 1
            if not _passing(exc) or failures >= ATTEMPTS:
                raise
            time.sleep(RETRY_SECONDS * failures)
