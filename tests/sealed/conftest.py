"""Sealed warnings through the real app: SDK clients, real crypto, both databases."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from app.client.moderation import Moderation
from app.client.sealed import Sealed
from tests.conftest import Person, World


def sealed_of(who: Person) -> Sealed:
    return Sealed(Moderation(who.circles))


class Ring:
    """``world`` with sealed warnings set up by alice (k = 2) and members to file them."""

    def __init__(self, world: World, person: Callable[[str], Person]) -> None:
        self.world = world
        self.person = person
        self.cid: uuid.UUID = world.circle_id
        sealed_of(world.alice).configure(self.cid)

    def add_member(self, name: str) -> Person:
        joiner = self.person(name)
        invite, _ = self.world.alice.circles.create_invite(self.cid, role="member")
        joiner.circles.join(str(invite))
        self.world.alice.circles.confirm(self.cid, name, fingerprint=joiner.fingerprint)
        return joiner

    def seal(self, who: Person, subject: str, *, text: str = "", **kw: Any) -> dict[str, Any]:
        return sealed_of(who).seal(
            self.cid,
            subject=subject,
            text=text or f"what {who.name} saw",
            categories=["harassment"],
            **kw,
        )

    def matches(self, admin: Person | None = None) -> list[dict[str, Any]]:
        return sealed_of(admin or self.world.alice).matches(self.cid)

    def own(self, who: Person) -> list[dict[str, Any]]:
        return sealed_of(who).filings(self.cid)


@pytest.fixture
def ring(world: World, person: Callable[[str], Person]) -> Ring:
    return Ring(world, person)
