"""Every circle and invite endpoint, tried as outsider / pending / removed / member / admin / owner.

The rows come from the app's route table: a new route without a row fails the test.
Allowed callers are sent well-shaped but unusable bodies, so they reach the rule after
authorization (a 422 from record checks) without changing the world; refused callers
must get exactly the authorization error.
"""

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from app.crypto import b64encode
from tests.conftest import World

ROLES = ["outsider", "removed", "pending", "member", "admin", "owner"]
SIG = b64encode(b"\x00" * 64)
WRAP = b64encode(b"\x00" * 80)
RECORD = {"record": "{}", "signature": SIG}

DENY_OUTSIDER = (404, "circle_not_found")
DENY_PENDING = (403, "membership_pending")
DENY_REMOVED = (403, "not_a_member")
DENY_MEMBER = (403, "admin_required")
MEMBER_READ = {
    "outsider": DENY_OUTSIDER,
    "removed": DENY_REMOVED,
    "pending": DENY_PENDING,
    "member": (200, None),
    "admin": (200, None),
    "owner": (200, None),
}


def admin_only(ok: tuple[int, str | None]) -> dict[str, tuple[int, str | None]]:
    return {
        "outsider": DENY_OUTSIDER,
        "removed": DENY_REMOVED,
        "pending": DENY_PENDING,
        "member": DENY_MEMBER,
        "admin": ok,
        "owner": ok,
    }


def everyone(ok: tuple[int, str | None]) -> dict[str, tuple[int, str | None]]:
    return dict.fromkeys(ROLES, ok)


INVALID = (422, "invalid_record")
NO_ENTRY = (404, "entry_not_found")
ENVELOPE = {
    "anonymous": False,
    "author_key": b64encode(b"\x04" * 32),
    "commitment": b64encode(b"\x05" * 32),
    "nonce": b64encode(b"\x06" * 24),
    "ciphertext": b64encode(b"\x07" * 528),
    "signature": SIG,
}


def member_only(ok: tuple[int, str | None]) -> dict[str, tuple[int, str | None]]:
    return {
        "outsider": DENY_OUTSIDER,
        "removed": DENY_REMOVED,
        "pending": DENY_PENDING,
        "member": ok,
        "admin": ok,
        "owner": ok,
    }


# Required query parameters of some routes (well-formed, inside any circle's log).
QUERIES = {
    "/v1/circles/{circle_id}/audit/consistency": "?first=0&second=1",
    "/v1/circles/{circle_id}/audit/inclusion": "?index=0&size=1",
}

