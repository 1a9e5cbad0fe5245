"""The price of a takedown request (docs/protocol.md §31.7): a proof of work on a fresh
challenge from this server, at a work that rises with the circle's recent load, bound to the
one request it was made for; and requests capped at 4 KiB."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.testclient import TestClient

from app.accounts.tokens import keyed_hash
from app.client.errors import ProtocolError
from app.client.takedown import file_takedown
from app.crypto import b64decode, b64encode, labels
from app.crypto.proofs import SOLUTIONS, proof_seed, solve_proof
from app.crypto.reports import case_hash
from app.crypto.takedowns import MAX_REQUEST_BYTES, MAX_SEALED, check_takedown_fields
from app.settings import Settings
from tests.moderation.conftest import Desk, error_of


def _post(http: TestClient, body: dict[str, Any]) -> tuple[int, str | None]:
    return error_of(http.post("/v1/takedown", json=body))


def test_a_challenge_says_its_work_and_how_long_it_lasts(desk: Desk) -> None:
    answer = desk.challenge(desk.link())
    assert answer.status_code == 200
    got = answer.json()
    assert (len(b64decode(got["challenge"])), got["work"], got["solutions"]) == (77, 1, SOLUTIONS)
    expires = datetime.fromisoformat(got["expires_at"].replace("Z", "+00:00"))
    assert timedelta(seconds=590) < expires - datetime.now(UTC) <= timedelta(seconds=600)


def test_the_work_rises_with_the_circles_and_the_servers_recent_load(
    desk: Desk, make_app: Callable[..., FastAPI]
) -> None:
    app = make_app(takedown_work=1, takedown_circle_load_step=2, takedown_server_load_step=4)
    other = Desk(desk.world, desk.http, desk.person)
    other.cid = desk.world.frank.circles.create("Frank's circle").circle_id
    other.create_key(desk.world.frank)
    with TestClient(app) as http:
        works = []
        for _ in range(4):
            works.append(desk.challenge(desk.link(), http).json()["work"])
            body, _ = desk.takedown_body(desk.link(), http=http)
            assert _post(http, body) == (201, None)
        # 0, 1, 2, 3 requests: 1 + floor(n/2 + n/4).
        assert works == [1, 1, 2, 3]
        # Another circle pays only for the server's load: 1 + floor(0/2 + 4/4).
        assert other.challenge(other.link(), http).json()["work"] == 2


def test_a_challenge_from_before_the_work_doubled_is_refused_then_a_new_one_lands(
    desk: Desk, make_app: Callable[..., FastAPI], engine: Engine
) -> None:
    """Solutions bought cheaply before a flood cannot be spent during it."""
    app = make_app(takedown_circle_load_step=1, takedown_server_load_step=10**6)
    with TestClient(app) as http:
        early, _ = desk.takedown_body(desk.link(), http=http)  # at work 1
        for _ in range(2):  # the load rises to 2: work 1 + 2 = 3, more than twice 1
            body, _ = desk.takedown_body(desk.link(), http=http)
            assert _post(http, body) == (201, None)
        before = desk.counts(engine)
        assert _post(http, early) == (410, "challenge_expired")
        assert desk.counts(engine) == before
        again, _ = desk.takedown_body(desk.link(), http=http)
        assert _post(http, again) == (201, None)


def _made_earlier(settings: Settings, circle_id: uuid.UUID, seconds_ago: int) -> bytes:
    """A challenge as this server would have made it ``seconds_ago`` (§31.7's layout)."""
    issued = int(datetime.now(UTC).timestamp()) - seconds_ago
    body = bytes([1]) + circle_id.bytes + issued.to_bytes(8, "big") + (1).to_bytes(4, "big")
    body += bytes(16)
    return body + keyed_hash(settings.server_key, labels.PERSON_PROOF_CHALLENGE, body)


def _with_challenge(desk: Desk, raw: bytes) -> dict[str, Any]:
    body, _ = desk.takedown_body(desk.link())
    sealed = b64decode(body["ciphertext"])
    seed = proof_seed(raw, uuid.UUID(body["case_id"]), case_hash(sealed))
    return body | {"proof": {"challenge": b64encode(raw), "nonces": solve_proof(seed, 1)}}


def test_a_challenge_lasts_ten_minutes(desk: Desk, settings: Settings, engine: Engine) -> None:
    before = desk.counts(engine)
    for seconds_ago, expected in (
        (601, (410, "challenge_expired")),
        (-60, (410, "challenge_expired")),
    ):
        body = _with_challenge(desk, _made_earlier(settings, desk.cid, seconds_ago))
        assert _post(desk.http, body) == expected, seconds_ago
    assert desk.counts(engine) == before
    assert _post(desk.http, _with_challenge(desk, _made_earlier(settings, desk.cid, 590))) == (
        201,
        None,
    )


def test_a_challenge_is_for_one_circle(desk: Desk) -> None:
    other = Desk(desk.world, desk.http, desk.person)
    other.cid = desk.world.frank.circles.create("Frank's circle").circle_id
    other.create_key(desk.world.frank)
    mine = desk.challenge(desk.link()).json()["challenge"]
    body, _ = other.takedown_body(other.link())
    sealed = b64decode(body["ciphertext"])
    seed = proof_seed(b64decode(mine), uuid.UUID(body["case_id"]), case_hash(sealed))
    body["proof"] = {"challenge": mine, "nonces": solve_proof(seed, 1)}
    assert _post(desk.http, body) == (422, "challenge_invalid")


@pytest.fixture
def costly(make_app: Callable[..., FastAPI]) -> FastAPI:
    """Work 16 per solution: a proof made for anything else meets it with odds 16^-8."""
    return make_app(takedown_work=16)


def test_a_proof_counts_for_its_own_request_only(
    desk: Desk, costly: FastAPI, engine: Engine
) -> None:
    with TestClient(costly) as http:
        body, _ = desk.takedown_body(desk.link(), http=http)
        other, _ = desk.takedown_body(desk.link(), http=http)
        before = desk.counts(engine)
        moved = {
            "another case id": body | {"case_id": str(uuid.uuid4())},
            "another ciphertext": body | {"ciphertext": other["ciphertext"]},
            "another challenge": body
            | {"proof": body["proof"] | {"challenge": other["proof"]["challenge"]}},
            "another request's nonces": body
            | {"proof": body["proof"] | {"nonces": other["proof"]["nonces"]}},
            "the first eight nonces": body | {"proof": body["proof"] | {"nonces": list(range(8))}},
        }
        for name, changed in moved.items():
            assert _post(http, changed) == (422, "proof_invalid"), name
        assert desk.counts(engine) == before
        assert _post(http, body) == (201, None)
        assert _post(http, body) == (409, "case_exists")  # nor twice


def test_requests_are_at_most_4_kib_and_the_client_says_so_before_any_work(
    desk: Desk, http: TestClient
) -> None:
    fits = "x" * (MAX_REQUEST_BYTES - 157)  # 157 bytes: the fields' names, ids, name "J"
    check_takedown_fields("J", "", fits)
    with pytest.raises(Exception, match="1 bytes too long"):
        check_takedown_fields("J", "", fits + "x")
    sent: list[str] = []

    def forward(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        answer = http.request(
            request.method, str(request.url), content=request.content, headers=request.headers
        )
        return httpx.Response(answer.status_code, content=answer.content)

    with pytest.raises(ProtocolError) as caught:
        file_takedown(
            str(desk.link()),
            name="J",
            contact="",
            text="ü" * 2000,  # 2000 characters, 4000 bytes
            http=httpx.Client(transport=httpx.MockTransport(forward)),
        )
    assert caught.value.code == "bad_takedown" and "too long" in caught.value.message
    assert sent == []
    # The most a request can take is what the server takes.
    filed = file_takedown(
        str(desk.link()),
        name="J",
        contact="",
        text=fits,
        http=httpx.Client(transport=httpx.MockTransport(forward)),
    )
    case = desk.case(uuid.UUID(filed["case_id"]))
    assert len(b64decode(case["ciphertext"])) == MAX_SEALED


def test_the_sdk_solves_a_fresh_challenge_when_the_circle_got_busier(
    desk: Desk, make_app: Callable[..., FastAPI]
) -> None:
    app = make_app(takedown_circle_load_step=1, takedown_server_load_step=10**6)
    sent: list[tuple[str, int]] = []
    with TestClient(app) as http:

        def forward(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/v1/takedown" and sent[-1:] != [("/v1/takedown", 410)]:
                for _ in range(2):  # meanwhile, others file: the work triples
                    body, _ = desk.takedown_body(desk.link(), http=http)
                    assert _post(http, body) == (201, None)
            answer = http.request(
                request.method, str(request.url), content=request.content, headers=request.headers
            )
            sent.append((request.url.path, answer.status_code))
            return httpx.Response(answer.status_code, content=answer.content)

        filed = file_takedown(
            str(desk.link()),
            name="Jan",
            contact="",
            text="Please look at it.",
            http=httpx.Client(transport=httpx.MockTransport(forward)),
        )
    assert filed["status"] == "open"
    assert sent == [
        ("/v1/takedown/challenge", 200),
        ("/v1/takedown", 410),
        ("/v1/takedown/challenge", 200),
        ("/v1/takedown", 201),
    ]
