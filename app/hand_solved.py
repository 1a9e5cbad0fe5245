"""The hottest routes' parameters, solved by hand (issue 19).

FastAPI solves a route's parameters and dependencies with generic machinery: a walk of the
dependency tree with a cache key per dependency, an exit stack per generator, four passes
over the parameter kinds of every dependency. For a post that cost about a fifth of the
server's time (200 of 1,050 µs on SQLite), a thing a plain handler does not pay.

``HandSolved`` is a route whose dependencies are exactly the request's session and the
session check (``session: Session, caller: CurrentCaller``, or the caller alone), plus path
and query parameters and at most one JSON body. It declares them as every other route does,
so FastAPI still documents it (OpenAPI) and could still solve it, but its handler does the
same steps directly, in FastAPI's order and with FastAPI's own parameter validation
(``request_params_to_args``, ``request_body_to_args``), so a refusal is the same refusal:

1. the JSON body is read and parsed (a syntax error is refused before anything else);
2. the request's session is opened (``request_session``) and the caller checked
   (``check_caller``: the same rule, in ``accounts.service``, read on every request);
3. path, query and body parameters are validated, their errors refused together;
4. the endpoint runs; the session commits, or rolls back on any error, before the answer.

A route that names only the caller (``GET /v1/me``) has nothing but the check to do in the
database: its session is the one-statement kind (``make_session_factory(one_statement=…)``,
autocommit on PostgreSQL) and a read ends its transaction with the check, so the request
makes one database step. Such a route must be a read.

The shape is checked when the route is built (anything else is a ``TypeError``), the
endpoint must answer a ``Response`` (it writes its own JSON), and with a dependency override
in place (tests of FastAPI's own machinery) the route falls back to FastAPI's solving. A
test sends the same requests, refusals included, to both handlers and compares the answers
byte for byte (tests/test_hand_solved.py).
"""

import inspect
import json
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_body_to_args, request_params_to_args
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.routing import APIRoute
from pydantic_core import PydanticUndefined

from app.deps import check_caller, current_caller, get_session, request_session

F = TypeVar("F", bound=Callable[..., Any])
Handler = Callable[[Request], Coroutine[Any, Any, Response]]

_READS = {"GET", "HEAD"}


def hand_solved(endpoint: F) -> F:
    """Mark ``endpoint`` to be added as a ``HandSolved`` route (``app.main`` does)."""
    endpoint.hand_solved = True  # type: ignore[attr-defined]
    return endpoint


def is_hand_solved(endpoint: Callable[..., Any]) -> bool:
    return bool(getattr(endpoint, "hand_solved", False))


class HandSolved(APIRoute):
    """A route whose parameters are solved by ``_handler`` instead of FastAPI's
    ``solve_dependencies`` (see the module's docstring)."""

    def get_route_handler(self) -> Handler:
        generic = super().get_route_handler()
        return _handler(self.dependant, self.methods or set(), generic, self._embed_body_fields)


def _handler(
    dependant: Dependant, methods: set[str], generic: Handler, embed_body_fields: bool
) -> Handler:
    names = _check_shape(dependant, methods, embed_body_fields)
    session_name, caller_name = names
    call = dependant.call
    assert call is not None
    request_name = dependant.request_param_name
    path_params, query_params = dependant.path_params, dependant.query_params
    body_params = dependant.body_params

    async def handle(request: Request) -> Response:
        if request.app.dependency_overrides:
            return await generic(request)
        body = await _json_body(request) if body_params else PydanticUndefined
        state = request.app.state
        factory = None if session_name is not None else state.check_factory
        release = session_name is None and not state.queries_on_loop
        async with request_session(request, factory) as session:
            caller = await check_caller(request, session, release=release)
            values, errors = request_params_to_args(path_params, request.path_params)
            if query_params:
                found, more = request_params_to_args(query_params, request.query_params)
                values.update(found)
                errors += more
            if body_params:
                found, more = await request_body_to_args(
                    body_fields=body_params, received_body=body, embed_body_fields=False
                )
                values.update(found)
                errors += more
            if errors:
                raise RequestValidationError(errors, body=body)
            values[caller_name] = caller
            if session_name is not None:
                values[session_name] = session
            if request_name is not None:
                values[request_name] = request
            response = await call(**values)
        if not isinstance(response, Response):
            raise TypeError(f"{call.__name__} must answer a Response")
        return response

    return handle


def _check_shape(
    dependant: Dependant, methods: set[str], embed_body_fields: bool
) -> tuple[str | None, str]:
    """The session's and the caller's parameter names (the session's None when the route
    names only the caller); a ``TypeError`` for a route this handler cannot solve as
    FastAPI would."""
    call = dependant.call
    where = getattr(call, "__name__", repr(call))
    subs = [(sub.call, sub.name) for sub in dependant.dependencies]
    if subs and subs[0][0] is get_session and len(subs) == 2 and subs[1][0] is current_caller:
        session_name, caller_name = subs[0][1], subs[1][1]
    elif len(subs) == 1 and subs[0][0] is current_caller:
        session_name, caller_name = None, subs[0][1]
        if methods - _READS:
            raise TypeError(f"{where}: a route without its own session is a read")
    else:
        raise TypeError(f"{where}: hand-solved routes take the session and the caller only")
    if caller_name is None:
        raise TypeError(f"{where}: the caller must be a parameter")
    unsupported = (
        dependant.header_params,
        dependant.cookie_params,
        dependant.http_connection_param_name,
        dependant.websocket_param_name,
        dependant.response_param_name,
        dependant.background_tasks_param_name,
        dependant.security_scopes_param_name,
        embed_body_fields or len(dependant.body_params) > 1,
    )
    if any(unsupported):
        raise TypeError(f"{where}: a parameter kind hand-solved routes do not take")
    if not inspect.iscoroutinefunction(call):
        raise TypeError(f"{where}: hand-solved endpoints are async")
    return session_name, caller_name


async def _json_body(request: Request) -> Any:
    """The body as FastAPI reads one for a JSON body parameter: nothing (missing) when
    empty, the parsed document for a JSON media type (the request guard has refused any
    other on a body), the raw bytes otherwise; a syntax error refused as FastAPI refuses it
    (``422``), and a body that is not UTF-8 as FastAPI's ``400`` (``app.errors`` answers it
    as a 422 too)."""
    raw = await request.body()
    if not raw:
        return PydanticUndefined
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    json_media = media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )
    if not json_media:
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", exc.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": exc.msg},
                }
            ],
            body=exc.doc,
        ) from exc
    except Exception as exc:
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc
