"""What the soak's drivers do: each thread owns some people and, until the deadline, picks one
of them and one action that person may take, does it through the SDK, and writes down what
came of it (acknowledged, answer lost, refused, or a client error that is a violation).

Members post, read everything, check names, corroborate, retract their own warnings, report
others' and verify the audit log. Owners invite, confirm, remove (the SDK rotates the key),
promote and demote their deputy, file takedown requests through their circle's link (as
someone without an account would) and decide open cases; an admin deputy decides too. A
person with an invite in their inbox joins.
"""

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.client.cases import list_cases
from app.client.decisions import decide
from app.client.errors import ApiError, AuditFailure, ClientError, ProtocolError, TransportError
from app.client.takedown import file_takedown
from bench.soak_world import CircleState, Person, Post, Removal, World, lost_answer

# Always a violation in an honest run, whoever meets them (the two client bugs).
NEVER = ("forked", "decryption_failed")

MEMBER_OPS = {
    "post": 30,
    "read": 8,
    "check": 16,
    "corroborate": 8,
    "retract": 3,
    "report": 4,
    "verify": 6,
}
OWNER_OPS = {"invite": 5, "confirm": 6, "remove": 5, "promote": 3, "takedown": 2, "decide": 3}
ADMIN_OPS = {"decide": 2}
ADMINS = "@admins"  # the version of a circle's admin set (bench.soak_world.World.changing)


class Refused(Exception):
    """What the client said was right, given what the soak could not know (a lost answer)."""


@dataclass
class Sample:
    at: float  # seconds since the start
    kind: str
    seconds: float
    outcome: str  # ok, lost, refused:<code>, unreachable, violation:<code>


@dataclass
class Log:
    started: float = field(default_factory=time.monotonic)
    samples: list[Sample] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, started: float, outcome: str, detail: str = "") -> None:
        now = time.monotonic()
        with self.lock:
            self.samples.append(Sample(started - self.started, kind, now - started, outcome))
            if outcome.startswith("violation"):
                self.violations.append(f"{kind}: {outcome} {detail}".strip())

    def outcomes(self) -> Counter[str]:
        with self.lock:
            return Counter(s.outcome for s in self.samples)