# (method, path template) -> (body factory, expectations per role)
MATRIX: dict[tuple[str, str], tuple[Any, dict[str, tuple[int, str | None]]]] = {
    ("POST", "/v1/circles"): (
        lambda w: {
            "circle_id": str(uuid.uuid4()),
            "wrap": WRAP,
            "meta": b64encode(b"\x00" * 60),
            **RECORD,
        },
        everyone(INVALID),
    ),
    ("GET", "/v1/circles"): (None, everyone((200, None))),
    ("GET", "/v1/circles/{circle_id}"): (None, MEMBER_READ),
    ("GET", "/v1/circles/{circle_id}/members"): (None, MEMBER_READ),
    ("GET", "/v1/circles/{circle_id}/records"): (None, MEMBER_READ),
    ("GET", "/v1/circles/{circle_id}/keys"): (None, MEMBER_READ),
    ("GET", "/v1/circles/{circle_id}/events"): (None, MEMBER_READ),
    ("POST", "/v1/circles/{circle_id}/members/{username}/confirm"): (
        lambda w: {**RECORD, "wrap": WRAP},
        admin_only(INVALID),
    ),
    ("POST", "/v1/circles/{circle_id}/members/{username}/role"): (
        lambda w: {**RECORD, "role": "member"},
        admin_only(INVALID),
    ),
    ("POST", "/v1/circles/{circle_id}/members/{username}/remove"): (
        lambda w: {"rotation": None},
        admin_only((422, "rotation_required")),
    ),
    ("POST", "/v1/circles/{circle_id}/rotate"): (
        lambda w: {
            **RECORD,
            "wraps": [{"username": n, "wrap": WRAP} for n in ("alice", "bob", "carol")],
            "prev_key_box": b64encode(b"\x00" * 72),
        },
        admin_only(INVALID),
    ),
    ("POST", "/v1/circles/{circle_id}/invites"): (
        lambda w: {"invite_id": str(uuid.uuid4()), "secret_hash": b64encode(b"\x01" * 32)},
        admin_only((201, None)),
    ),
    ("GET", "/v1/circles/{circle_id}/invites"): (None, admin_only((200, None))),
    ("POST", "/v1/circles/{circle_id}/invites/{invite_id}/revoke"): (
        None,
        admin_only((404, "invite_not_found")),
    ),
    ("POST", "/v1/invites/redeem"): (
        lambda w: {
            "circle_id": str(w.circle_id),
            "invite_id": str(uuid.uuid4()),
            "secret": b64encode(b"\x02" * 32),
        },
        everyone((404, "invite_not_found")),
    ),
    ("GET", "/v1/circles/{circle_id}/entries"): (None, MEMBER_READ),
    ("POST", "/v1/circles/{circle_id}/entries"): (
        lambda w: (
            ENVELOPE
            | {
                "entry_id": str(uuid.uuid4()),
                "epoch": 0,
                "author_tag": b64encode(b"\x08" * 32),
                "expires_at": 2_000_000_000,
                "terms_signature": SIG,
            }
        ),
        member_only((409, "stale_epoch")),
    ),
    ("GET", "/v1/circles/{circle_id}/entries/{entry_id}"): (None, member_only(NO_ENTRY)),
    ("POST", "/v1/circles/{circle_id}/entries/{entry_id}/corroborations"): (
        lambda w: (
            ENVELOPE
            | {
                "corroboration_id": str(uuid.uuid4()),
                "epoch": 1,
                "author_tag": b64encode(b"\x08" * 32),
            }
        ),
        member_only(NO_ENTRY),
    ),
    ("POST", "/v1/circles/{circle_id}/entries/{entry_id}/retract"): (
        lambda w: {"signature": SIG},
        member_only(NO_ENTRY),
    ),
    # Anonymous posting (§38): issuance with a session; spending is under /v1/anon (no
    # session), in tests/test_access_all.py.
    ("GET", "/v1/circles/{circle_id}/anon/issuance"): (None, MEMBER_READ),
    ("POST", "/v1/circles/{circle_id}/anon/issuance"): (
        lambda w: RECORD,
        admin_only((422, "invalid_issuance_record")),
    ),
    ("POST", "/v1/circles/{circle_id}/anon/tokens"): (
        lambda w: {"epoch": 1, "blinded": [b64encode(b"\x00" * 32)]},
        member_only((409, "anon_not_set_up")),
    ),
    ("POST", "/v1/circles/{circle_id}/anon/unmask"): (
        lambda w: {"entry_id": str(uuid.uuid4())},
        admin_only(NO_ENTRY),
    ),
    ("GET", "/v1/circles/{circle_id}/moderation/keys"): (None, MEMBER_READ),
    ("POST", "/v1/circles/{circle_id}/moderation/keys"): (
        lambda w: {
            "generation": 0,
            **RECORD,
            "wraps": [{"username": "alice", "wrap": b64encode(b"\x00" * 131)}],
            "prev_key_box": None,
        },
        admin_only((422, "invalid_moderation_key")),
    ),
    ("POST", "/v1/circles/{circle_id}/reports"): (
        lambda w: {
            "case_id": str(uuid.uuid4()),
            "entry_id": str(uuid.uuid4()),
            "generation": 0,
            "ciphertext": b64encode(b"\x00" * 200),
        },
        member_only(NO_ENTRY),
    ),
    ("GET", "/v1/circles/{circle_id}/moderation/cases"): (None, admin_only((200, None))),
    ("GET", "/v1/circles/{circle_id}/moderation/cases/{case_id}"): (
        None,
        admin_only((404, "case_not_found")),
    ),
    ("POST", "/v1/circles/{circle_id}/moderation/cases/{case_id}/decisions"): (
        lambda w: {"decision": "{}", "signature": SIG, "note": b64encode(b"\x00" * 100)},
        admin_only((404, "case_not_found")),
    ),
    ("POST", "/v1/circles/{circle_id}/moderation/decisions"): (
        lambda w: {
            "decisions": [
                {
                    "case_id": str(uuid.uuid4()),
                    "decision": "{}",
                    "signature": SIG,
                    "note": b64encode(b"\x00" * 100),
                }
            ]
        },
        admin_only((404, "case_not_found")),
    ),
    ("GET", "/v1/circles/{circle_id}/entries/{entry_id}/moderation"): (
        None,
        member_only(NO_ENTRY),
    ),
    ("GET", "/v1/circles/{circle_id}/audit/records"): (None, MEMBER_READ),
    ("GET", "/v1/circles/{circle_id}/audit/head"): (None, MEMBER_READ),
    ("GET", "/v1/circles/{circle_id}/audit/consistency"): (None, MEMBER_READ),
    ("GET", "/v1/circles/{circle_id}/audit/inclusion"): (None, MEMBER_READ),
    # Only an owner deletes; this statement is unsigned, so it reaches the statement check.
    ("POST", "/v1/circles/{circle_id}/delete"): (
        lambda _: {"statement": "{}", "signature": SIG},
        {
            "outsider": DENY_OUTSIDER,
            "removed": DENY_REMOVED,
            "pending": DENY_PENDING,
            "member": (403, "owner_required"),
            "admin": (403, "owner_required"),
            "owner": (422, "invalid_deletion"),
        },
    ),
    # Last: it changes the world for the callers it lets through.
    ("POST", "/v1/circles/{circle_id}/leave"): (
        None,
        {
            "outsider": DENY_OUTSIDER,
            "removed": DENY_REMOVED,
            "pending": (200, None),
            "member": (422, "departure_required"),
            "admin": (422, "departure_required"),
            "owner": (409, "last_owner"),
        },
    ),
}


