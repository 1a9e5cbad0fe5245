"""Author tags, signed expiry and signed retractions (docs/protocol.md §24) under attack.

A member looking for links between warnings, and a server that expires early, strips or
moves the signed terms, or writes retractions nobody signed into a consistent log.

  the tags of two warnings link nothing (a member with every public key) ...... no link
  an expiry moved earlier in the feed ....................................... bad_terms
  the signed terms stripped from a warning that had them .................... bad_terms
  a warning expired before the time its author signed (consistent log) ..... early_expiry
  a retraction record the author never signed (consistent log) .............. bad_signature
  a named retraction signed by another member's key (consistent log) ........ bad_signature
"""

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.circles import events
from app.client.audit import Audit, AuditFailure, AuditPins
from app.client.entries import Entries
from app.crypto import b64decode, b64encode, labels
from app.crypto.entries import ENTRY, EnvelopeContext, sign_retraction, signing_key_for
from app.db import coarse, utcnow
from app.entries.service import purge_expired
from tests.conftest import World
from tests.malicious.conftest import MaliciousServer, on


def _post(world: World, who: str = "bob", **fields: Any) -> str:
    person = getattr(world, who)
    values: dict[str, Any] = {
        "subject": "Jan Novák",
        "text": "Grabbed my arm",
        "categories": ["harassment"],
    }
    if fields.get("anonymous"):
        world.open_anonymous()
    posted = Entries(person.circles).post(world.circle_id, **(values | fields))
    return str(posted["entry_id"])


def _feed(world: World) -> str:
    return f"/v1/circles/{world.circle_id}/entries"


def test_the_tags_of_two_warnings_link_nothing(world: World) -> None:
    """alice holds every member's public keys and every row; bob's two anonymous warnings
    and carol's one carry tags that no public value reproduces and that share nothing."""
    bob = [_post(world, anonymous=True), _post(world, anonymous=True)]
    carol = _post(world, "carol", anonymous=True)
    rows = {r["entry_id"]: r for r in world.alice.client.request("GET", _feed(world))["entries"]}
    tags = {entry_id: b64decode(rows[entry_id]["author_tag"]) for entry_id in [*bob, carol]}
    assert len(set(tags.values())) == 3
    public = [m.identity.ed25519_public for m in world.alice.circles.members(world.circle_id)] + [
        m.identity.x25519_public for m in world.alice.circles.members(world.circle_id)
    ]
    for entry_id, tag in tags.items():
        message = world.circle_id.bytes + uuid.UUID(entry_id).bytes
        for key in public:  # every keyed derivation a member could compute
            guess = hashlib.blake2b(
                message, digest_size=32, key=key, person=labels.PERSON_AUTHOR_TAG
            ).digest()
            assert guess != tag
        assert tag != b64decode(rows[entry_id]["author_key"])
    # bob's two tags relate no closer than bob's and carol's: bytewise agreement at chance.
    same = sum(a == b for a, b in zip(tags[bob[0]], tags[bob[1]], strict=True))
    assert same <= 6  # 32 bytes agreeing by chance: mean 1/8, p(>6) below 1e-6
    # Corroborations' tags never reach members (only the server compares them).
    Entries(world.carol.circles).corroborate(world.circle_id, bob[0], text="me too")
    detail = world.alice.client.request("GET", f"{_feed(world)}/{bob[0]}")
    assert all("author_tag" not in c for c in detail["corroborations"])


def test_an_expiry_moved_earlier_in_the_feed(world: World, server: MaliciousServer) -> None:
    entry_id = _post(world)

    def earlier(page: dict[str, Any], _: httpx.Request) -> None:
        for row in page["entries"]:
            if row["entry_id"] == entry_id:
                row["expires_at"] = (
                    utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z")
                )

    with server.attack(on("GET", _feed(world), earlier), "bad_terms"):
        list(Entries(world.carol.circles).pages(world.circle_id))


def test_the_signed_terms_stripped(world: World, server: MaliciousServer) -> None:
    entry_id = _post(world)

    def strip(page: dict[str, Any], _: httpx.Request) -> None:
        for row in page["entries"]:
            if row["entry_id"] == entry_id:
                row["terms_signature"] = None

    with server.attack(on("GET", _feed(world), strip), "bad_terms"):
        list(Entries(world.carol.circles).pages(world.circle_id))


def _verify(world: World) -> dict[str, Any]:
    return Audit(world.bob.circles, AuditPins.in_memory()).verify(world.circle_id)


