"""The circle changes honestly while a client works (issue 14): the change is driven into the
exact window, through the real app, and the client does what the person meant.

bob's SDK talks to the app through a transport that, when it sees a chosen request for the
n-th time, first lets alice (an admin, talking to the app directly) make her honest change:
a confirm, a rotation, a role change with a renewed moderation key, a new post. Nothing of
ours is mocked: the app, the databases and the crypto are the real ones.

- ``audit verify`` overlapping a change reports ok for the newer state; ``forked`` is kept
  for two key-record chains that cannot both be true.
- a read that meets an entry sealed under a key rotated in mid-read fetches the key and
  goes on.
- a post, a corroboration and a report re-sync and reseal once on ``stale_epoch`` /
  ``moderation_key_stale`` and on a transport error anywhere in the operation; the warning
  lands exactly once, with the words the person wrote.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.testclient import TestClient

from app.client.audit import Audit, AuditFailure, AuditPins
from app.client.cases import list_cases
from app.client.circles import Circles
from app.client.entries import Entries
from app.client.errors import ApiError, TransportError
from app.client.moderation import Moderation
from app.client.sdk import Client
from app.client.trust import TrustStore
from app.crypto import b64encode
from app.crypto.circles import KeyRecord, RecordMember
from tests.conftest import World

Action = Callable[[httpx.Request], httpx.Response | None]


@dataclass
class Window:
    """Before forwarding the ``nth`` request matching ``method`` and ``path`` (a suffix),
    run ``action``; it may answer instead (a lost connection raises)."""

    method: str
    path: str
    action: Action
    nth: int = 1
    seen: int = 0


@dataclass
class Bob:
    circles: Circles
    entries: Entries
    moderation: Moderation
    audit: Audit
    sent: list[tuple[str, str, dict[str, object] | None]] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)

    def at(self, method: str, path: str, action: Action, nth: int = 1) -> None:
        self.windows.append(Window(method, path, action, nth))

    def posts(self, suffix: str) -> list[dict[str, object]]:
        return [b for m, p, b in self.sent if m == "POST" and p.endswith(suffix) and b]


def _bob(http: TestClient, world: World) -> Bob:
    holder: list[Bob] = []

    def forward(request: httpx.Request) -> httpx.Response:
        bob = holder[0]
        body = json.loads(request.content) if request.content else None
        bob.sent.append((request.method, request.url.path, body))
        due = []
        for window in bob.windows:
            if request.method == window.method and request.url.path.endswith(window.path):
                window.seen += 1
                if window.seen == window.nth:
                    due.append(window.action)
        for action in due:
            answer = action(request)
            if answer is not None:
                return answer
        real = http.request(
            request.method, str(request.url), content=request.content, headers=request.headers
        )
        return httpx.Response(real.status_code, content=real.content, headers=real.headers)

    client = Client(
        "http://testserver",
        token=world.bob.client.token,
        http=httpx.Client(transport=httpx.MockTransport(forward)),
    )
    circles = Circles(
        client, username="bob", identity=world.bob.account.identity, trust=TrustStore.in_memory()
    )
    entries = Entries(circles)
    moderation = Moderation(circles, entries=entries)
    holder.append(Bob(circles, entries, moderation, Audit(circles, AuditPins.in_memory())))
    return holder[0]


def _then(change: Callable[[], object]) -> Action:
    """An honest change by someone else, made in the window; the request then goes on."""

    def action(_: httpx.Request) -> None:
        change()

    return action


def _alice_entries(world: World) -> Entries:
    return Entries(world.alice.circles)


# -- audit verify ---------------------------------------------------------------------------


def test_audit_verify_overlapping_an_honest_confirm_is_ok_for_the_newer_state(
    http: TestClient, world: World
) -> None:
    bob = _bob(http, world)
    before = bob.audit.verify(world.circle_id)
    # After bob's sync and tree head, before he fetches the key records to check signatures.
    bob.at(
        "GET",
        "/audit/records",
        _then(
            lambda: world.alice.circles.confirm(
                world.circle_id, "dave", fingerprint=world.dave.fingerprint
            )
        ),
    )
    during = bob.audit.verify(world.circle_id)
    assert during["ok"] and during["tree_size"] == before["tree_size"]
    after = bob.audit.verify(world.circle_id)  # the confirm's own leaf, from the pinned head
    assert after["ok"] and after["tree_size"] == before["tree_size"] + 1


@pytest.mark.parametrize("change", ["remove", "promote", "demote"])
def test_audit_verify_overlapping_a_removal_or_a_role_change_is_ok(
    http: TestClient, world: World, change: str
) -> None:
    bob = _bob(http, world)
    alice = world.alice.circles
    actions = {
        "remove": lambda: alice.remove(world.circle_id, "carol"),
        "promote": lambda: alice.set_role(world.circle_id, "bob", "admin"),
        "demote": lambda: alice.set_role(world.circle_id, "carol", "member"),
    }
    bob.at("GET", "/audit/records", _then(actions[change]))
    assert bob.audit.verify(world.circle_id)["ok"]
    assert bob.audit.verify(world.circle_id)["ok"]


def test_audit_verify_says_forked_for_a_key_record_chain_that_cannot_extend_the_verified_one(
    http: TestClient, world: World
) -> None:
    """The server answers the signature check's fetch with another record at the seq bob's
    sync verified, validly signed by an admin: two histories, one of them a lie."""
    bob = _bob(http, world)
    verified = bob.circles.sync(world.circle_id).record

    def other_history(request: httpx.Request) -> httpx.Response:
        real = http.request(request.method, str(request.url), headers=request.headers)
        rows = real.json()
        alternative = KeyRecord(
            verified.circle_id,
            verified.seq,
            verified.epoch,
            verified.key_id,
            tuple(
                RecordMember(m.user, m.fp, "member") if m.user == "carol" else m
                for m in verified.members
            ),
            verified.prev,
            "alice",
        )
        for row in rows:
            if row["seq"] == verified.seq:
                row["record"] = alternative.to_bytes().decode()
                row["signature"] = b64encode(alternative.sign(world.alice.account.identity))
                row["signer_identity"] = json.loads(
                    http.get(
                        "/v1/users/alice",
                        headers={"Authorization": f"Bearer {world.bob.client.token}"},
                    ).content
                )["identity"]
        return httpx.Response(200, json=rows)

    # The audit's own sync fetches /records first (1st); the signature check fetches it again.
    bob.at("GET", f"/circles/{world.circle_id}/records", other_history, nth=2)
    with pytest.raises(AuditFailure) as failed:
        bob.audit.verify(world.circle_id)
    assert failed.value.code == "forked"
    assert bob.audit.pins.circles == {}


# -- reading --------------------------------------------------------------------------------


def test_a_read_meeting_a_key_rotated_mid_read_fetches_the_key_and_goes_on(
    http: TestClient, world: World
) -> None:
    alice = _alice_entries(world)
    for n in range(3):
        alice.post(world.circle_id, subject=f"Person {n}", text="t", categories=["other"])
    bob = _bob(http, world)

    def rotate_and_post() -> None:
        world.alice.circles.rotate(world.circle_id)
        alice.post(world.circle_id, subject="After the rotation", text="t", categories=["other"])

    # bob's first page is in hand; before his second page, the key rotates and a post lands.
    bob.at("GET", "/entries", _then(rotate_and_post), nth=2)
    subjects = [e.subject for e in bob.entries.pages(world.circle_id, page_size=2)]
    assert subjects == ["Person 0", "Person 1", "Person 2", "After the rotation"]


# -- posting, corroborating, reporting -------------------------------------------------------


def _stored_entries(http: TestClient, world: World) -> list[dict[str, object]]:
    page = http.get(
        f"/v1/circles/{world.circle_id}/entries",
        headers={"authorization": f"Bearer {world.alice.client.token}"},
    ).json()
    rows: list[dict[str, object]] = page["entries"]
    return rows


def _read_by_alice(world: World) -> list[tuple[str | None, str | None, int]]:
    return [(e.subject, e.text, e.seq) for e in _alice_entries(world).pages(world.circle_id)]


def test_a_post_meeting_a_rotation_before_its_post_reseals_once_and_lands_once(
    http: TestClient, world: World
) -> None:
    bob = _bob(http, world)
    bob.at("POST", "/entries", _then(lambda: world.alice.circles.rotate(world.circle_id)))
    posted = bob.entries.post(
        world.circle_id, subject="Jan Novák", text="what happened", categories=["other"]
    )
    sent = bob.posts("/entries")
    assert len(sent) == 2
    assert sent[0]["entry_id"] == sent[1]["entry_id"] == posted["entry_id"]
    assert int(str(sent[1]["epoch"])) == int(str(sent[0]["epoch"])) + 1
    assert _read_by_alice(world) == [("Jan Novák", "what happened", 1)]


def _broken_once(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize(
    "path",
    ["/circles/{cid}", "/circles/{cid}/records", "/circles/{cid}/keys"],
    ids=["circle", "records", "keys"],
)
def test_a_post_survives_a_transport_error_in_its_sync(
    http: TestClient, world: World, path: str
) -> None:
    bob = _bob(http, world)
    bob.at("GET", path.format(cid=world.circle_id), _broken_once)
    bob.entries.post(world.circle_id, subject="Jan Novák", text="t", categories=["other"])
    assert _read_by_alice(world) == [("Jan Novák", "t", 1)]


def test_a_post_whose_answer_was_lost_and_then_met_a_rotation_is_stored_once(
    http: TestClient, world: World
) -> None:
    """The first POST lands but its answer is lost; the key rotates before the retry. The
    retry sends the same bytes and gets the stored entry back: never a second warning."""
    bob = _bob(http, world)

    def land_then_lose(request: httpx.Request) -> httpx.Response:
        http.request(
            request.method, str(request.url), content=request.content, headers=request.headers
        )
        world.alice.circles.rotate(world.circle_id)
        raise httpx.ReadError("connection reset after the request was sent", request=request)

    bob.at("POST", "/entries", land_then_lose)
    posted = bob.entries.post(world.circle_id, subject="Jan Novák", text="t", categories=["other"])
    sent = bob.posts("/entries")
    assert len(sent) == 2 and sent[0] == sent[1]
    assert [e["entry_id"] for e in _stored_entries(http, world)] == [posted["entry_id"]]


def test_a_second_stale_epoch_is_raised_not_retried_again(http: TestClient, world: World) -> None:
    bob = _bob(http, world)
    for nth in (1, 2):
        bob.at(
            "POST",
            "/entries",
            _then(lambda: world.alice.circles.rotate(world.circle_id)),
            nth=nth,
        )
    with pytest.raises(ApiError) as refused:
        bob.entries.post(world.circle_id, subject="x", text="t", categories=["other"])
    assert refused.value.code == "stale_epoch"
    assert len(bob.posts("/entries")) == 2
    assert _stored_entries(http, world) == []


def test_a_corroboration_meeting_a_rotation_reseals_once_and_lands_once(
    http: TestClient, world: World
) -> None:
    entry = _alice_entries(world).post(
        world.circle_id, subject="Jan Novák", text="t", categories=["other"]
    )
    bob = _bob(http, world)
    bob.at("POST", "/corroborations", _then(lambda: world.alice.circles.rotate(world.circle_id)))
    bob.entries.corroborate(world.circle_id, entry["entry_id"], text="me too")
    assert len(bob.posts("/corroborations")) == 2
    warning, items = _alice_entries(world).show(world.circle_id, entry["entry_id"])
    assert warning.corroborations == 1
    assert [(i["text"], i["author"]) for i in items] == [("me too", "bob")]


def test_a_corroboration_survives_a_lost_answer(http: TestClient, world: World) -> None:
    entry = _alice_entries(world).post(
        world.circle_id, subject="Jan Novák", text="t", categories=["other"]
    )
    bob = _bob(http, world)

    def land_then_lose(request: httpx.Request) -> httpx.Response:
        http.request(
            request.method, str(request.url), content=request.content, headers=request.headers
        )
        raise httpx.ReadError("reset", request=request)

    bob.at("POST", "/corroborations", land_then_lose)
    bob.entries.corroborate(world.circle_id, entry["entry_id"], text="me too")
    _, items = _alice_entries(world).show(world.circle_id, entry["entry_id"])
    assert len(items) == 1


def _renew_admins(world: World) -> None:
    """An admin change, and alice's client renewing the moderation key for the new admins."""
    world.alice.circles.set_role(world.circle_id, "carol", "member")
    Moderation(world.alice.circles).ensure_key(world.circle_id)


