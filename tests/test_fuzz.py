"""Schemathesis over every operation in the OpenAPI document, in-process against the ASGI app.

Each operation gets schema-valid and schema-violating requests (examples, coverage and
fuzzing phases; positive and negative data) as alice, who owns a circle with members, an
entry, an invite and a moderation case, so requests reach the services, not only 404s.
The checks:

- no 5xx;
- every response has a documented status code, media type and body schema;
- every 4xx carries our error body, ``{"error": {"code": ..., "message": ...}}``;
- no success for a request the schema forbids (a boolean where an integer belongs, ...);
- no success without the session for an operation that declares one.

The default run is derandomized, so every run (local or CI) sends the same requests.
``BACKCHANNEL_FUZZ_SEED=N`` explores with seed N instead, and ``BACKCHANNEL_FUZZ_EXAMPLES``
raises the number of fuzzed requests per operation (docs/operations.md, "Testing").
"""

import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import BaseSchema
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from app.client.sdk import Client
from app.settings import Settings
from tests.conftest import PASSPHRASES, Person, World, make_settings
from tests.moderation.conftest import Desk

SEED = os.environ.get("BACKCHANNEL_FUZZ_SEED")
MAX_EXAMPLES = int(os.environ.get("BACKCHANNEL_FUZZ_EXAMPLES", "10"))
ERROR_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# One fuzzing client fails thousands of credential checks (and may register) from one
# address; the limits have their own tests, and here they would lock alice out.
UNLIMITED = {
    name: 10**9
    for name in (
        "login_pair_limit",
        "login_account_limit",
        "login_address_limit",
        "registration_address_limit",
        "registration_server_limit",
    )
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, **UNLIMITED)


@dataclass(frozen=True)
class Targets:
    """Ids that exist, offered for the path parameters of the same name."""

    circle_id: uuid.UUID
    entry_id: uuid.UUID
    case_id: uuid.UUID
    invite_id: uuid.UUID

    def path_values(self) -> dict[str, list[str]]:
        return {
            "circle_id": [str(self.circle_id)],
            "entry_id": [str(self.entry_id)],
            "case_id": [str(self.case_id)],
            "invite_id": [str(self.invite_id)],
            # a member, an admin, the pending and the removed one, and alice herself
            "username": ["bob", "carol", "dave", "erin", "alice"],
        }


@pytest.fixture
def targets(world: World, http: TestClient, person: Callable[[str], Person]) -> Targets:
    """alice's circle (members in every state, see ``World``) with a moderation key, bob's
    entry, carol's report of it and an open invite."""
    desk = Desk(world, http, person)
    desk.create_key()
    entry_id = desk.post_entry(world.bob)
    case_id = desk.report(world.carol, entry_id)
    invite, _ = world.alice.circles.create_invite(world.circle_id)
    return Targets(world.circle_id, entry_id, case_id, invite.invite_id)


def _plausible(name: str, value: Any) -> bool:
    """Whether a generated path value is schema-valid, so swapping in a real id keeps the
    case's intent (a negative case keeps its invalid value)."""
    if not isinstance(value, str):
        return False
    if name == "username":
        return len(value) <= 64
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@pytest.fixture
def api_schema(
    app: FastAPI,
    settings: Settings,
    world: World,
    targets: Targets,
    make_client: Callable[..., Client],
) -> Iterator[BaseSchema]:
    sqlite = settings.database_url.startswith("sqlite")
    config = schemathesis.Config.from_dict(
        {
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
            "phases": {
                "coverage": {
                    # Schema-violating boundary cases are refused by validation alike on both
                    # engines; on PostgreSQL only the valid ones (its integer and text limits).
                    "generation": {"mode": "all" if sqlite else "positive"},
                    # Every method outside the document gets the same 405; two stand for all.
                    "unexpected-methods": ["post", "delete"],
                },
                "stateful": {"enabled": False},
            },
            # Refused is refused: a too-large body (413) or a gone invite (410) counts too.
            "checks": {"negative_data_rejection": {"expected-statuses": ["4xx"]}},
        }
    )
    if SEED is not None:
        config.update(seed=int(SEED), max_failures=None)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    token = world.alice.client.token

    @schema.auth(refresh_interval=None)
    class AliceSession:
        """Every request is alice's (registered and logged in through the real API by
        ``World``); logout ends a new session of its own, so hers lives on."""

        def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str | None:
            if context.operation.path == "/v1/auth/logout":
                return make_client().login("alice", PASSPHRASES["alice"]).token
            return token

        def set(
            self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext
        ) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    pools = targets.path_values()

    @schema.hook
    def flatmap_path_parameters(
        context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
    ) -> st.SearchStrategy[dict[str, Any] | None]:
        """Offer ids that exist next to the generated ones, so requests pass the 404s."""
        if not path_parameters:
            return st.just(path_parameters)
        return st.fixed_dictionaries(
            {
                name: st.sampled_from([value, *pools.get(name, [])])
                if _plausible(name, value)
                else st.just(value)
                for name, value in path_parameters.items()
            }
        )

    yield schema
    shutdown_lifespans()  # the app's lifespan, which schemathesis started


@schemathesis.check
def error_body(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Every 4xx is our error shape with a stable code, whatever the document says."""
    if not 400 <= response.status_code < 500:
        return
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"code", "message"}, body
    assert isinstance(error["code"], str) and ERROR_CODE.match(error["code"]), body
    assert isinstance(error["message"], str) and error["message"], body


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,  # a request that succeeded is sent again without the session: 401
    error_body,
]


# A live update stream does not end while the session holds, so an in-process call waits
# out the client's timeout; tests/circles/test_events.py covers it over a live server.
schema = schemathesis.pytest.from_fixture("api_schema").exclude(path="/v1/events")


@schema.parametrize()
@hypothesis_settings(
    derandomize=SEED is None,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
