"""Sealed warnings through the real app: SDK clients, real crypto, both databases."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from app.client.moderation import Moderation
from app.client.sealed import Sealed
from app.crypto import b64encode, ristretto
from app.crypto.sealed import NamePolynomial
from app.crypto.sealed_filings import seal_filing
from tests.conftest import Person, World


def sealed_of(who: Person) -> Sealed:
    return Sealed(Moderation(who.circles))


class SpoiledPolynomial(NamePolynomial):
    """A malicious member's: the honest tag and commitments, a point off by one."""

    def share(self, x: bytes) -> bytes:
        return ristretto.scalar_add(super().share(x), (1).to_bytes(32, "little"))


def seal_spoiled(who: Person, circle_id: uuid.UUID, subject: str) -> dict[str, Any]:
    """A member who knows the name files a sealed warning with a wrong point, through the
    real VOPRF round trip and the real filing route (what their own modified client does)."""
    sealed = sealed_of(who)
    circle = who.circles.sync(circle_id)
    settings, moderation = sealed._prepared(circle, fresh=True)
    values = sealed._values(circle, settings, [subject])
    honest = [NamePolynomial.derive(v, settings.k) for v in values]
    polynomials = [SpoiledPolynomial(p.k, p.tag, p.coefficients) for p in honest]
    filing, signature = seal_filing(
        {"v": 1, "subject": subject, "text": "spoiled", "categories": ["harassment"]},
        circle_id=circle_id,
        filing_id=uuid.uuid4(),
        filer=who.name,
        identity=who.circles.identity,
        polynomials=polynomials,
        moderation_public=moderation.public_key,
        generation=moderation.generation,
    )
    result: dict[str, Any] = who.client.request(
        "POST",
        f"/v1/circles/{circle_id}/sealed/filings",
        json={"record": filing.to_bytes().decode(), "signature": b64encode(signature)},
    )
    return result


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
