"""ASGI middleware: body size and media type before any route runs; ``nosniff`` on every answer."""

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import security_log
from app.errors import BackchannelError, PayloadTooLarge, UnsupportedMediaType, error_body

_BODY_METHODS = {b"POST", b"PUT", b"PATCH", b"DELETE"}
_LARGE_BODY_PATHS = re.compile(r"^/v1/circles/[^/]+/(rotate|members/[^/]+/remove)$")


class RequestGuard:
    """413 for bodies over the limit (declared or streamed), 415 for non-JSON bodies."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, large_body_bytes: int) -> None:
        self.app = app
        self.default_limit = max_body_bytes
        self.large_limit = large_body_bytes

    def limit_for(self, path: str) -> int:
        """Rotations (and removals, which carry one) may be large; everything else is small."""
        return self.large_limit if _LARGE_BODY_PATHS.match(path) else self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"].encode() not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        has_body = b"transfer-encoding" in headers or (length is not None and length != b"0")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = limit + 1
            if declared > limit:
                await _reject(scope, send, PayloadTooLarge)
                return
        if has_body:
            # One media type: the app reads the first of several, and this dict the last.
            types = [value for name, value in scope["headers"] if name == b"content-type"]
            media = types[0].split(b";")[0].strip().lower() if len(types) == 1 else b""
            if media != b"application/json":
                await _reject(scope, send, UnsupportedMediaType)
                return

        # Bodies are small: read the whole body (bounded) before the app sees it, so a
        # chunked upload over the limit is refused the same way as a declared one.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await _reject(scope, send, PayloadTooLarge)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _reject(scope: Scope, send: Send, error: type[BackchannelError]) -> None:
    security_log.record(
        "request_rejected",
        outcome="refused",
        status=error.status_code,
        code=error.code,
        **security_log.scope_fields(scope),
    )
    body = json.dumps(error_body(error.code, error.message)).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


NOSNIFF = (b"x-content-type-options", b"nosniff")


class NoSniff:
    """``X-Content-Type-Options: nosniff`` on every response, JSON included, so no browser
    reads an API answer as another type (a 500 from the outermost handler sets it itself)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_nosniff(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == NOSNIFF[0] for name, _ in headers):
                    headers.append(NOSNIFF)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_nosniff)
