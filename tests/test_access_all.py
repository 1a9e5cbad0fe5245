"""Every route of the app, tried anonymously and as each kind of account (ASVS V8).

The route table (API, web client, OpenAPI document, health) must equal the union of the
circle matrix (tests/circles/test_access.py), the moderation and audit matrix
(tests/moderation/test_access.py) and the rows below: a new route without a row fails.
The rows here are for routes that no circle role changes: public ones answer everyone
alike, account routes answer any session and act only on the caller's own account.
"""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.testclient import TestClient

from app.client.sdk import Client
from app.crypto import IdentityKeys, b64encode
from tests.circles.test_access import MATRIX as CIRCLE_MATRIX
from tests.conftest import World
from tests.moderation.test_access import MATRIX as MODERATION_MATRIX

ROLES = ["anonymous", "outsider", "removed", "pending", "member", "admin", "owner"]
Expected = tuple[int, str | None]
KEY = b64encode(bytes(32))
KDF = {
    "algorithm": "argon2id13",
    "opslimit": 3,
    "memlimit": 64 * 1024 * 1024,
    "salt": b64encode(bytes(16)),
}
BUNDLE = b64encode(b"\x01" + bytes(104))


NOWHERE = uuid.uuid4()
SIG = b64encode(bytes(64))


def _anonymous_body(**fields: Any) -> dict[str, Any]:
    """A well-shaped anonymous request (§38.4) with a token nobody issued."""
    return {
        "epoch": 0,
        "author_key": KEY,
        "commitment": KEY,
        "nonce": b64encode(bytes(24)),
        "ciphertext": b64encode(bytes(528)),
        "signature": SIG,
        "token": {"input": b64encode(bytes(82)), "output": b64encode(bytes(64))},
        "sealed_author": b64encode(bytes(72)),
        "author_generation": 0,
        **fields,
    }


def _register_body() -> dict[str, Any]:
    """Well-shaped, but the identity signature is for other keys: 422, nothing stored."""
    one, other = IdentityKeys.generate().public(), IdentityKeys.generate().public()
    return {
        "username": f"u{uuid.uuid4().hex[:8]}",
        "kdf": KDF,
        "auth_key": KEY,
        "identity": {
            "x25519_public": b64encode(other.x25519_public),
            "ed25519_public": b64encode(one.ed25519_public),
            "x25519_signature": b64encode(one.x25519_signature),
        },
        "key_bundle": BUNDLE,
        "recovery": {"auth_key": KEY, "key_bundle": BUNDLE},
    }


def public(ok: Expected) -> dict[str, Expected]:
    """Anyone, with or without a session, gets the same answer."""
    return {"anonymous": ok, "account": ok}


def any_account(ok: Expected) -> dict[str, Expected]:
    """Needs a session; acts on (or shows) the caller's own account only."""
    return {"anonymous": (401, "not_authenticated"), "account": ok}


Body = Callable[[], dict[str, Any]] | None
WRONG_KEY = (401, "invalid_credentials")