class Driver:
    def __init__(self, world: World, log: Log, people: list[Person], seed: int) -> None:
        self.world = world
        self.log = log
        self.people = people
        self.rng = random.Random(seed)

    def run(self, deadline: float, stop: threading.Event) -> None:
        while time.monotonic() < deadline and not stop.is_set():
            person = self.rng.choice(self.people)
            if not self.step(person):
                time.sleep(0.05)

    # -- choosing ---------------------------------------------------------------------------

    def step(self, person: Person) -> bool:
        inbox = self.world.inbox.get(person.name)
        if inbox:
            with self.world.lock:
                circle_id, invite = inbox.pop(0)
            self.do("join", person, circle_id, lambda: self.join(person, circle_id, invite))
            return True
        choices: list[tuple[str, CircleState, int]] = []
        for circle in self.world.member_of(person.name):
            choices += [(op, circle, w) for op, w in MEMBER_OPS.items()]
            if circle.owner == person.name:
                choices += [(op, circle, w) for op, w in OWNER_OPS.items()]
            elif circle.deputy == person.name and person.name in circle.admins:
                choices += [(op, circle, w) for op, w in ADMIN_OPS.items()]
        if not choices:
            return False
        op, circle, _ = self.rng.choices(choices, weights=[w for _, _, w in choices])[0]
        action = getattr(self, op)(person, circle)
        if action is None:
            return False
        self.do(op, person, circle.circle_id, action)
        return True

    def do(
        self, kind: str, person: Person, circle_id: uuid.UUID, action: Callable[[], Any]
    ) -> None:
        """Run one action and write down how it ended."""
        before = self.versions(circle_id, person.name)
        started = time.monotonic()
        try:
            action()
        except Refused as exc:
            self.log.add(kind, started, f"refused:{exc}")
        except (AuditFailure, ProtocolError) as exc:
            # Their membership or role, or the circle's admin set, changed meanwhile (an odd
            # version: a change under way).
            changed = self.versions(circle_id, person.name) != before or any(v % 2 for v in before)
            if exc.code in NEVER or not changed:
                self.log.add(kind, started, f"violation:{exc.code}", f"{person.name}: {exc}")
            else:
                self.log.add(kind, started, f"refused:{exc.code}")
        except ApiError as exc:
            if exc.status == 503:
                self.log.add(kind, started, "unavailable")
                time.sleep(0.2)
            elif exc.status >= 500:
                self.log.add(kind, started, f"violation:{exc.status}", f"{person.name}: {exc}")
            else:
                self.log.add(kind, started, f"refused:{exc.code}")
        except TransportError as exc:
            self.log.add(kind, started, "lost" if lost_answer(exc) else "unreachable")
            time.sleep(0.2)  # a server restarting: do not spin
        except ClientError as exc:
            self.log.add(kind, started, f"violation:{exc.code}", f"{person.name}: {exc}")
        else:
            self.log.add(kind, started, "ok")

    def versions(self, circle_id: uuid.UUID, name: str) -> tuple[int, int]:
        return self.world.version(circle_id, name), self.world.version(circle_id, ADMINS)

    def landed(self, circle_id: uuid.UUID, kind: str, action: Callable[[], Any]) -> Any:
        """Run an audited action; count its event as acknowledged, or as maybe landed when
        the answer was lost."""
        try:
            result = action()
        except TransportError as exc:
            if lost_answer(exc):
                self.world.count(circle_id, kind, landed=False)
            raise
        self.world.count(circle_id, kind)
        return result

    # -- members ----------------------------------------------------------------------------

    def post(self, person: Person, circle: CircleState) -> Callable[[], Any]:
        tag = uuid.uuid4().hex[:12]
        post = Post(circle.circle_id, person.name, f"Soak Person {tag}", f"what happened {tag}")

        def action() -> None:
            try:
                result = person.entries.post(
                    circle.circle_id, subject=post.subject, text=post.text, categories=["other"]
                )
            except TransportError as exc:
                if lost_answer(exc):
                    with self.world.lock:
                        self.world.posts.append(post)  # entry_id None: may have landed
                raise
            post.entry_id = str(result["entry_id"])
            with self.world.lock:
                self.world.posts.append(post)

        return action

    def read(self, person: Person, circle: CircleState) -> Callable[[], Any]:
        """A full read as the reference clients do it: from the device's copy, synced with
        what changed (``Entries.read_all``), where the SDK has it; else every page."""
        read_all = getattr(person.entries, "read_all", None)
        if read_all is not None:
            return lambda: len(read_all(circle.circle_id))
        return lambda: sum(1 for _ in person.entries.pages(circle.circle_id))

    def check(self, person: Person, circle: CircleState) -> Callable[[], Any]:
        posts = self.world.others_posts(circle.circle_id, person.name)
        name = self.rng.choice(posts).subject if posts and self.rng.random() < 0.7 else None
        name = name or f"Nobody {uuid.uuid4().hex[:8]}"
        return lambda: person.entries.check(circle.circle_id, name)

    def corroborate(self, person: Person, circle: CircleState) -> Callable[[], Any] | None:
        posts = self.world.others_posts(circle.circle_id, person.name)
        if not posts:
            return None
        entry_id = str(self.rng.choice(posts).entry_id)
        return lambda: person.entries.corroborate(circle.circle_id, entry_id, text="me too")

    def retract(self, person: Person, circle: CircleState) -> Callable[[], Any] | None:
        posts = self.world.own_posts(circle.circle_id, person.name)
        if not posts:
            return None
        post = self.rng.choice(posts)

        def action() -> None:
            post.retracting = True
            self.landed(
                circle.circle_id,
                "entry_retracted",
                lambda: person.entries.retract(circle.circle_id, str(post.entry_id)),
            )
            post.retracted = True

        return action

    def report(self, person: Person, circle: CircleState) -> Callable[[], Any] | None:
        posts = self.world.others_posts(circle.circle_id, person.name)
        if not posts:
            return None
        post = self.rng.choice(posts)

        def action() -> None:
            try:
                self.landed(
                    circle.circle_id,
                    "report_filed",
                    lambda: person.moderation.report(
                        circle.circle_id, str(post.entry_id), reason="other", note="soak"
                    ),
                )
            except ProtocolError as exc:
                if exc.code == "entry_gone" and post.retracting:  # its author retracted it
                    raise Refused(exc.code) from exc
                raise

        return action

    def verify(self, person: Person, circle: CircleState) -> Callable[[], Any]:
        return lambda: person.audit.verify(circle.circle_id)

    # -- owners and admins ------------------------------------------------------------------

    def invite(self, person: Person, circle: CircleState) -> Callable[[], Any] | None:
        with self.world.lock:
            free = [
                n
                for n in circle.churn
                if n not in circle.members and n not in circle.pending and n not in circle.invited
            ]
        if not free:
            return None
        name = self.rng.choice(free)

        def action() -> None:
            invite, _ = self.landed(
                circle.circle_id,
                "invite_created",
                lambda: person.circles.create_invite(circle.circle_id),
            )
            with self.world.lock:
                circle.invited.add(name)
                self.world.inbox.setdefault(name, []).append((circle.circle_id, str(invite)))

        return action

    def join(self, person: Person, circle_id: uuid.UUID, invite: str) -> None:
        circle = self.world.circles[circle_id]
        try:
            self.landed(circle_id, "invite_redeemed", lambda: person.circles.join(invite))
        except TransportError as exc:
            with self.world.lock:
                if lost_answer(exc):  # perhaps pending: the owner tries to confirm
                    circle.pending.add(person.name)
                    circle.maybe_pending.add(person.name)
                else:
                    circle.invited.discard(person.name)
            raise
        except ClientError:
            with self.world.lock:
                circle.invited.discard(person.name)
            raise
        with self.world.lock:
            circle.pending.add(person.name)

    def confirm(self, person: Person, circle: CircleState) -> Callable[[], Any] | None:
        with self.world.lock:
            pending = sorted(circle.pending)
        if not pending:
            return None
        joiner = self.world.people[pending[0]]

        def change() -> None:
            try:
                self.landed(
                    circle.circle_id,
                    "member_confirmed",
                    lambda: person.circles.confirm(
                        circle.circle_id, joiner.name, fingerprint=joiner.fingerprint
                    ),
                )
            except ClientError as exc:
                with self.world.lock:
                    maybe = joiner.name in circle.maybe_pending
                    circle.pending.discard(joiner.name)
                    circle.maybe_pending.discard(joiner.name)
                    circle.invited.discard(joiner.name)
                if maybe and exc.code == "not_pending":  # the lost join never landed
                    raise Refused(exc.code) from exc
                raise
            with self.world.lock:
                circle.pending.discard(joiner.name)
                circle.maybe_pending.discard(joiner.name)
                circle.invited.discard(joiner.name)
                circle.members.add(joiner.name)

        return lambda: self.world.changing(circle.circle_id, joiner.name, change)

    def remove(self, person: Person, circle: CircleState) -> Callable[[], Any] | None:
        with self.world.lock:
            churned = [n for n in circle.churn if n in circle.members]
        if len(churned) < 2 and self.rng.random() < 0.7:
            return None
        if not churned:
            return None
        name = self.rng.choice(churned)

        def change() -> None:
            with self.world.lock:
                circle.members.discard(name)  # drivers stop choosing it now
            try:
                self.landed(
                    circle.circle_id,
                    "member_removed",
                    lambda: person.circles.remove(circle.circle_id, name),
                )
            except TransportError as exc:
                if not lost_answer(exc):
                    with self.world.lock:
                        circle.members.add(name)
                else:
                    with self.world.lock:  # unknown: checked at the end against the server
                        self.world.removals.append(Removal(circle.circle_id, name, -1.0))
                raise
            except ClientError:
                with self.world.lock:
                    circle.members.add(name)
                raise
            with self.world.lock:
                self.world.removals.append(Removal(circle.circle_id, name, time.time()))

        return lambda: self.world.changing(circle.circle_id, name, change)

    def promote(self, person: Person, circle: CircleState) -> Callable[[], Any]:
        deputy = circle.deputy
        role = "member" if deputy in circle.admins else "admin"

        def change() -> None:
            self.landed(
                circle.circle_id,
                "role_changed",
                lambda: person.circles.set_role(circle.circle_id, deputy, role),
            )
            with self.world.lock:
                (circle.admins.add if role == "admin" else circle.admins.discard)(deputy)
            # What the CLI does after a role change: the moderation key becomes the new
            # admins' (until then a report is refused with moderation_key_stale, §30.5).
            person.moderation.ensure_key(circle.circle_id)

        return lambda: self.world.changing(
            circle.circle_id, ADMINS, lambda: self.world.changing(circle.circle_id, deputy, change)
        )

    def takedown(self, person: Person, circle: CircleState) -> Callable[[], Any]:
        def action() -> None:
            link = person.moderation.takedown_link(circle.circle_id)
            self.landed(
                circle.circle_id,
                "takedown_filed",
                lambda: file_takedown(
                    link,
                    name=f"Soak Person {uuid.uuid4().hex[:6]}",
                    contact="soak@example.org",
                    text="please take this down",
                ),
            )

        return action

    def decide(self, person: Person, circle: CircleState) -> Callable[[], Any]:
        def action() -> None:
            cases = list_cases(person.moderation, circle.circle_id, status="open")
            for case in cases[:2]:
                if "unreadable" in case:
                    raise ProtocolError("unreadable_case", str(case["unreadable"]))
                case_id = str(case["case_id"])
                self.landed(
                    circle.circle_id,
                    "case_decided",
                    lambda: decide(
                        person.moderation,
                        circle.circle_id,
                        case_id,  # noqa: B023 - called before the next iteration
                        action="dismiss",
                        reason="soak: nothing to act on",
                    ),
                )

        return action
