"""Every moderation and audit endpoint, tried as outsider / pending / removed / member / admin /
owner, and without a session.

The rows come from the app's route table (operations tagged ``moderation`` or ``audit``):
a new route without a row fails the test. Allowed callers are sent well-shaped but unusable
bodies, so they reach a rule after authorization without changing the world; refused
callers must get exactly the authorization error.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from nacl.public import PrivateKey

from app.crypto import b64encode
from tests.moderation.conftest import Desk, error_of

ROLES = ["outsider", "removed", "pending", "member", "admin", "owner"]
TAGS = {"moderation", "audit", "sealed"}
Expected = tuple[int, str | None]

DENY = {
    "outsider": (404, "circle_not_found"),
    "removed": (403, "not_a_member"),
    "pending": (403, "membership_pending"),
}


def member_only(ok: Expected) -> dict[str, Expected]:
    return DENY | {"member": ok, "admin": ok, "owner": ok}


def admin_only(ok: Expected) -> dict[str, Expected]:
    return DENY | {"member": (403, "admin_required"), "admin": ok, "owner": ok}


def everyone(ok: Expected) -> dict[str, Expected]:
    return dict.fromkeys([*ROLES, "anonymous"], ok)


@dataclass(frozen=True)
class Scene:
    """Real objects for the paths: bob's entry, carol's report of it, a takedown request."""

    desk: Desk
    entry_id: uuid.UUID
    case_id: uuid.UUID


ZERO_SIG = b64encode(bytes(64))
Body = Callable[[Scene], dict[str, Any]] | None

# (method, path template) -> (body, query, expectations per role)
MATRIX: dict[tuple[str, str], tuple[Body, dict[str, int] | None, dict[str, Expected]]] = {
    ("GET", "/v1/circles/{circle_id}/moderation/keys"): (None, None, member_only((200, None))),
    ("POST", "/v1/circles/{circle_id}/moderation/keys"): (
        lambda s: {
            "generation": 5,
            "record": "{}",
            "signature": ZERO_SIG,
            "wraps": [{"username": "alice", "wrap": b64encode(bytes(131))}],
            "prev_key_box": b64encode(bytes(72)),
        },
        None,
        admin_only((409, "moderation_key_conflict")),
    ),
    ("POST", "/v1/circles/{circle_id}/reports"): (
        lambda s: {
            "case_id": str(uuid.uuid4()),
            "entry_id": str(s.entry_id),
            "generation": 7,
            "ciphertext": b64encode(bytes(200)),
        },
        None,
        member_only((409, "moderation_key_stale")),
    ),
    ("GET", "/v1/circles/{circle_id}/moderation/cases"): (None, None, admin_only((200, None))),
    ("GET", "/v1/circles/{circle_id}/moderation/cases/{case_id}"): (
        None,
        None,
        admin_only((200, None)),
    ),
    ("POST", "/v1/circles/{circle_id}/moderation/cases/{case_id}/decisions"): (
        lambda s: {"decision": "{}", "signature": ZERO_SIG, "note": b64encode(bytes(80))},
        None,
        admin_only((422, "invalid_decision")),
    ),
    ("POST", "/v1/circles/{circle_id}/moderation/decisions"): (
        lambda s: {
            "decisions": [
                {
                    "case_id": str(s.case_id),
                    "decision": "{}",
                    "signature": ZERO_SIG,
                    "note": b64encode(bytes(80)),
                }
            ]
        },
        None,
        admin_only((422, "invalid_decision")),
    ),
    # bob, the member, wrote the entry: its author and the admins see its cases.
    ("GET", "/v1/circles/{circle_id}/entries/{entry_id}/moderation"): (
        None,
        None,
        member_only((200, None)),
    ),
    ("GET", "/v1/circles/{circle_id}/audit/records"): (None, None, member_only((200, None))),
    ("GET", "/v1/circles/{circle_id}/audit/head"): (None, None, member_only((200, None))),
    ("GET", "/v1/circles/{circle_id}/audit/consistency"): (
        None,
        {"first": 1, "second": 2},
        member_only((200, None)),
    ),
    ("GET", "/v1/circles/{circle_id}/audit/inclusion"): (
        None,
        {"index": 0, "size": 1},
        member_only((200, None)),
    ),
    # Public: the same answer whoever asks, and nothing to read without the capability.
    ("POST", "/v1/takedown"): (
        lambda s: {
            "circle_id": str(s.desk.cid),
            "case_id": str(uuid.uuid4()),
            "generation": 0,
            "moderation_key": b64encode(bytes(32)),
            "receipt_key": b64encode(bytes(PrivateKey.generate().public_key)),
            "receipt_token": b64encode(bytes(32)),
            "ciphertext": b64encode(bytes(100)),
            "proof": {"challenge": b64encode(bytes(77)), "nonces": list(range(8))},
        },
        None,
        everyone((404, "takedown_link_invalid")),
    ),
    ("POST", "/v1/takedown/challenge"): (
        lambda s: {
            "circle_id": str(s.desk.cid),
            "generation": 0,
            "moderation_key": b64encode(bytes(32)),
        },
        None,
        everyone((404, "takedown_link_invalid")),
    ),
    ("POST", "/v1/takedown/status"): (
        lambda s: {"case_id": str(s.case_id), "receipt_token": b64encode(bytes(32))},
        None,
        everyone((404, "receipt_not_found")),
    ),
    ("GET", "/v1/server/keys"): (None, None, everyone((200, None))),
    # Sealed warnings (§36): nothing set up in this scene, so members reach that rule.
    ("GET", "/v1/circles/{circle_id}/sealed/settings"): (None, None, member_only((200, None))),
    ("POST", "/v1/circles/{circle_id}/sealed/settings"): (
        lambda s: {"record": "{}", "signature": ZERO_SIG},
        None,
        admin_only((422, "invalid_sealed_settings")),
    ),
    ("POST", "/v1/circles/{circle_id}/sealed/evaluate"): (
        lambda s: {"blinded": [b64encode(bytes(32))]},
        None,
        member_only((409, "sealed_not_set_up")),
    ),
    ("POST", "/v1/circles/{circle_id}/sealed/filings"): (
        lambda s: {"record": "{}", "signature": ZERO_SIG},
        None,
        member_only((409, "sealed_not_set_up")),
    ),
    ("GET", "/v1/circles/{circle_id}/sealed/filings"): (None, None, member_only((200, None))),
    ("POST", "/v1/circles/{circle_id}/sealed/filings/{filing_id}/withdraw"): (
        None,
        None,
        member_only((404, "filing_not_found")),
    ),
    ("GET", "/v1/circles/{circle_id}/sealed/matches"): (None, None, admin_only((200, None))),
}


def _routes(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        if TAGS & set(operation.get("tags", []))
    }


@pytest.fixture
def scene(desk: Desk) -> Scene:
    entry_id = desk.post_entry()
    return Scene(desk, entry_id, desk.report(desk.world.carol, entry_id))


def _path(template: str, scene: Scene) -> str:
    return template.format(
        circle_id=scene.desk.cid,
        case_id=scene.case_id,
        entry_id=scene.entry_id,
        filing_id=scene.case_id,
    )


def test_every_moderation_and_audit_route_has_a_row(app: FastAPI) -> None:
    assert _routes(app) == set(MATRIX)


@pytest.mark.asvs("8.2.1", "8.3.1")
@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_access_matrix(scene: Scene, role: str) -> None:
    """ASVS 8.2.1, 8.3.1: each moderation and audit operation only for the documented roles."""
    desk = scene.desk
    caller = None if role == "anonymous" else desk.world.everyone()[role]
    before = desk.case(scene.case_id)
    failures = []
    for (method, template), (body, query, expected) in MATRIX.items():
        response = desk.call(
            caller,
            method,
            _path(template, scene),
            json=body(scene) if body else None,
            params=query,
        )
        want = expected.get(role, (401, "not_authenticated"))
        if error_of(response) != want:
            failures.append(f"{method} {template}: got {error_of(response)}, want {want}")
    assert not failures, "\n".join(failures)
    assert desk.case(scene.case_id) == before  # nobody changed the case


def test_only_the_admins_named_in_a_generation_get_a_wrap(desk: Desk) -> None:
    world = desk.world
    for person, has_wrap in ((world.alice, True), (world.carol, True), (world.bob, False)):
        [row] = desk.ok(person, "GET", f"/v1/circles/{desk.cid}/moderation/keys")
        assert (row["generation"], row["signer"]) == (0, "alice")
        assert (row["wrap"] is not None) == has_wrap, person.name
    assert bytes(desk.admin_key(world.carol)) == bytes(desk.keys[0])


@pytest.mark.asvs("8.2.3")
def test_a_member_cannot_read_a_report_about_their_own_entry(desk: Desk) -> None:
    """ASVS 8.2.3: an entry's author sees the outcome fields of its cases, never the reporter."""
    world = desk.world
    entry_id = desk.post_entry()
    case_id = desk.report(world.carol, entry_id, note="carol-reported-this")
    cases = f"/v1/circles/{desk.cid}/moderation/cases"
    assert error_of(desk.call(world.bob, "GET", f"{cases}/{case_id}")) == (403, "admin_required")
    assert error_of(desk.call(world.bob, "GET", cases)) == (403, "admin_required")
    summary = desk.call(world.bob, "GET", f"/v1/circles/{desk.cid}/entries/{entry_id}/moderation")
    assert summary.status_code == 200
    assert set(summary.json()[0]) == {
        "case_id",
        "kind",
        "status",
        "actions",
        "created_at",
        "updated_at",
    }
    assert "carol" not in summary.text
    records = desk.ok(world.bob, "GET", f"/v1/circles/{desk.cid}/audit/records")
    assert "carol-reported" not in str(records)
    filed = [r for r in records if '"report_filed"' in r["body"]]
    assert len(filed) == 1 and '"actor":""' in filed[0]["body"]


