"""The moderation side of the world, built with ``app.crypto.moderation`` and sent over HTTP.

``Desk`` makes the payloads a client would make (moderation key records and wraps,
sealed reports, takedown requests, signed decisions) and sends them through the
real ASGI app. ``*_body`` methods return a request without sending it, so tests can
spoil one field and check the refusal.
"""

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.circles.models import MembershipEvent
from app.client.entries import Entries
from app.crypto import b64decode, b64encode
from app.crypto.decisions import (
    Decision,
    blob_hash,
    seal_decision_note,
)
from app.crypto.entries import ENTRY, Envelope, EnvelopeContext, Opened, open_envelope
from app.crypto.moderation import (
    ModerationKey,
    ModerationKeyRecord,
    open_moderation_wrap,
    seal_moderation_wrap,
    seal_previous_moderation_key,
)
from app.crypto.proofs import proof_seed, solve_proof
from app.crypto.reports import (
    Report,
    case_hash,
    seal_report,
)
from app.crypto.takedowns import (
    Receipt,
    TakedownLink,
    TakedownRequest,
    seal_response,
    seal_takedown,
)
from app.moderation.models import Case, DecisionRow, ModerationKeyRow, ModerationWrap
from tests.conftest import Person, World

BASE_URL = "http://testserver"


def headers(person: Person | None) -> dict[str, str]:
    return {} if person is None else {"Authorization": f"Bearer {person.client.token}"}


def error_of(response: httpx.Response) -> tuple[int, str | None]:
    """(status, error code) of a response; the code is None on success."""
    if response.status_code < 400:
        return response.status_code, None
    return response.status_code, response.json()["error"]["code"]


