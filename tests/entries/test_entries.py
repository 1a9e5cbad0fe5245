"""Warnings through the SDK and the real API, on both engines."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from app.client.entries import Entries
from app.client.errors import ApiError, ProtocolError
from app.db import utcnow
from tests.conftest import World


def entries(person: object) -> Entries:
    return Entries(person.circles)  # type: ignore[attr-defined]


def post(world: World, who: object = None, **fields: object) -> str:
    values: dict[str, object] = {
        "subject": "Jan Novák",
        "text": "He cornered me at the wrap party",
        "categories": ["harassment"],
        "aliases": ["@jnovak"],
    }
    values.update(fields)
    if fields.get("anonymous"):
        world.open_anonymous()
    result = entries(who or world.bob).post(world.circle_id, **values)  # type: ignore[arg-type]
    return str(result["entry_id"])


def test_members_read_what_others_post(world: World) -> None:
    entry_id = post(world, severity="serious", happened="2024-05", contact="signal: bob.01")
    read = list(entries(world.carol).pages(world.circle_id))
    assert [(e.entry_id, e.subject, e.author, e.text) for e in read] == [
        (entry_id, "Jan Novák", "bob", "He cornered me at the wrap party")
    ]
    assert read[0].happened == "2024-05" and read[0].severity == "serious"


@pytest.mark.parametrize(
    ("query", "level"),
    [
        ("Jan Novák", "exact"),
        ("JAN NOVAK", "exact"),
        (" jan  novak ", "exact"),
        ("jan-novak", "exact"),
        ("\uff2a\uff21\uff2e \uff2e\uff2f\uff36\uff21\uff2b", "exact"),  # full-width
        ("Novák, Jan", "exact"),
        ("@JNOVAK", "exact"),
        ("jnovak", "exact"),
        ("novak", "partial"),
        ("jan", "partial"),
        ("Novák J.", "partial"),
        ("Jan Novak Jr", "partial"),
        ("Jan Nowak", "possible"),
        ("Ян Новак", "possible"),
    ],
)
def test_a_check_reports_each_match_with_its_level(world: World, query: str, level: str) -> None:
    entry_id = post(world)
    result = entries(world.carol).check(world.circle_id, query)
    assert [(m.warning["entry_id"], m.level) for m in result.matches] == [(entry_id, level)]
    assert result.searched == 1


@pytest.mark.parametrize("query", ["Petr Svoboda", "Novotný", "J. N."])
def test_different_names_do_not_match(world: World, query: str) -> None:
    post(world)
    result = entries(world.carol).check(world.circle_id, query)
    assert result.matches == [] and result.searched == 1


def test_a_check_lists_exact_then_partial_then_possible_matches(world: World) -> None:
    possible = post(world, subject="Jan Nowak", aliases=[])
    exact = post(world, who=world.carol, aliases=[])
    partial = post(world, subject="Novák", aliases=[])
    result = entries(world.alice).check(world.circle_id, "Jan Novak").as_json()
    assert [(m["warning"]["entry_id"], m["level"]) for m in result["matches"]] == [
        (exact, "exact"),
        (partial, "partial"),
        (possible, "possible"),
    ]
    assert result["counts"] == {"exact": 1, "partial": 1, "possible": 1}
    assert result["checked"]["words"] == ["jan", "novak"]
    assert result["searched"]["warnings"] == 3 and result["searched"]["scope"] == "device"
    assert "distinct_members" not in result


def test_one_corroboration_per_member(world: World) -> None:
    entry_id = post(world)
    entries(world.carol).corroborate(world.circle_id, entry_id, text="same here")
    with pytest.raises(ApiError) as caught:
        entries(world.carol).corroborate(world.circle_id, entry_id, text="again")
    assert (caught.value.status, caught.value.code) == (409, "already_corroborated")
    entry, items = entries(world.alice).show(world.circle_id, entry_id)
    assert entry.corroborations == 1
    assert items == [{"text": "same here", "author": "carol", "created_at": items[0]["created_at"]}]


def test_posting_is_idempotent_on_the_entry_id(world: World) -> None:
    circle = world.bob.circles.sync(world.circle_id)
    e = entries(world.bob)
    captured: dict[str, object] = {}
    original = e.client.request

    def spy(method: str, path: str, **kw: object) -> object:
        if method == "POST" and path.endswith("/entries"):
            captured["json"] = kw["json"]
        return original(method, path, **kw)  # type: ignore[arg-type]

    e.client.request = spy  # type: ignore[method-assign]
    first = e.post(world.circle_id, subject="X Y", text="t", categories=["other"])
    again = original("POST", f"/v1/circles/{world.circle_id}/entries", json=captured["json"])
    assert again["seq"] == first["seq"] and again["entry_id"] == first["entry_id"]
    assert circle.epoch == 1
    assert len(list(entries(world.carol).pages(world.circle_id))) == 1


def test_retraction_leaves_a_tombstone_and_only_the_author_may(world: World) -> None:
    entry_id = post(world)
    with pytest.raises(ProtocolError) as caught:
        entries(world.carol).retract(world.circle_id, entry_id)
    assert caught.value.code == "not_author"
    assert entries(world.bob).retract(world.circle_id, entry_id)["status"] == "retracted"
    [tombstone] = list(entries(world.carol).pages(world.circle_id))
    assert tombstone.status == "retracted" and tombstone.text is None
    assert entries(world.carol).check(world.circle_id, "Jan Novák").matches == []


def test_anonymous_entry_retracted_with_its_rederived_key(world: World) -> None:
    entry_id = post(world, anonymous=True)
    assert entries(world.bob).retract(world.circle_id, entry_id)["author"] is None


def test_expiry_wipes_and_records(world: World, engine: Engine, settings: object) -> None:
    from app.entries.purge import purge_all

    entry_id = post(world, expires_in_days=1)
    keep = post(world, subject="Someone Else", aliases=[])
    # The author signed the expiry (§24.2): the clock moves, not the stored time.
    assert purge_all(settings, now=utcnow() + timedelta(hours=23)) == 0  # type: ignore[arg-type]
    assert purge_all(settings, now=utcnow() + timedelta(days=1, hours=1)) == 1  # type: ignore[arg-type]
    statuses = {e.entry_id: e.status for e in entries(world.carol).pages(world.circle_id)}
    assert statuses == {entry_id: "expired", keep: "live"}
    events = world.alice.client.request("GET", f"/v1/circles/{world.circle_id}/events")
    assert any(
        '"entry_expired"' in e["body"] and entry_id.replace("-", "") in e["body"] for e in events
    )


def test_default_expiry_is_the_circle_default(world: World) -> None:
    post(world)
    [entry] = list(entries(world.carol).pages(world.circle_id))
    days = (utcnow() + timedelta(days=730)).date().isoformat()
    assert entry.expires_at.startswith(days[:7])


def test_removed_member_gets_nothing_new_and_cannot_decrypt_it(world: World) -> None:
    old = world.bob.circles.sync(world.circle_id)
    world.alice.circles.remove(world.circle_id, "bob")
    entry_id = post(world, who=world.carol)
    with pytest.raises(ApiError) as caught:
        world.bob.client.request("GET", f"/v1/circles/{world.circle_id}/entries")
    assert caught.value.code == "not_a_member"
    row = world.carol.client.request("GET", f"/v1/circles/{world.circle_id}/entries/{entry_id}")
    from app.client.entries import _envelope
    from app.crypto import DecryptionFailed
    from app.crypto.entries import ENTRY, EnvelopeContext, open_envelope

    context = EnvelopeContext(ENTRY, world.circle_id, row["entry"]["epoch"], uuid.UUID(entry_id))
    assert row["entry"]["epoch"] not in old.keys
    with pytest.raises(DecryptionFailed):
        open_envelope(_envelope(row["entry"]), keys=old.keys, context=context)


def test_bad_categories_and_months_are_refused_locally(world: World) -> None:
    with pytest.raises(ProtocolError) as caught:
        post(world, categories=["gossip"])
    assert caught.value.code == "bad_category"
    with pytest.raises(ProtocolError) as month:
        post(world, happened="2024-13")
    assert month.value.code == "bad_month"