# (method, path template) -> (concrete path, body, expectations: anonymous / any account)
# A stream does not end while its session holds, so a request here would never return: its
# access rule (a live session; refused 401 without one) is tested over a live server in
# tests/circles/test_events.py.
STREAMS = {("GET", "/v1/events")}
OTHER: dict[tuple[str, str], tuple[str, Body, dict[str, Expected]]] = {
    ("GET", "/healthz"): ("/healthz", None, public((200, None))),
    ("GET", "/openapi.json"): ("/openapi.json", None, public((200, None))),
    ("GET", "/"): ("/", None, public((200, None))),
    ("GET", "/join"): ("/join", None, public((200, None))),
    ("GET", "/takedown"): ("/takedown", None, public((200, None))),
    ("GET", "/receipt"): ("/receipt", None, public((200, None))),
    ("GET", "/sw.js"): ("/sw.js", None, public((200, None))),
    # This test's server publishes no signed web release (tests/test_web_release.py does).
    ("GET", "/web-release.json"): (
        "/web-release.json",
        None,
        public((404, "release_not_published")),
    ),
    ("GET", "/static/vendor/{name}"): (
        "/static/vendor/libsodium-sumo.mjs",
        None,
        public((200, None)),
    ),
    ("GET", "/static/data/{name}"): (
        "/static/data/common-passphrases.txt",
        None,
        public((200, None)),
    ),
    ("GET", "/static/{area}/{path:path}"): ("/static/ui/app.js", None, public((200, None))),
    ("GET", "/v1/auth/params"): ("/v1/auth/params?username=alice", None, public((200, None))),
    ("POST", "/v1/auth/register"): (
        "/v1/auth/register",
        _register_body,
        public((422, "invalid_identity")),
    ),
    ("POST", "/v1/auth/login"): (
        "/v1/auth/login",
        lambda: {"username": "nobody", "auth_key": KEY},
        public(WRONG_KEY),
    ),
    ("POST", "/v1/auth/recovery/bundle"): (
        "/v1/auth/recovery/bundle",
        lambda: {"username": "nobody", "recovery_auth_key": KEY},
        public(WRONG_KEY),
    ),
    ("POST", "/v1/auth/recovery/complete"): (
        "/v1/auth/recovery/complete",
        lambda: {
            "username": "nobody",
            "recovery_auth_key": KEY,
            "kdf": KDF,
            "auth_key": KEY,
            "key_bundle": BUNDLE,
            "recovery": {"auth_key": KEY, "key_bundle": BUNDLE},
        },
        public(WRONG_KEY),
    ),
    ("GET", "/v1/me"): ("/v1/me", None, any_account((200, None))),
    ("GET", "/v1/me/sessions"): ("/v1/me/sessions", None, any_account((200, None))),
    ("POST", "/v1/me/passphrase"): (
        "/v1/me/passphrase",
        lambda: {"current_auth_key": KEY, "kdf": KDF, "auth_key": KEY, "key_bundle": BUNDLE},
        any_account(WRONG_KEY),
    ),
    ("POST", "/v1/me/sessions/end"): (
        "/v1/me/sessions/end",
        lambda: {"auth_key": KEY},
        any_account(WRONG_KEY),
    ),
    # A wrong passphrase key: refused before anything is deleted, for every caller.
    ("POST", "/v1/me/delete"): (
        "/v1/me/delete",
        lambda: {"auth_key": KEY, "warnings": "keep", "departures": []},
        any_account(WRONG_KEY),
    ),
    ("GET", "/v1/users/{username}"): ("/v1/users/alice", None, any_account((200, None))),
    # Anonymous posting (§38.4): a token and no session; a session changes nothing. A
    # circle nobody knows answers the same to everyone.
    ("POST", "/v1/anon/circles/{circle_id}/entries"): (
        f"/v1/anon/circles/{NOWHERE}/entries",
        lambda: _anonymous_body(
            entry_id=str(uuid.uuid4()),
            author_tag=KEY,
            expires_at=2_000_000_000,
            terms_signature=SIG,
        ),
        public((404, "circle_not_found")),
    ),
    ("POST", "/v1/anon/circles/{circle_id}/entries/{entry_id}/corroborations"): (
        f"/v1/anon/circles/{NOWHERE}/entries/{uuid.uuid4()}/corroborations",
        lambda: _anonymous_body(corroboration_id=str(uuid.uuid4()), author_tag=KEY),
        public((404, "circle_not_found")),
    ),
    ("POST", "/v1/anon/circles/{circle_id}/entries/{entry_id}/moderation"): (
        f"/v1/anon/circles/{NOWHERE}/entries/{uuid.uuid4()}/moderation",
        lambda: {"at": 1_800_000_000, "signature": SIG},
        public((404, "entry_not_found")),
    ),
    ("POST", "/v1/anon/circles/{circle_id}/entries/{entry_id}/retract"): (
        f"/v1/anon/circles/{NOWHERE}/entries/{uuid.uuid4()}/retract",
        lambda: {"signature": SIG},
        public((404, "circle_not_found")),
    ),
    # Last: it ends the caller's session.
    ("POST", "/v1/auth/logout"): ("/v1/auth/logout", None, any_account((204, None))),
}


def _routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, whether or not it is in the OpenAPI document
    (included routers flattened with their prefixes)."""
    return {
        (method, str(route.path))
        for route in iter_route_contexts(app.routes)
        for method in route.methods or ()
        if method != "HEAD"  # Starlette adds HEAD to GET routes; it is the same handler
    }


@pytest.mark.asvs("8.1.1", "8.2.1")
def test_every_route_has_a_row(app: FastAPI) -> None:
    """ASVS 8.1.1, 8.2.1: the access rules are written down for every route, and these
    matrices are their executable form."""
    rows = set(CIRCLE_MATRIX) | set(MODERATION_MATRIX) | set(OTHER) | STREAMS
    routes = _routes(app)
    assert routes - rows == set(), "routes without an access row"
    assert rows - routes == set(), "rows for routes that do not exist"


def _error(response: Any) -> Expected:
    if response.status_code < 400:
        return response.status_code, None
    return response.status_code, response.json().get("error", {}).get("code")


@pytest.mark.asvs("8.2.1", "8.3.1")
@pytest.mark.parametrize("role", ROLES)
def test_non_circle_routes_answer_as_documented(world: World, http: TestClient, role: str) -> None:
    """ASVS 8.2.1, 8.3.1: public routes answer everyone alike; account routes need a session,
    and no circle role widens or narrows them (the server decides, not the client)."""
    caller = None if role == "anonymous" else world.everyone()[role]
    headers = {"Authorization": f"Bearer {caller.client.token}"} if caller else {}
    failures = []
    for (method, template), (path, body, expected) in OTHER.items():
        response = http.request(method, path, headers=headers, json=body() if body else None)
        want = expected["anonymous" if caller is None else "account"]
        if _error(response) != want:
            failures.append(f"{method} {template}: got {_error(response)}, want {want}")
        if caller is not None and template == "/v1/me":
            assert response.json()["username"] == caller.name  # only ever your own account
    assert not failures, "\n".join(failures)


@pytest.mark.asvs("8.2.2")
def test_account_routes_act_only_on_the_callers_own_account(
    register: Callable[..., Client], http: TestClient
) -> None:
    """ASVS 8.2.2: no account route takes another account's id; /me, its sessions and its
    passphrase are always the caller's own."""
    alice, bob = register("alice"), register("bob")
    assert alice.me()["username"] == "alice" and bob.me()["username"] == "bob"
    alice_ids = {row["session_id"] for row in alice.sessions()}
    bob_ids = {row["session_id"] for row in bob.sessions()}
    assert alice_ids.isdisjoint(bob_ids) and len(alice_ids) == len(bob_ids) == 1
    templates = {path for _, path in OTHER}
    assert not [p for p in templates if p.startswith("/v1/me") and "{" in p]


