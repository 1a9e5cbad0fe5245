"""No self-corroboration (§24.1) and signed expiry (§24.2), through the real API, both engines.

Requests are built here with the protocol's own functions, as a modified client would
send them, so the server's refusals are tested without the SDK's own checks in front.
"""

import secrets
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.client.entries import Entries
from app.client.errors import ApiError, ProtocolError
from app.crypto import b64encode
from app.crypto.entries import (
    CORROBORATION,
    ENTRY,
    EnvelopeContext,
    author_tag,
    seal,
    sign_terms,
    signing_key_for,
)
from app.db import utcnow
from app.entries.models import Corroboration, Entry
from tests.conftest import Person, World

DAY = 86_400
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
}


def _envelope(env: Any) -> dict[str, str]:
    return {
        "author_key": b64encode(env.author_key),
        "commitment": b64encode(env.commitment),
        "nonce": b64encode(env.nonce),
        "ciphertext": b64encode(env.ciphertext),
        "signature": b64encode(env.signature),
    }


def entry_request(
    who: Person,
    cid: uuid.UUID,
    *,
    anonymous: bool = False,
    expires_at: int | None = None,
    signed_expiry: int | None = None,
    tag: bytes | None = None,
    signed_tag: bytes | None = None,
) -> dict[str, Any]:
    circle = who.circles.sync(cid)
    entry_id = uuid.uuid4()
    context = EnvelopeContext(ENTRY, cid, circle.epoch, entry_id)
    signing = signing_key_for(who.circles.identity, context, anonymous=anonymous)
    body = {**BODY, "attribution": "anonymous" if anonymous else "named"}
    env = seal(body, key=circle.key, context=context, signing_key=signing)
    real_tag = author_tag(who.circles.identity, circle_id=cid, entry_id=entry_id)
    expires = int(time.time()) + 30 * DAY if expires_at is None else expires_at
    terms = sign_terms(
        signing,
        circle_id=cid,
        entry_id=entry_id,
        tag=signed_tag or tag or real_tag,
        expires_at=expires if signed_expiry is None else signed_expiry,
    )
    return {
        "entry_id": str(entry_id),
        "epoch": circle.epoch,
        "anonymous": anonymous,
        **_envelope(env),
        "author_tag": b64encode(tag or real_tag),
        "expires_at": expires,
        "terms_signature": b64encode(terms),
    }


def corroboration_request(
    who: Person, cid: uuid.UUID, entry_id: str, *, anonymous: bool, tag: bytes | None = None
) -> dict[str, Any]:
    circle = who.circles.sync(cid)
    corroboration_id = uuid.uuid4()
    context = EnvelopeContext(
        CORROBORATION, cid, circle.epoch, uuid.UUID(entry_id), corroboration_id
    )
    signing = signing_key_for(who.circles.identity, context, anonymous=anonymous)
    env = seal({"v": 1, "text": "me too"}, key=circle.key, context=context, signing_key=signing)
    own = author_tag(who.circles.identity, circle_id=cid, entry_id=uuid.UUID(entry_id))
    return {
        "corroboration_id": str(corroboration_id),
        "epoch": circle.epoch,
        "anonymous": anonymous,
        **_envelope(env),
        "author_tag": b64encode(tag if tag is not None else own),
    }