class Desk:
    """A world whose admins run moderation: alice owns the circle, carol is its other admin."""

    def __init__(self, world: World, http: TestClient, person: Callable[[str], Person]) -> None:
        self.world = world
        self.http = http
        self.person = person
        self.cid = world.circle_id
        self.keys: dict[int, ModerationKey] = {}
        self.records: dict[int, ModerationKeyRecord] = {}

    # -- transport -------------------------------------------------------------------

    def call(
        self,
        person: Person | None,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
    ) -> httpx.Response:
        response: httpx.Response = self.http.request(
            method, path, headers=headers(person), json=json, params=params
        )
        return response

    def ok(self, person: Person | None, method: str, path: str, **kw: Any) -> Any:
        response = self.call(person, method, path, **kw)
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json()

    def add_member(self, name: str) -> Person:
        """A new plain member, invited and confirmed by alice."""
        joiner = self.person(name)
        invite, _ = self.world.alice.circles.create_invite(self.cid, role="member")
        joiner.circles.join(str(invite))
        self.world.alice.circles.confirm(self.cid, name, fingerprint=joiner.fingerprint)
        return joiner

    # -- moderation keys ---------------------------------------------------------------

    def key_body(
        self,
        by: Person,
        *,
        key: ModerationKey | None = None,
        generation: int | None = None,
        mutate: Callable[[ModerationKeyRecord], ModerationKeyRecord] | None = None,
        wrap_to: list[str] | None = None,
        signer: Person | None = None,
    ) -> tuple[dict[str, Any], ModerationKey, ModerationKeyRecord]:
        """A moderation key generation for the circle's current admins, as ``by`` makes it."""
        generation = len(self.keys) if generation is None else generation
        key = key or ModerationKey.generate()
        circle = by.circles.sync(self.cid)
        previous = self.records.get(generation - 1)
        record = ModerationKeyRecord.for_key_record(
            circle.record,
            key=key,
            generation=generation,
            prev=None if previous is None else previous.hash(),
            signer=by.name,
        )
        if mutate is not None:
            record = mutate(record)
        members = {m.username: m for m in by.circles.members(self.cid)}
        names = wrap_to if wrap_to is not None else [a.user for a in record.admins]
        wraps = [
            {
                "username": name,
                "wrap": b64encode(
                    seal_moderation_wrap(
                        key,
                        circle_id=self.cid,
                        generation=generation,
                        recipient=members[name].identity.x25519_public,
                    )
                ),
            }
            for name in names
        ]
        body: dict[str, Any] = {
            "generation": generation,
            "record": record.to_bytes().decode(),
            "signature": b64encode(record.sign((signer or by).account.identity)),
            "wraps": wraps,
        }
        if generation > 0 and generation - 1 in self.keys:
            body["prev_key_box"] = b64encode(
                seal_previous_moderation_key(
                    key, self.keys[generation - 1], circle_id=self.cid, generation=generation
                )
            )
        return body, key, record

    def create_key(self, by: Person | None = None) -> ModerationKey:
        body, key, record = self.key_body(by or self.world.alice)
        self.ok(
            by or self.world.alice, "POST", f"/v1/circles/{self.cid}/moderation/keys", json=body
        )
        self.keys[record.generation] = key
        self.records[record.generation] = record
        return key

    def admin_key(self, admin: Person, generation: int = 0) -> ModerationKey:
        """The key as an admin gets it: their own wrap from the API, checked against the record."""
        rows = self.ok(admin, "GET", f"/v1/circles/{self.cid}/moderation/keys")
        row = next(r for r in rows if r["generation"] == generation)
        record = ModerationKeyRecord.parse(row["record"].encode())
        return open_moderation_wrap(
            b64decode(row["wrap"]),
            circle_id=self.cid,
            generation=generation,
            identity=admin.account.identity,
            expected_public=record.public_key,
        )

    @property
    def generation(self) -> int:
        return max(self.keys)

    # -- entries -------------------------------------------------------------------

    def post_entry(self, author: Person | None = None, **fields: Any) -> uuid.UUID:
        values: dict[str, Any] = {
            "subject": "Jan Novák",
            "text": "He cornered me at the wrap party",
            "categories": ["harassment"],
        }
        values.update(fields)
        result = Entries((author or self.world.bob).circles).post(self.cid, **values)
        return uuid.UUID(result["entry_id"])

    def entry_row(self, reader: Person, entry_id: uuid.UUID) -> dict[str, Any]:
        detail: dict[str, Any] = self.ok(
            reader, "GET", f"/v1/circles/{self.cid}/entries/{entry_id}"
        )
        return detail

    def reveal(self, reader: Person, entry_id: uuid.UUID) -> Opened:
        """What a member decrypts and reveals when reporting: the body and its opening."""
        row = self.entry_row(reader, entry_id)["entry"]
        circle = reader.circles.sync(self.cid)
        envelope = Envelope(
            *(
                b64decode(row[f])
                for f in ("author_key", "commitment", "nonce", "ciphertext", "signature")
            )
        )
        context = EnvelopeContext(ENTRY, self.cid, row["epoch"], entry_id)
        return open_envelope(envelope, keys=circle.keys, context=context)

    # -- reports -------------------------------------------------------------------

    def report_body(
        self,
        reporter: Person,
        entry_id: uuid.UUID,
        *,
        reason: str = "harassment",
        note: str = "please look at this",
        case_id: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        case_id = case_id or uuid.uuid4()
        opened = self.reveal(reporter, entry_id)
        report = Report(
            self.cid,
            case_id,
            entry_id,
            reporter.name,
            reason,
            note,
            opened.body_bytes,
            opened.opening,
        )
        ciphertext = seal_report(
            report,
            identity=reporter.account.identity,
            public_key=self.records[self.generation].public_key,
            generation=self.generation,
        )
        return {
            "case_id": str(case_id),
            "entry_id": str(entry_id),
            "generation": self.generation,
            "ciphertext": b64encode(ciphertext),
        }

    def report(self, reporter: Person, entry_id: uuid.UUID, **kw: Any) -> uuid.UUID:
        body = self.report_body(reporter, entry_id, **kw)
        self.ok(reporter, "POST", f"/v1/circles/{self.cid}/reports", json=body)
        return uuid.UUID(body["case_id"])

    # -- takedown requests (no account) ----------------------------------------------

    def link(self, generation: int | None = None) -> TakedownLink:
        generation = self.generation if generation is None else generation
        return TakedownLink(BASE_URL, self.cid, generation, self.records[generation].public_key)

    def challenge(self, link: TakedownLink, http: TestClient | None = None) -> httpx.Response:
        response: httpx.Response = (http or self.http).post(
            "/v1/takedown/challenge",
            json={
                "circle_id": str(link.circle_id),
                "generation": link.generation,
                "moderation_key": b64encode(link.public_key),
            },
        )
        return response

    def takedown_body(
        self,
        link: TakedownLink,
        *,
        name: str = "Jan Novák",
        contact: str = "jan@example.org",
        text: str = "The warning about me is false.",
        http: TestClient | None = None,
    ) -> tuple[dict[str, Any], Receipt]:
        """A request as the SDK files it, with a proof on a fresh challenge for ``link``
        (a link the server refuses gets no challenge: then a proof of nothing)."""
        receipt = Receipt.create(link)
        request = TakedownRequest(link.circle_id, receipt.case_id, name, contact, text)
        sealed = seal_takedown(request, receipt)
        body = {
            "circle_id": str(link.circle_id),
            "case_id": str(receipt.case_id),
            "generation": link.generation,
            "moderation_key": b64encode(link.public_key),
            "receipt_key": b64encode(receipt.public_key),
            "receipt_token": b64encode(receipt.token),
            "ciphertext": b64encode(sealed),
            "proof": {"challenge": b64encode(bytes(77)), "nonces": list(range(8))},
        }
        challenge = self.challenge(link, http)
        if challenge.status_code == 200:
            raw, work = b64decode(challenge.json()["challenge"]), challenge.json()["work"]
            nonces = solve_proof(proof_seed(raw, receipt.case_id, case_hash(sealed)), work)
            body["proof"] = {"challenge": challenge.json()["challenge"], "nonces": nonces}
        return body, receipt

    def takedown(self, link: TakedownLink | None = None, **kw: Any) -> Receipt:
        body, receipt = self.takedown_body(link or self.link(), **kw)
        self.ok(None, "POST", "/v1/takedown", json=body)
        return receipt

    def status(self, receipt: Receipt) -> httpx.Response:
        return self.call(
            None,
            "POST",
            "/v1/takedown/status",
            json={"case_id": str(receipt.case_id), "receipt_token": b64encode(receipt.token)},
        )

    # -- cases and decisions -----------------------------------------------------------

    def case(self, case_id: uuid.UUID, admin: Person | None = None) -> dict[str, Any]:
        path = f"/v1/circles/{self.cid}/moderation/cases/{case_id}"
        case: dict[str, Any] = self.ok(admin or self.world.carol, "GET", path)
        return case

    def decision_body(
        self,
        case_id: uuid.UUID,
        action: str,
        /,
        *,
        admin: Person | None = None,
        entry_id: uuid.UUID | str | None = "case",
        reason: str = "reviewed by the admins",
        response: str | None = None,
        **changes: Any,
    ) -> dict[str, Any]:
        """A decision signed by ``admin`` that follows the case's last one; its note is sealed
        to the newest moderation key generation.

        ``entry_id="case"`` acts on the reported entry; ``changes`` override decision fields
        before signing (``signer_identity`` signs with someone else's key).
        """
        admin = admin or self.world.carol
        case = self.case(case_id, admin)
        note = seal_decision_note(
            reason,
            public_key=self.records[self.generation].public_key,
            circle_id=self.cid,
            case_id=case_id,
            generation=self.generation,
        )
        sealed_response = None
        if response is not None:  # to the requester, under the generation they wrote to
            sealed_response = seal_response(
                response,
                key=self.keys[case["generation"]],
                receipt_public=b64decode(case["receipt_key"]),
                circle_id=self.cid,
                case_id=case_id,
                generation=case["generation"],
            )
        last = case["decisions"][-1] if case["decisions"] else None
        if entry_id == "case":
            entry_id = None if case["entry_id"] is None else uuid.UUID(case["entry_id"])
        fields: dict[str, Any] = {
            "circle_id": self.cid,
            "case_id": case_id,
            "seq": len(case["decisions"]),
            "action": action,
            "entry_id": entry_id,
            "case_hash": b64decode(case["case_hash"]),
            "generation": self.generation,
            "note_hash": blob_hash(note),
            "response_hash": None if sealed_response is None else blob_hash(sealed_response),
            "prev": None if last is None else Decision.parse(last["decision"].encode()).hash(),
            "signer": admin.name,
        }
        signer_identity = changes.pop("signer_identity", admin.account.identity)
        fields.update(changes)
        decision = Decision(**fields)
        return {
            "decision": decision.to_bytes().decode(),
            "signature": b64encode(decision.sign(signer_identity)),
            "note": b64encode(note),
            "response": None if sealed_response is None else b64encode(sealed_response),
        }

    def decide_call(
        self, case_id: uuid.UUID, body: dict[str, Any], admin: Person | None = None
    ) -> httpx.Response:
        path = f"/v1/circles/{self.cid}/moderation/cases/{case_id}/decisions"
        return self.call(admin or self.world.carol, "POST", path, json=body)

    def decide(
        self, case_id: uuid.UUID, action: str, admin: Person | None = None, **kw: Any
    ) -> dict[str, Any]:
        body = self.decision_body(case_id, action, admin=admin, **kw)
        response = self.decide_call(case_id, body, admin)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    # -- what is stored ------------------------------------------------------------------

    def counts(self, engine: Engine) -> dict[str, int]:
        """Rows of every moderation table and of the audit log: refusals leave them alone."""
        with Session(engine) as session:
            return {
                model.__name__: int(session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (ModerationKeyRow, ModerationWrap, Case, DecisionRow, MembershipEvent)
            }


@pytest.fixture
def desk_without_key(world: World, http: TestClient, person: Callable[[str], Person]) -> Desk:
    """The world before any admin has made a moderation key."""
    return Desk(world, http, person)


@pytest.fixture
def desk(desk_without_key: Desk) -> Desk:
    """The world with moderation key generation 0, made by alice for alice and carol."""
    desk_without_key.create_key()
    return desk_without_key
