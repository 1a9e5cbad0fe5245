"""The OpenAPI document: what FastAPI derives from the routes, plus every refusal they give.

FastAPI documents a route's success and a 422 in its own shape (``{"detail": [...]}``); our
refusals are ``{"error": {"code", "message"}}`` (app/errors.py), with more statuses. Each
domain router lists its own errors with ``error_responses``; the refusals that depend only on
how a route is built are added here from its dependencies and parameters: a missing or ended
session (401), the request guard's 413 and 415, schema errors (422), a busy Argon2 pool or an
unreachable database (503), and a path parameter that makes the path match no route (404).
"""

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

from app.deps import argon2_slot, current_caller, get_session
from app.errors import (
    BackchannelError,
    DatabaseUnavailable,
    InvalidRequest,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    ServerBusy,
    UnsupportedMediaType,
)

# The stable codes a documented error status carries, as an OpenAPI extension.
ERROR_CODES = "x-error-codes"
BEARER = "bearer"
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorOut"}


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable: clients branch on it.")
    message: str = Field(min_length=1, description="For people; never echoes submitted values.")


class ErrorOut(BaseModel):
    """The body of every 4xx and 5xx response."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


def error_responses(*errors: type[BackchannelError]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a router or a route: each status its errors give, with their codes."""
    codes: dict[int, set[str]] = defaultdict(set)
    for error in errors:
        codes[error.status_code].add(error.code)
    return {
        status: {"model": ErrorOut, "description": _describe(found), ERROR_CODES: sorted(found)}
        for status, found in sorted(codes.items())
    }


def _describe(codes: set[str]) -> str:
    return "Refused: " + ", ".join(f"`{code}`" for code in sorted(codes))


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _calls(route: RouteContext) -> set[Callable[..., Any]]:
    """The dependencies the route runs (a ``HandSolved`` route runs the same, by hand)."""
    return {d.call for d in _dependants(route.dependant) if d.call is not None}


def _has_parameters(route: RouteContext) -> bool:
    return route.body_field is not None or any(
        d.path_params or d.query_params or d.header_params or d.cookie_params
        for d in _dependants(route.dependant)
    )


def shared_errors(route: RouteContext) -> list[type[BackchannelError]]:
    """The refusals that follow from how the route is built, whatever its domain."""
    calls = _calls(route)
    errors: list[type[BackchannelError]] = []
    if current_caller in calls:
        errors.append(NotAuthenticated)  # SessionEnded shares the code
    if (route.methods or set()) & _BODY_METHODS:  # app/guard.py runs before routing
        errors += [PayloadTooLarge, UnsupportedMediaType]
    if _has_parameters(route):
        errors.append(InvalidRequest)
    if argon2_slot in calls:
        errors.append(ServerBusy)
    if get_session in calls:
        errors.append(DatabaseUnavailable)
    if route.dependant.path_params:  # an empty value or one with "/" matches no route
        errors.append(NotFound)
    return errors


def _error_schemas() -> dict[str, Any]:
    schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions: dict[str, Any] = schema.pop("$defs", {})
    return {**definitions, "ErrorOut": schema}


def _document(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 body, not ours
        schemas.pop(name, None)
    schemas.update(_error_schemas())
    components["securitySchemes"] = {BEARER: {"type": "http", "scheme": "bearer"}}
    for route in iter_route_contexts(app.routes):  # routes of included routers too
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        shared = shared_errors(route)
        for method in route.methods or ():
            operation = document["paths"][route.path_format][method.lower()]
            operation["responses"].pop("422", None)  # FastAPI's; InvalidRequest's replaces it
            _add_errors(operation["responses"], shared)
            if NotAuthenticated in shared:
                operation["security"] = [{BEARER: []}]
    return document


def _add_errors(responses: dict[str, Any], shared: list[type[BackchannelError]]) -> None:
    codes: dict[str, set[str]] = defaultdict(set)
    for status, response in responses.items():
        if ERROR_CODES in response:
            codes[status].update(response[ERROR_CODES])
    for error in shared:
        codes[str(error.status_code)].add(error.code)
    for status, found in codes.items():
        responses[status] = {
            "description": _describe(found),
            "content": {"application/json": {"schema": _ERROR_SCHEMA}},
            ERROR_CODES: sorted(found),
        }


def install_openapi(app: FastAPI) -> None:
    """Serve the document with our error responses (built once, on the first request)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            app.openapi_schema = _document(app, build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
