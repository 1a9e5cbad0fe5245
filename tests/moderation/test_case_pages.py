"""`GET …/moderation/cases` a page at a time (docs/api.md, docs/protocol.md §32.8): a stable
newest-first order, a bounded limit, a cursor that is only a position, and the same
refusals as ever. Through the real app on both engines."""

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from app.client.cases import cases_page, list_cases
from app.client.moderation import Moderation
from app.moderation.models import Case
from tests.conftest import Person
from tests.moderation.conftest import Desk, error_of

PATH = "/v1/circles/{cid}/moderation/cases"


@pytest.fixture
def gina(desk: Desk) -> Person:
    return desk.add_member("gina")


def _cases(desk: Desk, count: int, reporter: Person) -> list[uuid.UUID]:
    """``count`` reports, oldest first, each about its own entry."""
    return [desk.report(reporter, desk.post_entry(subject=f"Person {n}")) for n in range(count)]


def _walk(desk: Desk, admin: Person, **params: object) -> list[list[str]]:
    """Every page's case ids, following next_cursor to the end."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        query = dict(params) | ({} if cursor is None else {"cursor": cursor})
        page = desk.ok(admin, "GET", PATH.format(cid=desk.cid), params=query)
        assert set(page) == {"cases", "next_cursor"}
        pages.append([c["case_id"] for c in page["cases"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


def test_pages_hold_every_case_once_newest_first(desk: Desk, gina: Person, engine: Engine) -> None:
    made = _cases(desk, 7, gina)
    # Three cases filed in the same microsecond: the case id breaks the tie, the same way
    # on every page.
    same = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    with Session(engine) as session, session.begin():
        session.execute(update(Case).where(Case.id.in_(made[2:5])).values(created_at=same))
    whole = _walk(desk, desk.world.carol, limit=200)
    assert len(whole) == 1 and sorted(whole[0]) == sorted(str(c) for c in made)
    pages = _walk(desk, desk.world.carol, limit=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [c for p in pages for c in p] == whole[0]
    assert _walk(desk, desk.world.alice, limit=2) == [whole[0][i : i + 2] for i in (0, 2, 4, 6)]
    # The default page is 50; the SDK opens and verifies each case of a page.
    moderation = Moderation(desk.world.carol.circles)
    first = cases_page(moderation, desk.cid, limit=4)
    assert [c["case_id"] for c in first.cases] == whole[0][:4]
    assert all(c["reason"] == "harassment" for c in first.cases)
    rest = cases_page(moderation, desk.cid, limit=4, cursor=first.next_cursor)
    assert [c["case_id"] for c in rest.cases] == whole[0][4:] and rest.next_cursor is None
    assert [c["case_id"] for c in list_cases(moderation, desk.cid)] == whole[0]


def test_a_case_filed_while_paging_is_neither_repeated_nor_skipped(
    desk: Desk, gina: Person
) -> None:
    older = [str(c) for c in reversed(_cases(desk, 5, gina))]  # newest first
    path = PATH.format(cid=desk.cid)
    first = desk.ok(desk.world.carol, "GET", path, params={"limit": 2})
    assert [c["case_id"] for c in first["cases"]] == older[:2]
    filed = str(desk.report(gina, desk.post_entry(subject="Filed meanwhile")))
    seen = [c["case_id"] for c in first["cases"]]
    cursor = first["next_cursor"]
    while cursor is not None:
        page = desk.ok(desk.world.carol, "GET", path, params={"limit": 2, "cursor": cursor})
        seen += [c["case_id"] for c in page["cases"]]
        cursor = page["next_cursor"]
    assert seen == older  # the walk that started before it ends as it began
    fresh = desk.ok(desk.world.carol, "GET", path, params={"limit": 2})
    assert [c["case_id"] for c in fresh["cases"]] == [filed, older[0]]


def test_a_status_filter_pages_too(desk: Desk, gina: Person) -> None:
    made = [str(c) for c in _cases(desk, 5, gina)]
    for case_id in made[1::2]:
        desk.decide(uuid.UUID(case_id), "dismiss", entry_id=None)
    open_ids = [c for c in reversed(made) if c not in made[1::2]]
    assert _walk(desk, desk.world.carol, status="open", limit=2) == [open_ids[:2], open_ids[2:]]
    dismissed = list(reversed(made[1::2]))
    assert _walk(desk, desk.world.carol, status="dismissed", limit=1) == [[c] for c in dismissed]
    assert _walk(desk, desk.world.carol, status="decided", limit=5) == [dismissed]
    assert _walk(desk, desk.world.carol, kind="takedown") == [[]]


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_limits_and_bad_cursors_are_refused_with_stable_codes(
    desk: Desk, gina: Person, engine: Engine
) -> None:
    _cases(desk, 3, gina)
    path = PATH.format(cid=desk.cid)
    carol = desk.world.carol
    for limit in (0, -1, 201, "ten"):
        response = desk.call(carol, "GET", path, params={"limit": limit})
        assert error_of(response) == (422, "invalid_request"), limit
    assert len(desk.ok(carol, "GET", path, params={"limit": 200})["cases"]) == 3
    good = desk.ok(carol, "GET", path, params={"limit": 1})["next_cursor"]
    assert isinstance(good, str) and len(good) == 32
    bad = [
        "",
        "x",
        good[:-1],
        good + "A",
        good[:-1] + "=",
        "!" * 32,
        good.replace(good[0], "+", 1),
        _cursor(b"\x7f" * 8 + bytes(16)),  # a time no datetime holds
        _cursor(b"\x80" + bytes(7) + bytes(16)),
        "A" * 1000,
    ]
    before = desk.counts(engine)
    for cursor in bad:
        response = desk.call(carol, "GET", path, params={"cursor": cursor})
        assert error_of(response) == (422, "invalid_cursor"), cursor
    assert desk.counts(engine) == before
    # Any well-formed position is only a place to start in this circle.
    assert desk.ok(carol, "GET", path, params={"cursor": _cursor(bytes(24))})["cases"] == []
    far = datetime(9999, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    everything = _cursor((far // timedelta(microseconds=1)).to_bytes(8, "big") + bytes(16))
    assert len(desk.ok(carol, "GET", path, params={"cursor": everything})["cases"]) == 3


def test_a_cursor_from_another_circle_reads_only_the_circle_in_the_path(
    desk: Desk, gina: Person
) -> None:
    world = desk.world
    mine = [str(c) for c in _cases(desk, 3, gina)]
    theirs = world.frank.circles.create("Frank's circle").circle_id
    other = Desk(world, desk.http, desk.person)
    other.cid = theirs
    other.create_key(world.frank)
    here = desk.ok(world.carol, "GET", PATH.format(cid=desk.cid), params={"limit": 1})
    there = PATH.format(cid=theirs)
    page = desk.ok(world.frank, "GET", there, params={"cursor": here["next_cursor"]})
    assert page == {"cases": [], "next_cursor": None}
    refused = desk.call(world.frank, "GET", PATH.format(cid=desk.cid), params=here)
    assert refused.status_code == 404 and not set(mine) & set(refused.text.split('"'))


def test_only_the_circles_admins_list_its_cases(desk: Desk, gina: Person) -> None:
    world = desk.world
    [case_id] = _cases(desk, 1, gina)
    path = PATH.format(cid=desk.cid)
    cursor = desk.ok(world.alice, "GET", path)["cases"][0]["case_id"] and None
    for person, expected in (
        (world.frank, (404, "circle_not_found")),  # an outsider
        (world.erin, (403, "not_a_member")),  # a removed member
        (world.dave, (403, "membership_pending")),  # invited, not yet confirmed
        (world.bob, (403, "admin_required")),  # a plain member
        (gina, (403, "admin_required")),  # the reporter
        (None, (401, "not_authenticated")),
    ):
        for params in ({}, {"limit": 1}, {"status": "open"}, {"cursor": "A" * 32}):
            response = desk.call(person, "GET", path, params=params)
            assert error_of(response) == expected, (person and person.name, params)
            assert str(case_id) not in response.text
    for admin in (world.alice, world.carol):
        page = desk.ok(admin, "GET", path, params={"cursor": cursor} if cursor else None)
        assert [c["case_id"] for c in page["cases"]] == [str(case_id)]


def test_a_page_reads_its_shared_things_once(desk: Desk, gina: Person) -> None:
    """A page of takedowns and reports syncs the warnings once for every takedown's
    candidates and carries each report's entry, so no case costs a request of its own."""
    entry = desk.post_entry(subject="Jan Novák")
    reports = [desk.report(p, entry) for p in (gina, desk.world.alice)]
    other = desk.report(gina, desk.post_entry(subject="Anna Lee"))
    for name in ("Jan Novák", "JAN NOVAK", "Novák", "Nobody Here"):
        desk.takedown(name=name)
    moderation = Moderation(desk.world.carol.circles)
    seen: list[str] = []
    original = moderation.client.request

    def request(method: str, path: str, **kw: Any) -> Any:
        seen.append(f"{method} {path} {sorted(kw.get('params') or {})}")
        return original(method, path, **kw)

    moderation.client.request = request  # type: ignore[method-assign]
    page = cases_page(moderation, desk.cid)
    assert len(page.cases) == 7 and not any("unreadable" in c for c in page.cases)
    assert sum("changed_after" in s for s in seen) == 1  # one sync for four takedowns
    assert not any(f"/v1/circles/{desk.cid}/entries/" in s for s in seen)  # the page has them
    takedowns = {c["name"]: c["candidates"] for c in page.cases if c["kind"] == "takedown"}
    assert [x["entry_id"] for x in takedowns["JAN NOVAK"]] == [str(entry)]
    assert [x["level"] for x in takedowns["Novák"]] == ["partial"]
    assert takedowns["Nobody Here"] == []
    for case_id in [*reports, other]:
        case = next(c for c in page.cases if c["case_id"] == str(case_id))
        assert case["reporter_verified"] and case["reported_content"]["verified"]
    assert {c["reported_content"]["subject"] for c in page.cases if c["kind"] == "report"} == {
        "Jan Novák",
        "Anna Lee",
    }