@pytest.mark.asvs("8.2.2", "8.4.1")
def test_an_admin_of_another_circle_reaches_nothing_here(desk: Desk) -> None:
    """ASVS 8.2.2, 8.4.1: an admin of one circle reaches no case or entry of another
    through their own circle."""
    world = desk.world
    entry_id = desk.post_entry()
    case_id = desk.report(world.carol, entry_id)
    theirs = world.frank.circles.create("Frank's circle").circle_id
    frank = Desk(world, desk.http, desk.person)
    frank.cid = theirs
    frank.create_key(world.frank)
    base = f"/v1/circles/{theirs}"
    decision = desk.decision_body(case_id, "hide")
    report = {
        "case_id": str(uuid.uuid4()),
        "entry_id": str(entry_id),
        "generation": 0,
        "ciphertext": b64encode(bytes(200)),
    }
    attempts: list[tuple[str, str, dict[str, Any] | None, Expected]] = [
        ("GET", f"{base}/moderation/cases/{case_id}", None, (404, "case_not_found")),
        ("POST", f"{base}/moderation/cases/{case_id}/decisions", decision, (404, "case_not_found")),
        ("GET", f"{base}/entries/{entry_id}/moderation", None, (404, "entry_not_found")),
        ("POST", f"{base}/reports", report, (404, "entry_not_found")),
    ]
    for method, path, body, expected in attempts:
        assert error_of(desk.call(world.frank, method, path, json=body)) == expected, path
    assert desk.ok(world.frank, "GET", f"{base}/moderation/cases") == {
        "cases": [],
        "next_cursor": None,
    }
    assert desk.case(case_id)["status"] == "open"
