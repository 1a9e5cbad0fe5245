"""Security events as one JSON object per line (ASVS V16): when (UTC), what, who, where, outcome.

Callers pass names, codes, ids and addresses only, never a token, key, passphrase, body or
ciphertext; the formatter JSON-encodes every value, so no field can break or forge a line.
The inventory of events is in docs/operations.md ("Logs"); a test keeps the two in step.
"""

import copy
import json
import logging
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.types import Scope
from uvicorn.config import LOGGING_CONFIG

logger = logging.getLogger("backchannel.security")

# Every event this module writes (the `event` field).
EVENTS = frozenset(
    {
        "authentication",  # credential checks, session starts and ends, refused session tokens
        "access_denied",  # a signed-in (or capability-holding) caller refused a resource
        "request_rejected",  # schema, signature, record, size or media-type checks failed
        "rate_limited",  # an anti-automation limit refused the request (429, 503 server_busy)
        "backend_unavailable",  # the database could not be reached (503 database_unavailable)
        "unexpected_error",  # a 500: the client got a generic message, the traceback is here
    }
)


def record(
    event: str,
    *,
    outcome: str,
    level: int = logging.INFO,
    exc_info: BaseException | None = None,
    **fields: Any,
) -> None:
    """Write one security event; ``fields`` must hold no secret (see the module docstring)."""
    assert event in EVENTS, event
    logger.log(
        level,
        event,
        extra={"security": {"event": event, "outcome": outcome, **fields}},
        exc_info=exc_info,
    )


def scope_fields(scope: Scope) -> dict[str, Any]:
    """Where a request came from and what it asked for (no query string: it may name people)."""
    client = scope.get("client")
    state = scope.get("state") or {}
    return {
        "method": scope.get("method"),
        "path": scope.get("path"),
        "address": client[0] if client else None,
        "user": state.get("username"),
    }


def request_fields(request: Request) -> dict[str, Any]:
    return scope_fields(request.scope)


class JsonFormatter(logging.Formatter):
    """``{"time": "…Z", "level", "logger", "message", …event fields}`` on a single line.

    The client's address is written only when ``addresses`` is true
    (``BACKCHANNEL_LOG_ADDRESSES``): by default no log line holds one (app/retention.py).
    """

    def __init__(self, *args: Any, addresses: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.addresses = addresses

    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line: dict[str, Any] = {
            "time": time.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "security", {}))
        if not self.addresses:
            line.pop("address", None)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        # ensure_ascii escapes every control character: one event is always one line.
        return json.dumps(line, ensure_ascii=True, default=str, separators=(",", ":"))


class AccessFormatter(logging.Formatter):
    """uvicorn's access line without the client's address or the query string (which may name
    people: ``/v1/auth/params?username=…``): ``"METHOD PATH HTTP/V" STATUS``."""

    def format(self, record: logging.LogRecord) -> str:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _address, method, full_path, http_version, status = args
            path = str(full_path).split("?", 1)[0]
            return f'INFO:     "{method} {path} HTTP/{http_version}" {status}'
        return f"INFO:     {record.getMessage()}"


def log_config(*, addresses: bool = False) -> dict[str, Any]:
    """uvicorn's logging plus the app's loggers as JSON lines on stderr (and nowhere else);
    the access log names no address and no query string."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["json"] = {"()": "app.security_log.JsonFormatter", "addresses": addresses}
    config["formatters"]["access"] = {"()": "app.security_log.AccessFormatter"}
    config["handlers"]["json"] = {
        "formatter": "json",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["backchannel"] = {"handlers": ["json"], "level": "INFO", "propagate": False}
    return config
