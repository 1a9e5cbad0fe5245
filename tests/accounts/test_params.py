"""`GET /v1/auth/params` must not reveal which usernames exist."""

from collections.abc import Callable

from starlette.testclient import TestClient

from app.client.sdk import Client


def test_known_and_unknown_usernames_get_indistinguishable_answers(
    register: Callable[..., Client], http: TestClient
) -> None:
    register("alice")
    known = http.get("/v1/auth/params", params={"username": "alice"})
    unknown = http.get("/v1/auth/params", params={"username": "zelda"})
    assert known.status_code == unknown.status_code == 200
    assert set(known.json()) == set(unknown.json())
    assert known.headers.keys() == unknown.headers.keys()
    for field in ("algorithm", "opslimit", "memlimit"):
        assert known.json()[field] == unknown.json()[field]
    assert len(known.json()["salt"]) == len(unknown.json()["salt"])


def test_unknown_username_salt_is_stable_and_per_name(http: TestClient) -> None:
    first = http.get("/v1/auth/params", params={"username": "zelda"}).json()["salt"]
    second = http.get("/v1/auth/params", params={"username": "zelda"}).json()["salt"]
    other = http.get("/v1/auth/params", params={"username": "yuri"}).json()["salt"]
    assert first == second
    assert first != other


def test_params_are_at_the_client_floor(http: TestClient) -> None:
    body = http.get("/v1/auth/params", params={"username": "zelda"}).json()
    assert body["algorithm"] == "argon2id13"
    assert body["opslimit"] >= 3
    assert body["memlimit"] >= 64 * 1024 * 1024


def test_invalid_username_is_422(http: TestClient) -> None:
    response = http.get("/v1/auth/params", params={"username": "no spaces allowed"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
