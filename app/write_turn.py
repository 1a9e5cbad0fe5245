"""The queue for SQLite's one write lock (issue 19: "SQLite writes never sleep-poll each other").

Writers of one process queue on the event loop (an ``asyncio.Lock``): a waiting writer holds
no worker thread. Writers of the server's other processes (``--workers``) queue on a lock file
beside the database (``flock``): a writer whose turn another worker holds waits for it on a
worker thread, blocked in the kernel, and is woken the moment that turn is given back. Without
it the two processes met only at SQLite's own lock, and the loser slept in SQLite's busy
handler (1, 2, 5, 10, 15, 20, 25 ms and more between tries) while its process's other writers
queued behind it. A writer that is not the server (the CLI, a maintenance command) still meets
the server at SQLite's lock, and waits in the busy handler off the loop
(``app.deps.take_write_turn``).

The turn is held from before ``BEGIN IMMEDIATE`` until the commit or rollback. A writer
waits for it at most as long as SQLite's busy timeout, then the request is answered busy.
"""

import asyncio
import fcntl
import os
import weakref
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from app.db import BUSY_TIMEOUT_MS

# How long a writer waits for its turn, as long as SQLite's own busy timeout.
WAIT_SECONDS = BUSY_TIMEOUT_MS / 1000


class WriteTurn:
    """One process's place in the queue for a SQLite file's write lock."""

    def __init__(self, database: Path | None) -> None:
        """``database``: the SQLite file (None for an in-memory database: one process)."""
        self._local = asyncio.Lock()
        self._path = None if database is None else Path(f"{database}-writers")
        self._fd: int | None = None

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._fd = fd
            weakref.finalize(self, os.close, fd)
        return self._fd

    async def acquire(self, timeout: float = WAIT_SECONDS) -> None:
        """Take the turn, or raise ``TimeoutError`` after ``timeout`` seconds (as SQLite's
        own busy timeout would: a stopped or hung worker must not hold the others forever)."""
        deadline = asyncio.get_running_loop().time() + timeout
        await asyncio.wait_for(self._local.acquire(), timeout)
        try:
            fd = self._file()
            if fd is None or _try_lock(fd):
                return
        except BaseException:
            self._local.release()
            raise
        waiting = asyncio.ensure_future(run_in_threadpool(fcntl.flock, fd, fcntl.LOCK_EX))
        left = max(0.0, deadline - asyncio.get_running_loop().time())
        try:
            await asyncio.wait_for(asyncio.shield(waiting), left)
        except BaseException:
            # Cancelled or timed out while a thread waits in flock, which nothing can
            # interrupt: the thread may still take the file's lock. Keep this process's turn
            # until it returns, then give both back, so the file is never left locked with
            # nobody holding the turn.
            waiting.add_done_callback(lambda _: self.release())
            raise

    def release(self) -> None:
        try:
            self._unlock()
        finally:
            self._local.release()

    def _unlock(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class CircleTurns:
    """PostgreSQL: this process's posts to one circle queue here, first come first served,
    before their transaction locks the circle's row (``circles.queries.lock_circle``).

    Every post to a circle takes that row lock (its sequence numbers come from the row).
    Sixteen posts at once to one circle all waited on it in PostgreSQL, each on a worker
    thread with a pooled connection, and one in a hundred waited 300-450 ms against a median
    of 17-30 ms (``bench.http_ceiling``, issue 19: the same with ``synchronous_commit=off``,
    so not the commit flushes). Queued here, a post reaches the lock when the one before it
    has committed, and waits on no worker thread meanwhile (it keeps the pooled connection
    its session check used, as it did while it waited at the lock): the p99 fell to
    90-220 ms, 1.4-2.1x its median, at the same throughput. The queue is entered after the
    session check, so only signed-in callers can stand in it. The row lock stays the rule:
    it is what orders the posts of several processes, and posts that are not queued here
    (anonymous ones, and other changes to the circle) meet them there. A post waits here at
    most ``WAIT_SECONDS`` (as long as a SQLite writer waits for its turn), then is answered
    busy."""

    def __init__(self) -> None:
        self._queues: dict[object, _Queue] = {}

    async def acquire(self, circle: object, timeout: float = WAIT_SECONDS) -> None:
        """Take ``circle``'s turn, or raise ``TimeoutError`` after ``timeout`` seconds."""
        queue = self._queues.get(circle)
        if queue is None:
            queue = self._queues[circle] = _Queue()
        queue.users += 1
        try:
            await asyncio.wait_for(queue.lock.acquire(), timeout)
        except BaseException:
            self._leave(circle, queue)
            raise

    def release(self, circle: object) -> None:
        queue = self._queues[circle]
        queue.lock.release()
        self._leave(circle, queue)

    def _leave(self, circle: object, queue: "_Queue") -> None:
        queue.users -= 1
        if queue.users == 0:  # nobody holds or waits: the circle's queue goes
            del self._queues[circle]

    def __len__(self) -> int:
        """How many circles have a post holding or waiting for a turn."""
        return len(self._queues)


class _Queue:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()  # FIFO: waiters are woken in the order they came
        self.users = 0