def test_honest_retractions_and_expiries_verify(
    world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.open_anonymous()  # its moderation key record is signed too: count from after it
    before = _verify(world)["signatures_checked"]
    retracted = _post(world, anonymous=True)
    Entries(world.bob.circles).retract(world.circle_id, retracted)
    named = _post(world)
    Entries(world.bob.circles).retract(world.circle_id, named)
    _post(world, expires_in_days=1)
    later = utcnow() + timedelta(days=1, hours=12)
    monkeypatch.setattr(events, "utcnow", lambda: later)  # the clock a day and a half on
    with Session(engine) as session:
        assert purge_expired(session, now=later) == 1
        session.commit()
    monkeypatch.undo()
    # Two signed retractions (one anonymous, one named) and one expiry on its signed terms.
    assert _verify(world)["signatures_checked"] == before + 3


def test_a_warning_expired_before_its_signed_time(world: World, engine: Engine) -> None:
    _post(world, expires_in_days=1)
    with Session(engine) as session:  # the server wipes it a day early, and logs it
        assert purge_expired(session, now=utcnow() + timedelta(days=2)) == 1
        session.commit()
    with pytest.raises(AuditFailure) as caught:
        _verify(world)
    assert caught.value.code == "early_expiry"


def test_an_expiry_just_after_its_signed_time_keeps_its_exact_time_and_verifies(
    world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one record not floored to the hour (app/circles/events.py): a named warning's
    signed expiry is any second, and the hour it falls in starts before it."""
    entry_id = _post(world, expires_in_days=1)
    row = world.bob.client.request("GET", f"{_feed(world)}/{entry_id}")["entry"]
    expires_at = datetime.fromisoformat(row["expires_at"].replace("Z", "+00:00"))
    if expires_at == coarse(expires_at):
        expires_at += timedelta(seconds=1)  # the post landed on the hour: expire a second later
    just_after = expires_at + timedelta(seconds=1)
    assert coarse(just_after) < expires_at  # a floored time would read as an early expiry
    monkeypatch.setattr(events, "utcnow", lambda: just_after)
    with Session(engine) as session:
        assert purge_expired(session, now=just_after) == 1
        session.commit()
    monkeypatch.undo()
    _verify(world)
    records = world.bob.client.request("GET", f"/v1/circles/{world.circle_id}/audit/records")
    [expired] = [json.loads(r["body"]) for r in records if '"entry_expired"' in r["body"]]
    assert expired["at"] == just_after.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    others = [json.loads(r["body"])["at"] for r in records if '"entry_expired"' not in r["body"]]
    assert others and all(at.endswith(":00:00.000000Z") for at in others), others


def _append(engine: Engine, world: World, actor: str, details: dict[str, Any]) -> None:
    """The server writes a record into its own log: chained and hashed, so consistent."""
    with Session(engine) as session:
        events.append(
            session,
            circle_id=world.circle_id,
            kind="entry_retracted",
            actor=actor,
            details=details,
        )
        session.commit()


def test_a_retraction_the_author_never_signed(world: World, engine: Engine) -> None:
    entry_id = _post(world, anonymous=True)
    row = world.bob.client.request("GET", f"{_feed(world)}/{entry_id}")["entry"]
    _append(
        engine,
        world,
        "",
        {
            "entry_id": uuid.UUID(entry_id).hex,
            "author_key": row["author_key"],
            "signature": b64encode(bytes(64)),
        },
    )
    with pytest.raises(AuditFailure) as caught:
        _verify(world)
    assert caught.value.code == "bad_signature"


def test_a_named_retraction_signed_by_another_members_key(world: World, engine: Engine) -> None:
    """carol signs a retraction of an entry id with her own key; the log says bob did it."""
    entry_id = uuid.UUID(_post(world))
    context = EnvelopeContext(ENTRY, world.circle_id, 0, entry_id)
    carol = signing_key_for(world.carol.circles.identity, context, anonymous=False)
    signature = sign_retraction(carol, circle_id=world.circle_id, entry_id=entry_id)
    _append(
        engine,
        world,
        "bob",
        {
            "entry_id": entry_id.hex,
            "author_key": b64encode(bytes(carol.verify_key)),
            "signature": b64encode(signature),
        },
    )
    with pytest.raises(AuditFailure) as caught:
        _verify(world)
    assert caught.value.code == "bad_signature"
