"""A malicious server: the real app behind a proxy that rewrites its answers.

Every SDK client the fixtures make (``world``'s people too) talks to the app through
``MaliciousServer``. Inside ``with server.attack(rule, code):`` each answer passes through
``rule(request, real_answer)``, which returns a forged answer or None to pass it on, and the
block must fail with exactly that error code; ``server.sent`` lists what the clients sent
meanwhile, so a test can check that nothing (a derived key, a rotation, a report) went out.
"""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from app.client.errors import ClientError, ProtocolError
from app.client.sdk import Client
from app.client.trust import CirclePin
from tests.conftest import Person

BASE_URL = "http://testserver"
Rule = Callable[[httpx.Request, httpx.Response], httpx.Response | None]


class MaliciousServer:
    def __init__(self, app: TestClient) -> None:
        self.app = app
        self.rules: list[Rule] = []
        self.sent: list[tuple[str, str]] = []

    def http(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self._forward))

    def _forward(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        real = self.app.request(
            request.method, str(request.url), content=request.content, headers=request.headers
        )
        answer = httpx.Response(
            real.status_code,
            content=real.content,
            headers={"content-type": real.headers.get("content-type", "application/json")},
        )
        for rule in self.rules:
            forged = rule(request, answer)
            if forged is not None:
                return forged
        return answer

    @contextmanager
    def attack(
        self, rule: Rule, code: str, kind: type[ClientError] = ProtocolError
    ) -> Iterator[None]:
        """Serve ``rule`` during the block, which must fail with exactly ``kind`` and ``code``."""
        self.rules.append(rule)
        self.sent.clear()
        try:
            with pytest.raises(ClientError) as caught:
                yield
        finally:
            self.rules.remove(rule)
        assert type(caught.value) is kind, caught.value
        assert caught.value.code == code, caught.value


def on(method: str, path: str, edit: Callable[[Any, httpx.Request], Any]) -> Rule:
    """Answer ``method path`` (a regex over the whole path) with ``edit(real JSON, request)``;
    an ``edit`` that returns None changed the JSON in place."""
    pattern = re.compile(path)

    def rule(request: httpx.Request, answer: httpx.Response) -> httpx.Response | None:
        if request.method != method or not pattern.fullmatch(request.url.path):
            return None
        body = answer.json()
        forged = edit(body, request)
        return httpx.Response(answer.status_code, json=body if forged is None else forged)

    return rule


def pins(person: Person) -> dict[str, dict[str, Any]]:
    """What a person's device trusts about its circles (unpinned placeholders left out)."""
    return {
        circle: asdict(pin)
        for circle, pin in person.circles.trust.circles.items()
        if pin != CirclePin()
    }


@pytest.fixture
def server(http: TestClient) -> MaliciousServer:
    return MaliciousServer(http)


@pytest.fixture
def make_client(server: MaliciousServer) -> Callable[..., Client]:
    """Overrides the root fixture: every SDK client goes through the malicious server."""

    def factory(token: str | None = None) -> Client:
        return Client(BASE_URL, token=token, http=server.http())

    return factory