def _circle_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) of the route table under /v1/circles and /v1/invites."""
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(("/v1/circles", "/v1/invites"))
        for method in operations
    }


def test_every_circle_route_has_a_row(app: FastAPI) -> None:
    # Sealed warnings' routes have their rows in tests/moderation/test_access.py's matrix
    # (with the moderation and audit routes: a sealed match opens to the admins).
    own = {(method, path) for method, path in _circle_routes(app) if "/sealed/" not in path}
    assert own == set(MATRIX)


@pytest.mark.asvs("8.2.1", "8.3.1")
@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(world: World, http: TestClient, role: str) -> None:
    """ASVS 8.2.1, 8.3.1: each circle operation only for the roles the API documents,
    enforced by the server whatever the client does."""
    caller = world.everyone()[role]
    headers = {"Authorization": f"Bearer {caller.client.token}"}
    failures = []
    for (method, template), (body, expected) in MATRIX.items():
        path = template.format(
            circle_id=world.circle_id,
            username="bob",
            invite_id=uuid.uuid4(),
            entry_id=uuid.uuid4(),
            case_id=uuid.uuid4(),
        )
        path += QUERIES.get(template, "")
        if "{username}" in template and template.endswith("/confirm"):
            path = template.format(circle_id=world.circle_id, username="dave")
        response = http.request(method, path, headers=headers, json=body(world) if body else None)
        status, code = expected[role]
        got_code = (
            response.json().get("error", {}).get("code") if response.status_code >= 400 else None
        )
        if (response.status_code, got_code) != (status, code):
            failures.append(
                f"{method} {template}: got {response.status_code} {got_code}, want {status} {code}"
            )
    assert not failures, "\n".join(failures)


@pytest.mark.asvs("8.2.1")
def test_anonymous_gets_401_everywhere(app: FastAPI, http: TestClient) -> None:
    for method, template in _circle_routes(app):
        path = template.format(
            circle_id=uuid.uuid4(),
            username="bob",
            invite_id=uuid.uuid4(),
            entry_id=uuid.uuid4(),
            case_id=uuid.uuid4(),
            filing_id=uuid.uuid4(),
        )
        response = http.request(method, path + QUERIES.get(template, ""))
        assert response.status_code == 401, (method, template)