def test_a_page_whose_server_swaps_the_reported_entries_is_caught(desk: Desk, gina: Person) -> None:
    """The entry a page carries is the server's word: another entry in its place (even one
    the same reporter could have reported) leaves the case unreadable, never matched."""
    first = desk.report(gina, desk.post_entry(subject="Jan Novák"))
    second = desk.report(gina, desk.post_entry(subject="Anna Lee"))
    moderation = Moderation(desk.world.carol.circles)
    original = moderation.client.request

    def swapping(method: str, path: str, **kw: Any) -> Any:
        answer = original(method, path, **kw)
        if path.endswith("/moderation/cases") and method == "GET":
            rows = answer["cases"]
            rows[0]["entry"], rows[1]["entry"] = rows[1]["entry"], rows[0]["entry"]
        return answer

    moderation.client.request = swapping  # type: ignore[method-assign]
    cases = {c["case_id"]: c for c in cases_page(moderation, desk.cid).cases}
    for case_id in (first, second):
        assert cases[str(case_id)]["unreadable"].startswith("reveal_mismatch"), cases[str(case_id)]


def test_a_page_carries_each_reports_entry_as_an_admin_sees_it(desk: Desk, gina: Person) -> None:
    hidden = desk.post_entry(subject="Jan Novák")
    case = desk.report(gina, hidden)
    desk.decide(case, "hide")
    live = desk.post_entry(subject="Anna Lee")
    desk.report(gina, live)
    desk.takedown()
    rows = desk.ok(desk.world.carol, "GET", PATH.format(cid=desk.cid))["cases"]
    by_kind = {(r["kind"], r["entry_id"]): r for r in rows}
    assert by_kind[("takedown", None)]["entry"] is None
    for entry_id in (hidden, live):
        row = by_kind[("report", str(entry_id))]
        detail = desk.ok(desk.world.carol, "GET", f"/v1/circles/{desk.cid}/entries/{entry_id}")
        assert row["entry"] == detail["entry"]  # the hidden one with its envelope, for review
    assert by_kind[("report", str(hidden))]["entry"]["ciphertext"] is not None
    one = desk.ok(desk.world.carol, "GET", f"{PATH.format(cid=desk.cid)}/{case}")
    assert one["entry"] is None  # a single case is fetched with its entry on its own
