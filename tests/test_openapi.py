"""The OpenAPI document is the contract the fuzz suite (tests/test_fuzz.py) holds the app to."""

from collections.abc import Iterator
from typing import Any

import pytest

from app.main import create_app
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app = create_app(make_settings("sqlite://"))
    app.state.engine.dispose()
    return app.openapi()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _unbounded_integers(
    document: dict[str, Any], schema: dict[str, Any], where: str
) -> Iterator[str]:
    schema = _resolve(document, schema)
    if schema.get("type") == "integer" and "maximum" not in schema:
        yield where
    for name, field in schema.get("properties", {}).items():
        yield from _unbounded_integers(document, field, f"{where}.{name}")
    if "items" in schema:
        yield from _unbounded_integers(document, schema["items"], f"{where}[]")
    for option in schema.get("anyOf", []):
        yield from _unbounded_integers(document, option, where)


def test_every_error_response_is_our_error_body(document: dict[str, Any]) -> None:
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for name, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400 and name != "GET /healthz":
                assert response["content"]["application/json"]["schema"] == error, (name, status)
                assert response["x-error-codes"], (name, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_routes_behind_a_session_say_so_and_document_401(document: dict[str, Any]) -> None:
    public = {
        "GET /healthz",
        "GET /v1/server/keys",
        "POST /v1/takedown",
        "POST /v1/takedown/challenge",
        "POST /v1/takedown/status",
    }
    for name, operation in _operations(document):
        if name.split(" ")[1].startswith("/v1/auth/") and name != "POST /v1/auth/logout":
            public.add(name)
        if name.split(" ")[1].startswith("/v1/anon/"):
            public.add(name)  # anonymous posting: a token, never a session (§38.4)
        if name in public:
            assert "security" not in operation, name
        else:
            assert operation["security"] == [{"bearer": []}], name
            assert "not_authenticated" in operation["responses"]["401"]["x-error-codes"], name


def test_every_integer_a_request_names_is_bounded(document: dict[str, Any]) -> None:
    """An unbounded integer reaches an INTEGER column and fails there as a 500 (found by the
    fuzz suite), so every integer in a request has a maximum the database can hold."""
    unbounded = []
    for name, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            where = f"{name} {parameter['in']}.{parameter['name']}"
            unbounded += _unbounded_integers(document, parameter["schema"], where)
        for media in operation.get("requestBody", {}).get("content", {}).values():
            unbounded += _unbounded_integers(document, media["schema"], f"{name} body")
    assert unbounded == []
