"""A real Backchannel server that freezes one chosen request inside its transaction.

    python -m tests.faults.halting_server PORT METHOD PATH_REGEX POINT READY_FILE

The app is ``create_app()`` with settings from ``BACKCHANNEL_*``, served by uvicorn as
``backchannel-server serve`` serves it. The first request whose method and path match is
marked; when its session reaches ``POINT`` it stops there and writes READY_FILE, so the test
can SIGKILL the process at exactly that point:

- ``before_commit``: every write of the use case is flushed to the database, and the
  transaction is still open (what a crash mid-request leaves behind);
- ``after_commit``: the transaction is committed, and the response was never sent (what
  a crash between commit and reply leaves behind).

Test-only: nothing in ``app`` knows about it.
"""

import re
import sys
import threading
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import event
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from app.cli import uvicorn_options
from app.main import create_app

POINTS = ("before_commit", "after_commit")

_marked: ContextVar[bool] = ContextVar("halt_marked", default=False)


class MarkRequest:
    """Mark the first request that matches; the mark travels with the request's context into
    the worker thread that runs its session."""

    def __init__(self, app: ASGIApp, *, method: str, path: re.Pattern[str]) -> None:
        self.app = app
        self.method = method
        self.path = path
        self.seen = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            not self.seen
            and scope["type"] == "http"
            and scope["method"] == self.method
            and self.path.fullmatch(scope["path"])
        ):
            self.seen = True
            _marked.set(True)
        await self.app(scope, receive, send)


def install_halt(point: str, ready: Path) -> None:
    def halt(session: Session) -> None:
        if not _marked.get():
            return
        if point == "before_commit":
            session.flush()  # every write is in the database, uncommitted
        written = ready.with_name(ready.name + ".part")
        written.write_text(point)
        written.replace(ready)  # the test sees the file whole or not at all
        threading.Event().wait()  # until the test kills this process

    event.listen(Session, point, halt)


def main(argv: list[str]) -> None:
    port, method, path, point, ready = argv
    if point not in POINTS:
        raise SystemExit(f"POINT is one of {', '.join(POINTS)}")
    install_halt(point, Path(ready))
    app = MarkRequest(create_app(), method=method, path=re.compile(path))
    options: dict[str, Any] = uvicorn_options(host="127.0.0.1", port=int(port), workers=1)
    del options["factory"]
    uvicorn.run(app, **{**options, "log_level": "warning"})


if __name__ == "__main__":
    main(sys.argv[1:])
