"""One error shape everywhere: 413, 415, 422, 404, 405."""

from starlette.testclient import TestClient


def _error(response: object) -> dict[str, str]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    return body["error"]  # type: ignore[no-any-return]


def test_oversized_body_is_413(http: TestClient) -> None:
    response = http.post(
        "/v1/auth/login",
        content=b"{" + b" " * 300_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert _error(response)["code"] == "payload_too_large"


def test_oversized_chunked_body_is_413(http: TestClient) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b" " * 10_000

    response = http.post(
        "/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert _error(response)["code"] == "payload_too_large"


def test_non_json_body_is_415(http: TestClient) -> None:
    response = http.post(
        "/v1/auth/login", content=b"username=alice", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert _error(response)["code"] == "unsupported_media_type"


def test_two_media_types_are_415(http: TestClient) -> None:
    """The guard and the app must read the same media type: the app (Starlette) reads the
    first header of several, so the guard takes none of them."""
    for types in (
        [("content-type", "application/x/y+json"), ("content-type", "application/json")],
        [("content-type", "application/json"), ("content-type", "application/json")],
    ):
        response = http.post("/v1/auth/login", content=b"{}", headers=types)
        assert response.status_code == 415, types
        assert _error(response)["code"] == "unsupported_media_type"


def test_malformed_json_is_422(http: TestClient) -> None:
    response = http.post(
        "/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert _error(response)["code"] == "invalid_request"


def test_json_body_that_is_not_utf8_is_422_like_malformed_json(http: TestClient) -> None:
    # Found by the fuzz suite (tests/test_fuzz.py): FastAPI answered 400 bad_request.
    response = http.post(
        "/v1/auth/login",
        content=b'{"username": "\xff"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert _error(response)["code"] == "invalid_request"


def test_validation_error_does_not_echo_submitted_values(http: TestClient) -> None:
    response = http.post("/v1/auth/login", json={"username": "alice", "auth_key": "SECRETMARKER"})
    assert response.status_code == 422
    assert "SECRETMARKER" not in response.text


def test_unknown_route_is_404_and_wrong_method_405(http: TestClient) -> None:
    assert _error(http.get("/v1/nothing-here"))["code"] == "not_found"
    response = http.get("/v1/auth/login")
    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"


def test_non_canonical_base64_is_refused(http: TestClient) -> None:
    # "AB==" decodes to the same byte as "AA==": only the canonical form is accepted.
    key = "A" * 42 + "B="
    response = http.post("/v1/auth/login", json={"username": "alice", "auth_key": key})
    assert response.status_code == 422
    assert _error(response)["code"] == "invalid_request"