@pytest.mark.asvs("8.1.2", "8.2.3")
def test_another_account_is_seen_only_through_its_public_fields(
    register: Callable[..., Client], http: TestClient
) -> None:
    """ASVS 8.1.2, 8.2.3: any signed-in user may fetch another's public keys (to compare
    fingerprints), never their KDF salt, key bundle or creation time (docs/api.md, User)."""
    alice = register("alice")
    register("bob")
    response = http.get("/v1/users/bob", headers={"Authorization": f"Bearer {alice.token}"})
    assert set(response.json()) == {"username", "fingerprint", "identity"}
    assert set(response.json()["identity"]) == {
        "x25519_public",
        "ed25519_public",
        "x25519_signature",
    }


@pytest.mark.asvs("8.2.3")
def test_clients_cannot_write_fields_they_do_not_own(world: World, http: TestClient) -> None:
    """ASVS 8.2.3: strict request schemas refuse fields the caller may not set (a role when
    redeeming an invite, an owner when creating a circle): no mass assignment."""
    headers = {"Authorization": f"Bearer {world.frank.client.token}"}
    redeem = {
        "circle_id": str(world.circle_id),
        "invite_id": str(uuid.uuid4()),
        "secret": b64encode(bytes(32)),
        "role": "owner",
    }
    create = {
        "circle_id": str(uuid.uuid4()),
        "wrap": b64encode(bytes(80)),
        "meta": b64encode(bytes(60)),
        "record": "{}",
        "signature": b64encode(bytes(64)),
        "owner": "frank",
    }
    for path, body in (("/v1/invites/redeem", redeem), ("/v1/circles", create)):
        response = http.post(path, headers=headers, json=body)
        assert _error(response) == (422, "invalid_request"), path


@pytest.mark.asvs("8.2.2", "8.4.1")
def test_an_admin_of_one_circle_cannot_reach_another_through_it(
    world: World, http: TestClient
) -> None:
    """ASVS 8.2.2, 8.4.1: circles are the tenants. frank owns his own circle; through it he
    reaches none of alice's invites or members, and alice's ids lead nowhere."""
    theirs = world.frank.circles.create("Frank's circle").circle_id
    invite, _ = world.alice.circles.create_invite(world.circle_id, role="member")
    alice_invites = http.get(
        f"/v1/circles/{world.circle_id}/invites",
        headers={"Authorization": f"Bearer {world.alice.client.token}"},
    ).json()
    invite_id = alice_invites[-1]["invite_id"]
    frank = {"Authorization": f"Bearer {world.frank.client.token}"}
    base = f"/v1/circles/{theirs}"
    attempts: list[tuple[str, str, dict[str, Any] | None, Expected]] = [
        ("POST", f"{base}/invites/{invite_id}/revoke", None, (404, "invite_not_found")),
        (
            "POST",
            f"{base}/members/dave/confirm",
            {"record": "{}", "signature": b64encode(bytes(64)), "wrap": b64encode(bytes(80))},
            (404, "member_not_found"),
        ),
        ("POST", f"{base}/members/bob/remove", {"rotation": None}, (404, "member_not_found")),
    ]
    for method, path, body, want in attempts:
        assert _error(http.request(method, path, headers=frank, json=body)) == want, path
    mine = http.get(f"{base}/invites", headers=frank).json()
    assert invite_id not in {row["invite_id"] for row in mine}
    still = http.get(
        f"/v1/circles/{world.circle_id}/invites",
        headers={"Authorization": f"Bearer {world.alice.client.token}"},
    ).json()
    assert [row["revoked"] for row in still if row["invite_id"] == invite_id] == [False]
    assert str(invite)  # alice's invite is untouched and still usable
