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

import email.message
import inspect
import json
from collections.abc import Callable, Coroutine
from functools import lru_cache
from typing import Any, TypeVar

from fastapi import Request, Response, params
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_body_to_args, request_params_to_args
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.routing import APIRoute
from pydantic_core import PydanticUndefined

from app.deps import READ_METHODS, check_caller, current_caller, get_session, request_session

try:  # FastAPI 0.16x builds an included route's handler in a context of its own
    from fastapi.routing import _effective_route_context_var as _included_context
except ImportError:  # pragma: no cover - older FastAPI copies included routes instead
    _included_context = None  # type: ignore[assignment]

F = TypeVar("F", bound=Callable[..., Any])
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


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
        # Added through ``include_router``, FastAPI builds the handler for the including
        # router's context (its dependencies and options): check and solve that one.
        route: Any = self
        context = _included_context.get() if _included_context is not None else None
        if context is not None and context.original_route is self:
            route = context
        return _handler(route, generic)


def _handler(route: Any, generic: Handler) -> Handler:
    dependant: Dependant = route.dependant
    session_name, caller_name = _check_shape(route)
    call = dependant.call
    assert call is not None
    request_name = dependant.request_param_name
    path_params, query_params = dependant.path_params, dependant.query_params
    body_params = dependant.body_params
    check_only = session_name is None  # the check alone: a read, ended with the check

    async def handle(request: Request) -> Response:
        if request.app.dependency_overrides:
            return await generic(request)
        body = await _json_body(request) if body_params else None
        state = request.app.state
        async with request_session(request, state.check_factory if check_only else None) as session:
            if check_only:
                caller = await check_caller(request, session, release=not state.queries_on_loop)
            else:
                caller = await current_caller(request, session)
            values, errors = request_params_to_args(path_params, request.path_params)
            if query_params:
                found, more = request_params_to_args(query_params, request.query_params)
                values.update(found)
                errors += more
            if body_params:
                found, more = await request_body_to_args(
                    body_fields=body_params,
                    received_body=PydanticUndefined if body is None else body,
                    embed_body_fields=False,
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
            if not isinstance(response, Response):  # before the commit: nothing lands
                raise TypeError(f"{call.__name__} must answer a Response")
        return response

    return handle


def _check_shape(route: Any) -> tuple[str | None, str]:
    """The session's and the caller's parameter names (the session's None when the route
    names only the caller); a ``TypeError`` for a route this handler cannot solve as
    FastAPI would."""
    dependant: Dependant = route.dependant
    call = dependant.call
    where = getattr(call, "__name__", repr(call))
    subs = dependant.dependencies
    if len(subs) == 2 and subs[0].call is get_session and subs[1].call is current_caller:
        session, caller = subs
        if session.scope != "function" or not session.use_cache:
            # FastAPI would then open a second session, or end it after the answer.
            raise TypeError(f"{where}: the session must be the request's (``Session``)")
        session_name: str | None = session.name
    elif len(subs) == 1 and subs[0].call is current_caller:
        session_name, caller = None, subs[0]
        if set(route.methods or ()) - READ_METHODS:
            raise TypeError(f"{where}: a route without its own session is a read")
    else:
        raise TypeError(f"{where}: hand-solved routes take the session and the caller only")
    assert caller.name is not None  # a dependency the endpoint names is a parameter
    strict = route.strict_content_type  # as FastAPI resolves it: a default holds its value
    if isinstance(strict, DefaultPlaceholder):
        strict = strict.value
    unsupported = (
        dependant.header_params,
        dependant.cookie_params,
        dependant.http_connection_param_name,
        dependant.websocket_param_name,
        dependant.response_param_name,
        dependant.background_tasks_param_name,
        dependant.security_scopes_param_name,
        route._embed_body_fields or len(dependant.body_params) > 1,
        any(isinstance(f.field_info, params.Form) for f in dependant.body_params),
        strict is not True,
    )
    if any(unsupported):
        raise TypeError(f"{where}: a parameter kind hand-solved routes do not take")
    if not inspect.iscoroutinefunction(call):
        raise TypeError(f"{where}: hand-solved endpoints are async")
    answer = inspect.signature(call, eval_str=True).return_annotation
    if not (isinstance(answer, type) and issubclass(answer, Response)):
        raise TypeError(f"{where}: hand-solved endpoints answer a Response they wrote")
    return session_name, caller.name


@lru_cache(maxsize=64)
def _is_json_media(content_type: str) -> bool:
    """FastAPI's test of a JSON body's media type, word for word (``email.message``'s
    parsing, which turns a malformed type into ``text/plain``); cached, as the same few
    values come again and again."""
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


async def _json_body(request: Request) -> Any:
    """The body as FastAPI reads one for a JSON body parameter: None (missing) when empty,
    the parsed document for a JSON media type, the raw bytes otherwise (strict content
    types; the request guard refuses those before any route, but the answer would be
    FastAPI's all the same); a syntax error refused as FastAPI refuses it (``422``), and a
    body that is not UTF-8, or not readable, as FastAPI's ``400`` (``app.errors`` answers
    it as a 422)."""
    try:
        raw = await request.body()
        if not raw:
            return None
        content_type = request.headers.get("content-type")
        if not content_type or not _is_json_media(content_type):
            return raw
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
    except HTTPException:
        raise
    except Exception as exc:
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc
