"""The limit on requests without a session (docs/protocol.md §38.4, docs/api.md): anonymous
posts, corroborations, retractions and cases, per circle and client address.

Kept in each worker's memory, never in the database: a row written beside an anonymous post
(its time, its place in the table, its transaction id on PostgreSQL) would tie the post to an
address for as long as the row lived. Each counter is named by a keyed hash of the circle and
the address under a key drawn when the worker starts and never written anywhere, so not even
the operator can test a guessed address against it; a counter is dropped once its window has
passed (at the next request without a session, or at the worker's retention pass). IPv6
clients are counted per /64, as registrations are. With N workers a client can get up to N
times the limit through.

Memory is bounded without letting one address shut everyone out: an address holds counters
for at most ``circles_per_address`` circles at a time (past that, that address alone is
refused until one of its counters leaves the window), and when ``max_counters`` are held the
least recently used counter is dropped to make room (a flood from many addresses can only
reset other counters early, which loosens the limit; it cannot refuse anyone).
"""

import hashlib
import secrets
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable

from app.accounts.registration import address_bucket
from app.errors import AnonRateLimited

__all__ = ["AnonThrottle"]


class AnonThrottle:
    """At most ``limit`` requests per circle and address in any ``window_seconds``."""

    def __init__(
        self,
        *,
        limit: int,
        window_seconds: float,
        max_counters: int = 65536,
        circles_per_address: int = 16,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_counters = max_counters
        self.circles_per_address = circles_per_address
        self._clock = clock
        self._key = secrets.token_bytes(32)  # this worker's, for its life, in memory only
        # Least recently hit first, so a sweep stops at the first counter still in its window.
        self._hits: OrderedDict[bytes, deque[float]] = OrderedDict()
        self._owner: dict[bytes, bytes] = {}  # counter → its address's name
        self._circles: dict[bytes, int] = {}  # address's name → counters it holds
        self._lock = threading.Lock()

    def _names(self, circle_id: uuid.UUID, address: str) -> tuple[bytes, bytes]:
        """The counter's name and its address's: keyed hashes, never the address itself."""
        bucket = address_bucket(address).encode("utf-8", "replace")
        who = hashlib.blake2b(b"address:" + bucket, key=self._key, digest_size=16).digest()
        data = b"counter:" + circle_id.bytes + bucket
        return hashlib.blake2b(data, key=self._key, digest_size=16).digest(), who

    def admit(self, circle_id: uuid.UUID, address: str) -> None:
        """Count this request, or raise ``AnonRateLimited`` (with Retry-After) if the
        window is full; a refused request is not counted."""
        name, who = self._names(circle_id, address)
        with self._lock:
            now = self._clock()
            self._sweep(now)
            hits = self._hits.get(name)
            if hits is None:
                if self._circles.get(who, 0) >= self.circles_per_address:
                    raise AnonRateLimited(retry_after=int(self.window) + 1)
                if len(self._hits) >= self.max_counters:
                    self._drop(next(iter(self._hits)))  # the least recently used
                hits = self._hits[name] = deque()
                self._owner[name] = who
                self._circles[who] = self._circles.get(who, 0) + 1
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                raise AnonRateLimited(retry_after=int(hits[0] + self.window - now) + 1)
            hits.append(now)
            self._hits.move_to_end(name)

    def sweep(self) -> None:
        """Drop every count older than the window (the retention pass calls it)."""
        with self._lock:
            self._sweep(self._clock())

    def held(self) -> int:
        """How many counters are in memory (each a circle and address seen in the window)."""
        with self._lock:
            return len(self._hits)

    def _sweep(self, now: float) -> None:
        """Drop the counters whose newest hit left the window: the oldest first, stopping at
        the first still in it, so a sweep costs what it drops."""
        since = now - self.window
        expired = []
        for name, hits in self._hits.items():
            if hits and hits[-1] > since:
                break
            expired.append(name)
        for name in expired:
            self._drop(name)

    def _drop(self, name: bytes) -> None:
        del self._hits[name]
        who = self._owner.pop(name)
        left = self._circles[who] - 1
        if left:
            self._circles[who] = left
        else:
            del self._circles[who]