def _reported(world: World) -> list[tuple[str | None, str | None]]:
    cases = list_cases(Moderation(world.alice.circles), world.circle_id)
    return [(c.get("reporter"), c.get("reason")) for c in cases]


@pytest.fixture
def reportable(world: World) -> str:
    Moderation(world.alice.circles).ensure_key(world.circle_id)
    entry = _alice_entries(world).post(
        world.circle_id, subject="Jan Novák", text="t", categories=["other"]
    )
    return str(entry["entry_id"])


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/reports"), ("GET", "/moderation/keys")],
    ids=["server_refuses_the_old_key", "sync_sees_a_stale_key"],
)
def test_a_report_meeting_renewed_moderation_keys_reseals_once_and_lands_once(
    http: TestClient, world: World, reportable: str, method: str, path: str
) -> None:
    bob = _bob(http, world)
    bob.at(method, path, _then(lambda: _renew_admins(world)))
    filed = bob.moderation.report(world.circle_id, reportable, reason="false", note="n")
    reports = bob.posts("/reports")
    assert {r["case_id"] for r in reports} == {filed["case_id"]}
    assert reports[-1]["generation"] == 1
    assert _reported(world) == [("bob", "false")]


def test_a_report_whose_answer_was_lost_is_filed_once(
    http: TestClient, world: World, reportable: str
) -> None:
    bob = _bob(http, world)

    def land_then_lose(request: httpx.Request) -> httpx.Response:
        http.request(
            request.method, str(request.url), content=request.content, headers=request.headers
        )
        raise httpx.ReadError("reset", request=request)

    bob.at("POST", "/reports", land_then_lose)
    filed = bob.moderation.report(world.circle_id, reportable, reason="false", note="n")
    reports = bob.posts("/reports")
    assert len(reports) == 2 and reports[0] == reports[1]
    assert reports[0]["case_id"] == filed["case_id"]
    assert _reported(world) == [("bob", "false")]


def test_transport_errors_past_the_attempts_are_raised(http: TestClient, world: World) -> None:
    bob = _bob(http, world)
    for nth in (1, 2, 3):
        bob.at("GET", f"/circles/{world.circle_id}", _broken_once, nth=nth)
    with pytest.raises(TransportError):
        bob.entries.post(world.circle_id, subject="x", text="t", categories=["other"])
    assert bob.posts("/entries") == []
