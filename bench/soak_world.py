"""The soak's people and what the drivers know they did: every acknowledged action, every
action whose answer was lost (it may or may not have landed), and every refusal.

Each person has their own SDK objects (``Client``, ``Circles``, ``Entries``, ``Moderation``,
``Audit`` with pins kept for the whole run) and is driven by one thread only: the SDK is not
thread safe. What the threads share sits in ``World`` behind one lock.
"""

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.client.audit import Audit, AuditPins
from app.client.circles import Circles, VerifiedCircle
from app.client.entries import Entries
from app.client.errors import TransportError
from app.client.moderation import Moderation
from app.client.sdk import Account, Client
from app.client.trust import TrustStore
from app.crypto.circles import CircleKey

PASSPHRASE = "soak lantern orchard 4471 meadow"


class Person:
    """One account with its own SDK objects; ``held`` is every circle key it ever synced."""

    def __init__(self, url: str, name: str) -> None:
        self.name = name
        self.client = Client(url, timeout=30)
        self.account: Account = self.client.register(name, PASSPHRASE)
        self.circles = Circles(
            self.client, username=name, identity=self.account.identity, trust=TrustStore.in_memory()
        )
        self.entries = Entries(self.circles)
        self.moderation = Moderation(self.circles, entries=self.entries)
        self.audit = Audit(self.circles, AuditPins.in_memory())
        self.held: dict[uuid.UUID, dict[int, CircleKey]] = {}
        sync = self.circles.sync

        def recording_sync(circle_id: uuid.UUID) -> VerifiedCircle:
            circle = sync(circle_id)
            self.held.setdefault(circle_id, {}).update(circle.keys)
            return circle

        self.circles.sync = recording_sync  # type: ignore[method-assign]

    @property
    def fingerprint(self) -> str:
        return self.account.fingerprint


@dataclass
class Post:
    circle_id: uuid.UUID
    author: str
    subject: str
    text: str
    entry_id: str | None = None  # None: the answer was lost
    retracted: bool = False
    retracting: bool = False  # a retraction was sent (its answer may not be in yet)


@dataclass
class Removal:
    circle_id: uuid.UUID
    person: str
    at: float  # epoch seconds, taken after the removal was acknowledged


@dataclass
class CircleState:
    circle_id: uuid.UUID
    owner: str
    deputy: str  # promoted and demoted by the owner
    core: list[str]  # never removed
    churn: list[str]  # invited, confirmed and removed over and over
    members: set[str] = field(default_factory=set)  # acknowledged, confirmed
    admins: set[str] = field(default_factory=set)
    pending: set[str] = field(default_factory=set)  # joined, awaiting confirmation
    maybe_pending: set[str] = field(default_factory=set)  # a join whose answer was lost
    invited: set[str] = field(default_factory=set)
    changes: Counter[str] = field(default_factory=Counter)  # per person: membership changes


def lost_answer(exc: BaseException) -> bool:
    """A transport error after the request may have reached the server (not a refused
    connection): the action may have landed."""
    if not isinstance(exc, TransportError):
        return False
    cause = exc.__cause__
    return not isinstance(cause, httpx.ConnectError)


class World:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.people: dict[str, Person] = {}
        self.circles: dict[uuid.UUID, CircleState] = {}
        self.posts: list[Post] = []
        self.removals: list[Removal] = []
        self.inbox: dict[str, list[tuple[uuid.UUID, str]]] = {}
        # Audit events: acknowledged, and sent with the answer lost (per circle and kind).
        self.acked: Counter[tuple[uuid.UUID, str]] = Counter()
        self.maybe: Counter[tuple[uuid.UUID, str]] = Counter()
        self.cases_open: dict[uuid.UUID, int] = {}
        self.takedown_links: dict[uuid.UUID, str] = {}

    def count(self, circle_id: uuid.UUID, kind: str, *, landed: bool = True) -> None:
        with self.lock:
            (self.acked if landed else self.maybe)[(circle_id, kind)] += 1

    def member_of(self, name: str) -> list[CircleState]:
        with self.lock:
            return [c for c in self.circles.values() if name in c.members]

    def admin_of(self, name: str) -> list[CircleState]:
        with self.lock:
            return [c for c in self.circles.values() if name in c.admins and name in c.members]

    def others_posts(self, circle_id: uuid.UUID, name: str) -> list[Post]:
        with self.lock:
            return [
                p
                for p in self.posts[-200:]
                if p.circle_id == circle_id and p.author != name and p.entry_id and not p.retracted
            ]

    def own_posts(self, circle_id: uuid.UUID, name: str) -> list[Post]:
        with self.lock:
            return [
                p
                for p in self.posts[-400:]
                if p.circle_id == circle_id and p.author == name and p.entry_id and not p.retracted
            ]

    def version(self, circle_id: uuid.UUID, name: str) -> int:
        with self.lock:
            return self.circles[circle_id].changes[name]

    def changing(self, circle_id: uuid.UUID, name: str, change: Callable[[], Any]) -> Any:
        """Run a change to ``name``'s membership or role, marked before and after it, so an
        error ``name`` meets meanwhile is not blamed on the client."""
        with self.lock:
            self.circles[circle_id].changes[name] += 1
        try:
            return change()
        finally:
            with self.lock:
                self.circles[circle_id].changes[name] += 1