def send(who: Person, path: str, body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = who.client.request("POST", path, json=body)
    return result


def refused(who: Person, path: str, body: dict[str, Any]) -> tuple[int, str]:
    with pytest.raises(ApiError) as caught:
        send(who, path, body)
    return caught.value.status, caught.value.code


def test_authors_cannot_corroborate_their_own_warnings(world: World, engine: Engine) -> None:
    """With a session: named warnings and corroborations (anonymous ones go without a
    session, tests/anon/test_anonymous_posting.py)."""
    cid = world.circle_id
    base = f"/v1/circles/{cid}/entries"
    posted = send(world.bob, base, entry_request(world.bob, cid, anonymous=False))
    path = f"{base}/{posted['entry_id']}/corroborations"
    body = corroboration_request(world.bob, cid, posted["entry_id"], anonymous=False)
    assert refused(world.bob, path, body) == (403, "self_corroboration")
    # A made-up tag is refused too: the server knows a named warning's account.
    body = corroboration_request(
        world.bob, cid, posted["entry_id"], anonymous=False, tag=secrets.token_bytes(32)
    )
    assert refused(world.bob, path, body) == (403, "self_corroboration")
    # The SDK refuses before sending; another member may corroborate.
    with pytest.raises(ProtocolError) as caught:
        Entries(world.bob.circles).corroborate(cid, posted["entry_id"], text="me")
    assert caught.value.code == "self_corroboration"
    other = Entries(world.carol.circles).corroborate(cid, posted["entry_id"], text="me too")
    assert other["entry_id"] == posted["entry_id"]
    with Session(engine) as session:
        rows = session.execute(select(Corroboration.author_tag, Entry.author_tag).join(Entry)).all()
    assert len(rows) == 1 and all(c is not None and c != e for c, e in rows)


def test_the_tag_alone_refuses_without_the_account_link(world: World, engine: Engine) -> None:
    """An anonymous warning has no account at the server (§38): the tag alone refuses its
    author's honest client, even on the named route with a session."""
    cid = world.circle_id
    world.open_anonymous()
    posted = Entries(world.bob.circles).post(
        cid, subject="Jan Novák", text="x", categories=["harassment"], anonymous=True
    )
    with Session(engine) as session:
        stored = session.get(Entry, uuid.UUID(str(posted["entry_id"])))
        assert stored is not None and stored.author_id is None
    path = f"/v1/circles/{cid}/entries/{posted['entry_id']}/corroborations"
    body = corroboration_request(world.bob, cid, str(posted["entry_id"]), anonymous=False)
    assert refused(world.bob, path, body) == (403, "self_corroboration")


def test_tags_are_required_and_sized(world: World) -> None:
    cid = world.circle_id
    base = f"/v1/circles/{cid}/entries"
    request = entry_request(world.bob, cid)
    for field in ("author_tag", "expires_at", "terms_signature"):
        assert refused(world.bob, base, {k: v for k, v in request.items() if k != field}) == (
            422,
            "invalid_request",
        )
    assert refused(world.bob, base, {**request, "author_tag": b64encode(b"x" * 31)}) == (
        422,
        "invalid_request",
    )
    assert refused(world.bob, base, {**request, "expires_in_days": 7}) == (422, "invalid_request")
    posted = send(world.alice, base, entry_request(world.alice, cid))
    path = f"{base}/{posted['entry_id']}/corroborations"
    body = corroboration_request(world.bob, cid, posted["entry_id"], anonymous=False)
    del body["author_tag"]
    assert refused(world.bob, path, body) == (422, "invalid_request")


def test_the_expiry_is_the_one_the_author_signed(world: World, settings: object) -> None:
    from app.entries.purge import purge_all

    cid = world.circle_id
    base = f"/v1/circles/{cid}/entries"
    now = int(time.time())
    for expires in (now + 3600, now - 10, now + 3651 * DAY + 7200):
        body = entry_request(world.bob, cid, expires_at=expires)
        assert refused(world.bob, base, body) == (422, "bad_expiry")
    mismatched = entry_request(world.bob, cid, expires_at=now + 9 * DAY, signed_expiry=now + DAY)
    assert refused(world.bob, base, mismatched) == (422, "bad_terms_signature")
    other_tag = entry_request(world.bob, cid, signed_tag=secrets.token_bytes(32))
    assert refused(world.bob, base, other_tag) == (422, "bad_terms_signature")
    for body in (mismatched, other_tag):  # nothing was stored
        with pytest.raises(ApiError) as caught:
            world.bob.client.request("GET", f"{base}/{body['entry_id']}")
        assert caught.value.code == "entry_not_found"

    expires = now + 2 * DAY
    posted = send(world.bob, base, entry_request(world.bob, cid, expires_at=expires))
    [row] = world.carol.client.request("GET", base)["entries"]
    assert row["entry_id"] == posted["entry_id"] and row["terms_signature"] is not None
    assert posted["expires_at"] == row["expires_at"]
    assert Entries(world.bob.circles).open(world.carol.circles.sync(cid), row).status == "live"
    # Wiped once the clock passes the signed time, never before.
    assert purge_all(settings, now=utcnow() + timedelta(days=1)) == 0  # type: ignore[arg-type]
    assert purge_all(settings, now=utcnow() + timedelta(days=2, hours=1)) == 1  # type: ignore[arg-type]
