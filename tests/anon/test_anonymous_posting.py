"""Anonymous warnings and corroborations through the real HTTP path (docs/protocol.md §38):
a token and no session; nothing in the rows names the account; the rules that needed
the author still hold; the admins can unmask, audited, and nobody else can."""

import json
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from app.client.anon import Anonymous
from app.client.entries import Entries
from app.client.errors import ApiError, ProtocolError
from app.client.moderation import Moderation
from app.crypto import b64decode, b64encode
from app.crypto.anon import author_claim, seal_author
from app.crypto.entries import (
    CORROBORATION,
    ENTRY,
    EnvelopeContext,
    author_tag,
    seal,
    sign_terms,
    signing_key_for,
)
from app.crypto.reports import REASONS
from tests.conftest import Person, World

REASON = sorted(REASONS)[0]

BODY = {
    "v": 1,
    "subject": "Jan Novák",
    "aliases": [],
    "categories": ["harassment"],
    "severity": None,
    "affiliation": None,
    "happened": None,
    "contact": None,
    "text": "He cornered me at the wrap party",
    "attribution": "anonymous",
}


def anonymous_entry(world: World, who: Person, token: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """An anonymous post's path and body, sealed by ``who`` with ``token``, as a client would."""
    circle = who.circles.sync(world.circle_id)
    entry_id = uuid.uuid4()
    context = EnvelopeContext(ENTRY, world.circle_id, circle.epoch, entry_id)
    signing = signing_key_for(who.circles.identity, context, anonymous=True)
    envelope = seal(BODY, key=circle.key, context=context, signing_key=signing)
    tag = author_tag(who.circles.identity, circle_id=world.circle_id, entry_id=entry_id)
    expires_at = int(time.time()) + 30 * 86_400
    terms = sign_terms(
        signing, circle_id=world.circle_id, entry_id=entry_id, tag=tag, expires_at=expires_at
    )
    sealed = Anonymous(who.circles).sealed_author(
        circle, object_id=entry_id, author_key=envelope.author_key
    )
    return f"/v1/anon/circles/{world.circle_id}/entries", {
        "entry_id": str(entry_id),
        "epoch": circle.epoch,
        **Entries._envelope_json(envelope),
        "author_tag": b64encode(tag),
        "expires_at": expires_at,
        "terms_signature": b64encode(terms),
        "token": token,
        **sealed,
    }


def anonymous_corroboration(
    world: World, who: Person, entry_id: str, token: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    circle = who.circles.sync(world.circle_id)
    corroboration_id = uuid.uuid4()
    context = EnvelopeContext(
        CORROBORATION, world.circle_id, circle.epoch, uuid.UUID(entry_id), corroboration_id
    )
    signing = signing_key_for(who.circles.identity, context, anonymous=True)
    envelope = seal(
        {"v": 1, "text": "me too"}, key=circle.key, context=context, signing_key=signing
    )
    tag = author_tag(who.circles.identity, circle_id=world.circle_id, entry_id=uuid.UUID(entry_id))
    sealed = Anonymous(who.circles).sealed_author(
        circle, object_id=corroboration_id, author_key=envelope.author_key
    )
    return f"/v1/anon/circles/{world.circle_id}/entries/{entry_id}/corroborations", {
        "corroboration_id": str(corroboration_id),
        "epoch": circle.epoch,
        **Entries._envelope_json(envelope),
        "author_tag": b64encode(tag),
        "token": token,
        **sealed,
    }


def token(world: World, who: Person) -> dict[str, str]:
    return Anonymous(who.circles).take(who.circles.sync(world.circle_id))


def refused(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code


@pytest.fixture
def opened(world: World) -> World:
    world.open_anonymous()
    return world


def test_an_anonymous_post_and_corroboration_need_no_session(
    opened: World, http: TestClient, engine: Engine
) -> None:
    world = opened
    path, body = anonymous_entry(world, world.bob, token(world, world.bob))
    answer = http.post(path, json=body)  # no Authorization header: no session, no account
    assert answer.status_code == 201, answer.text
    entry_id = body["entry_id"]
    path, body = anonymous_corroboration(world, world.carol, entry_id, token(world, world.carol))
    answer = http.post(path, json=body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["author"] is None and answer.json()["anonymous"] is True

    read = {e.entry_id: e for e in Entries(world.alice.circles).pages(world.circle_id)}
    assert read[entry_id].author is None and read[entry_id].corroborations == 1
    assert read[entry_id].text == BODY["text"]

    # Nothing in the rows names an account: no author_id, no username, no user id.
    people = {p.name: p for p in (world.bob, world.carol)}
    with engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT username, id FROM users")).all())
        rows = [
            dict(r._mapping)
            for r in conn.execute(text("SELECT * FROM entries")).all()
            + conn.execute(text("SELECT * FROM corroborations")).all()
            + conn.execute(text("SELECT * FROM anon_spent_tokens")).all()
        ]
    assert rows and all(r.get("author_id") is None for r in rows)
    for name in people:
        marks = {str(ids[name]), str(ids[name]).replace("-", ""), name}
        for row in rows:
            for value in row.values():
                shown = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                assert not any(mark in shown for mark in marks), (name, row)


def test_the_sdk_posts_corroborates_and_retracts_anonymously(opened: World) -> None:
    world = opened
    bob = Entries(world.bob.circles)
    posted = bob.post(
        world.circle_id, subject="Jan Novák", text="x", categories=["harassment"], anonymous=True
    )
    entry_id = str(posted["entry_id"])
    Entries(world.carol.circles).corroborate(
        world.circle_id, entry_id, text="me too", anonymous=True
    )
    with pytest.raises(ProtocolError) as caught:  # refused locally before anything is sent
        bob.corroborate(world.circle_id, entry_id, text="me too", anonymous=True)
    assert caught.value.code == "self_corroboration"
    # Retraction by the per-entry key, without a session.
    assert bob.retract(world.circle_id, entry_id)["status"] == "retracted"


def test_a_spent_token_is_refused(opened: World, http: TestClient) -> None:
    world = opened
    spent = token(world, world.bob)
    path, body = anonymous_entry(world, world.bob, spent)
    assert http.post(path, json=body).status_code == 201
    assert http.post(path, json=body).status_code == 201  # the same request: idempotent
    path, body = anonymous_entry(world, world.bob, spent)
    refused(http.post(path, json=body), 409, "token_spent")


def test_a_removed_members_tokens_die_with_the_epoch(opened: World, http: TestClient) -> None:
    world = opened
    kept = token(world, world.bob)
    path, body = anonymous_entry(world, world.bob, kept)
    world.alice.circles.remove(world.circle_id, "bob")
    refused(http.post(path, json=body), 409, "stale_token")
    with pytest.raises(ApiError) as caught:
        token(world, world.bob)
    assert caught.value.code == "not_a_member"


def test_tokens_of_another_circle_or_a_forged_output_are_refused(
    opened: World, http: TestClient
) -> None:
    world = opened
    other = world.alice.circles.create("Another circle", "warnings")
    Anonymous(world.alice.circles).set_up(other.circle_id)
    foreign = Anonymous(world.alice.circles).take(world.alice.circles.sync(other.circle_id))
    path, body = anonymous_entry(world, world.alice, foreign)
    refused(http.post(path, json=body), 403, "bad_token")
    mine = token(world, world.bob)
    forged = {"input": mine["input"], "output": b64encode(bytes(64))}
    path, body = anonymous_entry(world, world.bob, forged)
    refused(http.post(path, json=body), 403, "bad_token")


def test_self_corroboration_is_refused_by_the_tag(opened: World, http: TestClient) -> None:
    world = opened
    path, body = anonymous_entry(world, world.bob, token(world, world.bob))
    assert http.post(path, json=body).status_code == 201
    entry_id = body["entry_id"]
    path, own = anonymous_corroboration(world, world.bob, entry_id, token(world, world.bob))
    refused(http.post(path, json=own), 403, "self_corroboration")
    path, first = anonymous_corroboration(world, world.carol, entry_id, token(world, world.carol))
    assert http.post(path, json=first).status_code == 201
    path, again = anonymous_corroboration(world, world.carol, entry_id, token(world, world.carol))
    refused(http.post(path, json=again), 409, "already_corroborated")


def test_a_session_cannot_post_anonymously(opened: World) -> None:
    world = opened
    circle = world.bob.circles.sync(world.circle_id)
    _, body = anonymous_entry(world, world.bob, token(world, world.bob))
    for key in ("token", "sealed_author", "author_generation"):
        body.pop(key)
    with pytest.raises(ApiError) as caught:
        world.bob.client.request(
            "POST", f"/v1/circles/{circle.circle_id}/entries", json={**body, "anonymous": True}
        )
    assert caught.value.code == "anonymous_needs_token"


def test_admins_unmask_audited_and_nobody_else(opened: World, http: TestClient) -> None:
    world = opened
    bob = Entries(world.bob.circles)
    entry_id = str(
        bob.post(
            world.circle_id,
            subject="Jan Novák",
            text="x",
            categories=["harassment"],
            anonymous=True,
        )["entry_id"]
    )
    for who in (world.bob, world.dave, world.frank):
        with pytest.raises(ApiError) as caught:
            Anonymous(who.circles).client.request(
                "POST", f"/v1/circles/{world.circle_id}/anon/unmask", json={"entry_id": entry_id}
            )
        assert caught.value.code in ("admin_required", "membership_pending", "circle_not_found")
    unmasked = Anonymous(world.carol.circles).unmask(world.circle_id, entry_id)
    assert (unmasked.user, unmasked.verified) == ("bob", True)
    events = world.alice.client.request("GET", f"/v1/circles/{world.circle_id}/events")
    bodies = [json.loads(e["body"]) for e in events]
    assert {"kind": "author_unmasked", "actor": "carol"}.items() <= bodies[-1].items()


def test_a_sealed_author_naming_someone_else_is_shown_unverified(
    opened: World, http: TestClient
) -> None:
    """bob seals "carol" as the author: without carol's signature the unmask says so."""
    world = opened
    path, body = anonymous_entry(world, world.bob, token(world, world.bob))
    state = Moderation(world.bob.circles).state(world.bob.circles.sync(world.circle_id))
    claim = author_claim(
        world.bob.circles.identity,
        "carol",
        circle_id=world.circle_id,
        object_id=uuid.UUID(body["entry_id"]),
        author_key=bytes(32),
    )
    assert state.current is not None
    body["sealed_author"] = b64encode(
        seal_author(
            claim,
            circle_id=world.circle_id,
            object_id=uuid.UUID(body["entry_id"]),
            generation=state.current.generation,
            moderation_public=state.current.public_key,
        )
    )
    assert http.post(path, json=body).status_code == 201
    unmasked = Anonymous(world.alice.circles).unmask(world.circle_id, body["entry_id"])
    assert (unmasked.user, unmasked.verified) == ("carol", False)


def test_the_author_of_an_anonymous_warning_sees_its_cases(opened: World, http: TestClient) -> None:
    """The server does not know the author any more: the per-entry key proves it (§38.5)."""
    world = opened
    posted = Entries(world.bob.circles).post(
        world.circle_id, subject="Jan Novák", text="x", categories=["harassment"], anonymous=True
    )
    entry_id = str(posted["entry_id"])
    Moderation(world.carol.circles).report(world.circle_id, entry_id, reason=REASON, note="n")
    cases = Moderation(world.bob.circles).entry_cases(world.circle_id, entry_id)
    assert cases is not None and [c["kind"] for c in cases] == ["report"]
    # Another member cannot sign for the per-entry key; a stale time is refused.
    path = f"/v1/anon/circles/{world.circle_id}/entries/{entry_id}/moderation"
    answer = http.post(path, json={"at": int(time.time()), "signature": b64encode(bytes(64))})
    refused(answer, 404, "entry_not_found")
    refused(
        http.post(path, json={"at": 1, "signature": b64encode(bytes(64))}), 422, "invalid_request"
    )


def test_a_sealed_author_the_signed_record_does_not_list_is_unverified(
    opened: World, http: TestClient
) -> None:
    """A claim naming erin (removed) and signed with her real keys, which the server serves:
    the server holds the moderation public key and could seal such a claim with keys it made
    for a former member, so only a member the signed record lists can be shown verified."""
    world = opened
    path, body = anonymous_entry(world, world.bob, token(world, world.bob))
    state = Moderation(world.bob.circles).state(world.bob.circles.sync(world.circle_id))
    entry_id = uuid.UUID(body["entry_id"])
    claim = author_claim(
        world.erin.circles.identity,
        "erin",
        circle_id=world.circle_id,
        object_id=entry_id,
        author_key=b64decode(body["author_key"]),
    )
    assert state.current is not None
    body["sealed_author"] = b64encode(
        seal_author(
            claim,
            circle_id=world.circle_id,
            object_id=entry_id,
            generation=state.current.generation,
            moderation_public=state.current.public_key,
        )
    )
    assert http.post(path, json=body).status_code == 201
    unmasked = Anonymous(world.alice.circles).unmask(world.circle_id, body["entry_id"])
    assert (unmasked.user, unmasked.verified) == ("erin", False)
