"""A malicious member tries to learn whether two warnings share an author (issue 13, item 1).

The former ``POST …/check`` answered ``distinct_members`` over the warnings matching the
tokens a client chose; asking for two warnings' tokens together and for each alone told
whether they had one author, anonymous or not. It is gone. These tests play the attacker
against everything that is left: two circles identical in every way except that in one
the same member wrote both anonymous warnings and in the other two members did. The
attacker — a plain member and an admin — calls every GET route a member may call, with
every id and cursor, in both circles; for every pair of warnings, what they see must be
the same up to fresh random values (ids, keys, nonces, signatures, times). Whatever an
answer counts or lists, alone or combined (the set differences the old attack took),
it cannot then tell the two circles apart.
"""

import hashlib
import json
import re
import uuid
from itertools import combinations
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.testclient import TestClient

from app.client.entries import Entries
from app.crypto import b64encode, labels
from app.crypto.circles import CircleKey, subkey
from app.crypto.names import normalise_name
from tests.conftest import Person

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HEX = re.compile(r"^[0-9a-f]{32,}$")
_B64 = re.compile(r"^[A-Za-z0-9+/]{16,}={0,2}$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT")


class Placeholders:
    """Replaces every fresh random value by the order it first appeared in, so two worlds
    built the same way compare equal unless their structure (or a count) differs."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        if isinstance(value, str):
            if value.startswith("{"):
                try:
                    return self(json.loads(value))
                except ValueError:
                    pass
            if _TIME.match(value):
                return "<time>"
            if _UUID.match(value) or _HEX.match(value) or _B64.match(value):
                dashless = value.replace("-", "")
                return self.seen.setdefault(dashless, f"<value {len(self.seen)}>")
        return value


def _get_routes(app: FastAPI) -> list[str]:
    return sorted(
        str(route.path)
        for route in iter_route_contexts(app.routes)
        if "GET" in (route.methods or ()) and str(route.path).startswith("/v1/")
    )


def _build(
    alice: Person, bob: Person, carol: Person, dave: Person, *, same_author: bool
) -> tuple[uuid.UUID, list[str]]:
    """alice owns a circle with bob, carol (admin) and dave; four warnings: one named by
    bob, two anonymous (both by alice, or one by alice and one by bob), one anonymous by
    carol; corroborations, named and anonymous; one retraction."""
    circle = alice.circles.create("Same circle", "every detail the same")
    cid = circle.circle_id
    for joiner, role in ((bob, "member"), (carol, "admin"), (dave, "member")):
        invite, _ = alice.circles.create_invite(cid, role=role)
        joiner.circles.join(str(invite))
        alice.circles.confirm(cid, joiner.name, fingerprint=joiner.fingerprint)
    second = alice if same_author else bob
    fields = {"text": "what happened", "categories": ["harassment"]}
    ids = [
        Entries(bob.circles).post(cid, subject="Named Warning", **fields)["entry_id"],
        Entries(alice.circles).post(cid, subject="First Anonymous", anonymous=True, **fields)[
            "entry_id"
        ],
        Entries(second.circles).post(cid, subject="Second Anonymous", anonymous=True, **fields)[
            "entry_id"
        ],
        Entries(carol.circles).post(cid, subject="Third Anonymous", anonymous=True, **fields)[
            "entry_id"
        ],
    ]
    Entries(dave.circles).corroborate(cid, ids[1], text="me too")
    Entries(dave.circles).corroborate(cid, ids[2], text="me too", anonymous=True)
    Entries(carol.circles).corroborate(cid, ids[2], text="and me", anonymous=True)
    Entries(carol.circles).retract(cid, ids[3])
    return cid, ids


def _view(
    http: TestClient, app: FastAPI, attacker: Person, cid: uuid.UUID, ids: list[str]
) -> list[Any]:
    """Every answer a member can get about this circle, in a fixed order."""
    headers = {"Authorization": f"Bearer {attacker.client.token}"}
    last = len(ids) + 10
    calls: list[tuple[str, dict[str, Any]]] = []  # (template with {entry_id} filled, query)
    for template in _get_routes(app):
        if "{entry_id}" in template:
            calls += [(template.replace("{entry_id}", f"<{i}>"), {}) for i in range(len(ids))]
        elif template.startswith("/v1/circles/{circle_id}") and template.count("{") == 1:
            calls.append((template, {}))
    cursors = [{"before": n} for n in range(last)] + [{"after": n} for n in range(last)]
    cursors += [{"changed_after": n} for n in range(last)] + [{"limit": n} for n in (1, 2, 3)]
    calls += [("/v1/circles/{circle_id}/entries", c) for c in cursors]
    calls += [("/v1/circles/{circle_id}/audit/records", {"after": n}) for n in range(last)]
    view = []
    for label, params in calls:
        path = label.replace("{circle_id}", str(cid))
        for i, entry_id in enumerate(ids):
            path = path.replace(f"<{i}>", entry_id)
        response = http.get(path, headers=headers, params=params)
        body = response.json() if response.content else None
        view.append((label, params, response.status_code, body))
    # The former attack: the warnings' name tokens as the old index made them (the member
    # holds the epoch keys and reads the subjects), for both warnings, then each alone.
    keys = attacker.circles.sync(cid).keys.values()
    subjects = [w.subject or "" for w in Entries(attacker.circles).pages(cid)]
    for first, second in combinations(range(len(ids)), 2):
        for chosen in ([first, second], [first], [second]):
            tokens = [old_token(k, subjects[i]) for i in chosen if subjects[i] for k in keys]
            response = http.post(
                f"/v1/circles/{cid}/check", headers=headers, json={"tokens": tokens or ["x"]}
            )
            view.append(("check", chosen, response.status_code, response.json()))
    return view


def old_token(key: CircleKey, name: str) -> str:
    """A name token of the retired index: BLAKE2b(normalise(name)) keyed by the epoch's
    index subkey (docs/protocol.md §25, what clients used to send)."""
    index_key = subkey(bytes(key), labels.RETIRED_PERSON_INDEX_KEY)
    token = hashlib.blake2b(
        normalise_name(name).encode(),
        digest_size=32,
        key=index_key,
        person=labels.RETIRED_PERSON_NAME_TOKEN,
    ).digest()
    return b64encode(token)


@pytest.mark.parametrize("attacker_role", ["member", "admin"])
def test_no_answer_tells_whether_two_anonymous_warnings_share_an_author(
    person: Any, http: TestClient, app: FastAPI, attacker_role: str
) -> None:
    alice, bob, carol, dave = (person(n) for n in ("alice", "bob", "carol", "dave"))
    attacker = dave if attacker_role == "member" else carol
    one_author = _build(alice, bob, carol, dave, same_author=True)
    two_authors = _build(alice, bob, carol, dave, same_author=False)
    seen_one = Placeholders()(_view(http, app, attacker, *one_author))
    seen_two = Placeholders()(_view(http, app, attacker, *two_authors))
    assert len(seen_one) > 90  # the attacker really asked a lot
    assert any(status == 200 and body for _, _, status, body in seen_one)
    assert seen_one == seen_two
    # The old endpoint is not there to ask.
    assert {status for path, _, status, _ in seen_one if path == "check"} == {404}


def test_what_members_see_counts_warnings_and_corroborations_never_people(
    person: Any, http: TestClient
) -> None:
    """One member posting five anonymous warnings reads as five warnings, not as five
    members nor as one; the only per-warning count is of corroborations."""
    alice, bob, carol, dave = (person(n) for n in ("alice", "bob", "carol", "dave"))
    cid, _ = _build(alice, bob, carol, dave, same_author=True)
    for n in range(5):
        Entries(bob.circles).post(
            cid, subject=f"Another {n}", text="t", categories=["other"], anonymous=True
        )
    headers = {"Authorization": f"Bearer {dave.client.token}"}
    page = http.get(f"/v1/circles/{cid}/entries", params={"limit": 200}, headers=headers).json()
    assert set(page) == {"entries", "next_before", "last_seq", "last_change_seq"}
    assert page["last_seq"] == len(page["entries"]) == 9
    counted = {k for e in page["entries"] for k, v in e.items() if type(v) is int}
    assert counted == {"seq", "epoch", "corroborations", "change_seq"}
    assert not any("member" in key or "people" in key for key in json.dumps(page).split('"'))
