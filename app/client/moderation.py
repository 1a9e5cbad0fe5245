"""Moderation for the SDK: the moderation key, reports, takedown requests and decisions.

Everything the server returns is verified here before it is shown or used:
moderation key records against the circle's newest verified key record,
reports against the reporter's key and the entry's commitment, decisions
against the deciding admin's key and the case's chain.
"""

import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from app.client.circles import Circles, VerifiedCircle, _protocol
from app.client.entries import Entries, _envelope
from app.client.errors import ApiError, ProtocolError
from app.client.sdk import Client
from app.crypto import CryptoError, PublicIdentity, b64decode, b64encode
from app.crypto.circles import ADMIN_ROLES, KeyRecord, load_json
from app.crypto.entries import ENTRY, EnvelopeContext, open_envelope, verify_commitment
from app.crypto.moderation import (
    ACTIONS,
    Decision,
    ModerationKey,
    ModerationKeyRecord,
    Receipt,
    Report,
    TakedownLink,
    TakedownRequest,
    blob_hash,
    case_hash,
    check_moderation_successor,
    check_report_fields,
    check_takedown_fields,
    open_decision_note,
    open_moderation_wrap,
    open_own_response,
    open_previous_moderation_key,
    open_report,
    open_response,
    open_takedown,
    seal_decision_note,
    seal_moderation_wrap,
    seal_previous_moderation_key,
    seal_report,
    seal_response,
    seal_takedown,
    verify_report,
)
from app.crypto.names import normalise_name

__all__ = ["Moderation", "ModerationState", "file_takedown", "takedown_status"]


@dataclass(frozen=True)
class ModerationState:
    """The circle's moderation key records, verified; ``current`` is None when there is none."""

    records: list[ModerationKeyRecord]
    rows: list[dict[str, Any]]
    stale: bool  # the newest generation is not made for the newest record's admins

    @property
    def current(self) -> ModerationKeyRecord | None:
        return self.records[-1] if self.records else None


class Moderation:
    """``entries`` reads and matches warnings (takedown candidates); pass the one holding
    this device's synced copy so a listing fetches only what changed."""

    def __init__(self, circles: Circles, *, entries: Entries | None = None) -> None:
        self.circles = circles
        self.client: Client = circles.client
        self.entries = entries if entries is not None else Entries(circles)
        self._identities: dict[tuple[str, str], PublicIdentity] = {}

    # -- the moderation key --------------------------------------------------------------

    def _listed_identity(
        self, circle: VerifiedCircle, username: str, *, admin: bool = False
    ) -> PublicIdentity | None:
        """Keys the newest signed record vouches for (as an admin, if asked); else None: the
        server alone says whose they are, so what they signed is shown as unverified."""
        listed = circle.record.member(username)
        if listed is None or (admin and listed.role not in ADMIN_ROLES):
            return None
        return self._identity(circle, username)

    def _identity(self, circle: VerifiedCircle, username: str) -> PublicIdentity:
        """Someone's keys: checked against the newest record's fingerprint when it lists them."""
        cache = (str(circle.circle_id), username)
        if cache not in self._identities:
            listed = circle.record.member(username)
            identity = self.client.user_keys(
                username, verified_fp=listed.fp if listed else None
            ).identity
            if listed is not None and identity.fingerprint() != listed.fp:
                raise ProtocolError(
                    "member_key_changed",
                    f"{username}'s key differs from the circle's signed record",
                )
            self._identities[cache] = identity
        return self._identities[cache]

    def state(self, circle: VerifiedCircle) -> ModerationState:
        rows: list[dict[str, Any]] = self.client.request(
            "GET", f"/v1/circles/{circle.circle_id}/moderation/keys"
        )
        records: list[ModerationKeyRecord] = []
        try:
            for position, row in enumerate(rows):
                record = ModerationKeyRecord.parse(row["record"].encode())
                if record.circle_id != circle.circle_id or record.generation != position:
                    raise ProtocolError(
                        "broken_chain", "a moderation key record of another circle or position"
                    )
                if b64decode(row["public_key"]) != record.public_key:
                    raise ProtocolError("broken_chain", "the public key differs from its record")
                check_moderation_successor(records[-1] if records else None, record)
                records.append(record)
        except CryptoError as exc:
            raise _protocol(exc) from exc
        stale = False
        if records:
            latest, row = records[-1], rows[-1]
            # Stale: not made for today's admins, or made before today's admin set began (an
            # older generation for the same people, which a former admin may still hold).
            stale = not latest.matches(circle.record) or latest.record_seq < circle.admins_since
            if not stale:
                # The newest generation names exactly today's admins; one of them signed it.
                try:
                    latest.verify_signature(
                        b64decode(row["signature"]), self._identity(circle, latest.signer)
                    )
                except CryptoError as exc:
                    raise _protocol(exc) from exc
            # Older generations are trusted through the hash chain to the newest one.
        return ModerationState(records, rows, stale)

    def _secret_keys(
        self, circle: VerifiedCircle, state: ModerationState
    ) -> dict[int, ModerationKey]:
        if state.current is None:
            raise ProtocolError("moderation_key_missing", "this circle has no moderation key")
        latest = state.current
        row = state.rows[-1]
        if row.get("wrap") is None:
            raise ProtocolError(
                "not_a_moderator", "the current moderation key was not shared with you"
            )
        try:
            keys = {
                latest.generation: open_moderation_wrap(
                    b64decode(row["wrap"]),
                    circle_id=circle.circle_id,
                    generation=latest.generation,
                    identity=self.circles.identity,
                    expected_public=latest.public_key,
                )
            }
            for generation in range(latest.generation, 0, -1):
                box = state.rows[generation].get("prev_key_box")
                if box is None:
                    raise ProtocolError(
                        "missing_key", f"moderation key {generation - 1} is missing"
                    )
                keys[generation - 1] = open_previous_moderation_key(
                    b64decode(box),
                    keys[generation],
                    circle_id=circle.circle_id,
                    generation=generation,
                    expected_public=state.records[generation - 1].public_key,
                )
        except CryptoError as exc:
            raise _protocol(exc) from exc
        return keys

    def _admins(self, circle: VerifiedCircle, record: KeyRecord) -> dict[str, PublicIdentity]:
        members = self.circles.members(circle.circle_id, trusted=record)
        found = {m.username: m for m in members if m.status == "active"}
        admins = {}
        for listed in record.members:
            if listed.role not in ADMIN_ROLES:
                continue
            member = found.get(listed.user)
            if member is None or member.fingerprint != listed.fp:
                raise ProtocolError(
                    "member_key_changed",
                    f"{listed.user}'s key differs from the circle's signed record",
                )
            admins[listed.user] = member.identity
        return admins

    def ensure_key(self, circle_id: uuid.UUID) -> tuple[VerifiedCircle, ModerationState]:
        """As an admin: make generation 0, or the next one when the admin set changed."""
        circle = self.circles.sync(circle_id)
        if circle.role not in ADMIN_ROLES:
            raise ProtocolError("not_a_moderator", "only the circle's admins moderate")
        if circle.rotation_due:
            # Someone left: the signed record still lists them. Rotate them out first, so the
            # next moderation key is made for the admins who are really there.
            self.circles.rotate(circle_id)
            circle = self.circles.sync(circle_id)
        state = self.state(circle)
        if state.current is not None and not state.stale:
            return circle, state
        previous: ModerationKey | None = None
        if state.current is not None:
            if state.rows[-1].get("wrap") is None:
                raise ProtocolError(
                    "moderation_key_stale",
                    "the circle's admins changed; an admin who holds the current moderation "
                    "key must run a moderation command to renew it",
                )
            previous = self._secret_keys(circle, state)[state.current.generation]
        self._new_generation(circle, state, previous)
        state = self.state(circle)
        if state.current is None or state.stale:
            raise ProtocolError("moderation_key_stale", "the new moderation key did not stick")
        return circle, state

    def _new_generation(
        self, circle: VerifiedCircle, state: ModerationState, previous: ModerationKey | None
    ) -> None:
        generation = 0 if state.current is None else state.current.generation + 1
        key = ModerationKey.generate()
        record = ModerationKeyRecord.for_key_record(
            circle.record,
            key=key,
            generation=generation,
            prev=None if state.current is None else state.current.hash(),
            signer=self.circles.username,
        )
        admins = self._admins(circle, circle.record)
        wraps = [
            {
                "username": user,
                "wrap": b64encode(
                    seal_moderation_wrap(
                        key,
                        circle_id=circle.circle_id,
                        generation=generation,
                        recipient=identity.x25519_public,
                    )
                ),
            }
            for user, identity in admins.items()
        ]
        prev_box = None
        if previous is not None:
            prev_box = b64encode(
                seal_previous_moderation_key(
                    key, previous, circle_id=circle.circle_id, generation=generation
                )
            )
        self.client.request(
            "POST",
            f"/v1/circles/{circle.circle_id}/moderation/keys",
            json={
                "generation": generation,
                "record": record.to_bytes().decode(),
                "signature": b64encode(record.sign(self.circles.identity)),
                "wraps": wraps,
                "prev_key_box": prev_box,
            },
        )

    def takedown_link(self, circle_id: uuid.UUID) -> str:
        _, state = self.ensure_key(circle_id)
        assert state.current is not None
        return str(
            TakedownLink(
                self.client.base_url, circle_id, state.current.generation, state.current.public_key
            )
        )

    # -- reports --------------------------------------------------------------------------

    def report(
        self, circle_id: uuid.UUID, entry_id: str, *, reason: str, note: str
    ) -> dict[str, Any]:
        """Encrypt a report to the admins, with the entry's body and opening (the reveal)."""
        try:
            check_report_fields(reason, note)
        except CryptoError as exc:
            raise ProtocolError("bad_report", str(exc)) from exc
        circle = self.circles.sync(circle_id)
        state = self.state(circle)
        if state.current is None:
            raise ProtocolError(
                "moderation_key_missing", "no admin has set up moderation for this circle yet"
            )
        if state.stale:
            raise ProtocolError(
                "moderation_key_stale",
                "the circle's admins changed since its moderation key was made; "
                "an admin's client renews it on their next moderation command",
            )
        detail = self.client.request("GET", f"/v1/circles/{circle_id}/entries/{entry_id}")
        row = detail["entry"]
        if row["ciphertext"] is None:
            raise ProtocolError("entry_gone", "this entry is gone or hidden; nothing to report")
        context = EnvelopeContext(ENTRY, circle_id, int(row["epoch"]), uuid.UUID(entry_id))
        try:
            opened = open_envelope(_envelope(row), keys=circle.keys, context=context)
        except CryptoError as exc:
            raise _protocol(exc) from exc
        case_id = uuid.uuid4()
        report = Report(
            circle_id=circle_id,
            case_id=case_id,
            entry_id=uuid.UUID(entry_id),
            reporter=self.circles.username,
            reason=reason,
            note=note,
            body=opened.body_bytes,
            opening=opened.opening,
        )
        sealed = seal_report(
            report,
            identity=self.circles.identity,
            public_key=state.current.public_key,
            generation=state.current.generation,
        )
        result: dict[str, Any] = self.client.request(
            "POST",
            f"/v1/circles/{circle_id}/reports",
            json={
                "case_id": str(case_id),
                "entry_id": entry_id,
                "generation": state.current.generation,
                "ciphertext": b64encode(sealed),
            },
        )
        return {"case_id": result["case_id"], "status": result["status"]}

    def entry_cases(self, circle_id: uuid.UUID, entry_id: str) -> list[dict[str, Any]] | None:
        """What the author of an entry (or an admin) learns about its reports; None otherwise."""
        try:
            rows: list[dict[str, Any]] = self.client.request(
                "GET", f"/v1/circles/{circle_id}/entries/{entry_id}/moderation"
            )
        except ApiError as exc:
            if exc.code == "entry_not_found":
                return None
            raise
        return [
            {
                "case_id": r["case_id"],
                "kind": r["kind"],
                "status": r["status"],
                "actions": r["actions"],
            }
            for r in rows
        ]

    # -- cases (admins) -------------------------------------------------------------------

    def list_cases(
        self, circle_id: uuid.UUID, *, status: str | None = None
    ) -> list[dict[str, Any]]:
        circle, state = self.ensure_key(circle_id)
        keys = self._secret_keys(circle, state)
        params = {"status": status} if status else None
        rows = self.client.request(
            "GET", f"/v1/circles/{circle_id}/moderation/cases", params=params
        )
        out = []
        for row in rows:
            try:
                out.append(self._open_case(circle, keys, row))
            except ProtocolError as exc:  # one bad case must not hide the others
                out.append(
                    {
                        "case_id": row.get("case_id"),
                        "kind": row.get("kind"),
                        "entry_id": row.get("entry_id"),
                        "status": row.get("status"),
                        "created_at": row.get("created_at"),
                        "unreadable": f"{exc.code}: {exc.message}",
                        "decisions": [],
                    }
                )
        return out

    def _open_case(
        self, circle: VerifiedCircle, keys: dict[int, ModerationKey], row: dict[str, Any]
    ) -> dict[str, Any]:
        case_id = uuid.UUID(row["case_id"])
        generation = int(row["generation"])
        ciphertext = b64decode(row["ciphertext"])
        if not hmac.compare_digest(case_hash(ciphertext), b64decode(row["case_hash"])):
            raise ProtocolError("case_changed", f"case {case_id} does not match its hash")
        key = keys.get(generation)
        if key is None:
            raise ProtocolError("missing_key", f"no moderation key {generation} for {case_id}")
        out: dict[str, Any] = {
            "case_id": str(case_id),
            "kind": row["kind"],
            "entry_id": row["entry_id"],
            "status": row["status"],
            "created_at": row["created_at"],
        }
        try:
            if row["kind"] == "report":
                out.update(self._open_report(circle, key, case_id, generation, ciphertext, row))
            else:
                request = open_takedown(
                    ciphertext,
                    key=key,
                    receipt_public=b64decode(row["receipt_key"]),
                    circle_id=circle.circle_id,
                    case_id=case_id,
                    generation=generation,
                )
                out.update(
                    {
                        "name": request.name,
                        "contact": request.contact,
                        "text": request.text,
                        "candidates": self._candidates(circle, request.name),
                    }
                )
        except CryptoError as exc:
            raise _protocol(exc) from exc
        out["decisions"] = self._open_decisions(circle, keys, row, ciphertext)
        return out

    def _open_report(
        self,
        circle: VerifiedCircle,
        key: ModerationKey,
        case_id: uuid.UUID,
        generation: int,
        ciphertext: bytes,
        row: dict[str, Any],
    ) -> dict[str, Any]:
        entry_id = uuid.UUID(row["entry_id"])
        report, signature = open_report(
            ciphertext,
            key=key,
            circle_id=circle.circle_id,
            case_id=case_id,
            entry_id=entry_id,
            generation=generation,
        )
        reporter = self._listed_identity(circle, report.reporter)
        if reporter is not None:
            verify_report(report, signature, reporter)
        # The reveal. While the entry has its envelope, open it with the circle key (the
        # server cannot make one) and require the reporter's copy to be exactly its content;
        # once wiped, only the stored commitment is left to compare with.
        detail = self.client.request("GET", f"/v1/circles/{circle.circle_id}/entries/{entry_id}")
        row_entry = detail["entry"]
        commitment = b64decode(row_entry["commitment"])
        if not verify_commitment(report.body, report.opening, commitment):
            raise ProtocolError(
                "reveal_mismatch", "the reported content does not match the entry's commitment"
            )
        check = "commitment only: the entry was wiped"
        if row_entry.get("ciphertext") is not None:
            opened = self.entries.open(circle, row_entry)  # verifies author and context
            context = EnvelopeContext(ENTRY, circle.circle_id, int(row_entry["epoch"]), entry_id)
            try:
                raw = open_envelope(_envelope(row_entry), keys=circle.keys, context=context)
            except CryptoError as exc:
                raise _protocol(exc) from exc
            if raw.body_bytes != report.body or raw.opening != report.opening:
                raise ProtocolError(
                    "reveal_mismatch", "the reported content is not what the entry says"
                )
            check = f"opened and signed ({opened.author or 'anonymous'})"
        body = load_json(report.body)
        return {
            "reporter": report.reporter,
            "reporter_verified": reporter is not None,
            "reason": report.reason,
            "note": report.note,
            "reported_content": {
                "subject": body.get("subject"),
                "text": body.get("text"),
                "verified": row_entry.get("ciphertext") is not None,
                "check": check,
            },
            "entry_status": detail["entry"]["status"],
        }

    def _candidates(self, circle: VerifiedCircle, name: str) -> list[dict[str, Any]]:
        """Live warnings this device holds whose names match the requested name, matched
        here at any level (exact first; each says its level)."""
        if not normalise_name(name):
            return []
        found = self.entries.check(circle.circle_id, name)
        return [
            {
                "entry_id": m.warning["entry_id"],
                "subject": m.warning["subject"],
                "text": m.warning["text"],
                "level": m.level,
            }
            for m in found.matches
        ]

    def _open_decisions(
        self,
        circle: VerifiedCircle,
        keys: dict[int, ModerationKey],
        row: dict[str, Any],
        ciphertext: bytes,
    ) -> list[dict[str, Any]]:
        out = []
        prev: bytes | None = None
        for position, item in enumerate(row["decisions"]):
            try:
                decision = Decision.parse(item["decision"].encode())
                signer = self._listed_identity(circle, decision.signer)
                if signer is not None:
                    decision.verify_signature(b64decode(item["signature"]), signer)
            except CryptoError as exc:
                raise _protocol(exc) from exc
            if (
                decision.seq != position
                or decision.circle_id != circle.circle_id
                or str(decision.case_id) != row["case_id"]
                or (decision.prev or b"") != (prev or b"")
                or not hmac.compare_digest(decision.case_hash, case_hash(ciphertext))
                or decision.signer != item["signer"]
            ):
                raise ProtocolError("broken_chain", "a decision does not follow the case's chain")
            note = b64decode(item["note"])
            if not hmac.compare_digest(decision.note_hash, blob_hash(note)):
                raise ProtocolError("case_changed", "a decision's reason was changed")
            key = keys.get(decision.generation)
            reason = None
            if key is not None:
                try:
                    reason = open_decision_note(
                        note,
                        key=key,
                        circle_id=circle.circle_id,
                        case_id=decision.case_id,
                        generation=decision.generation,
                    )
                except CryptoError as exc:
                    raise _protocol(exc) from exc
            response = None
            if item.get("response") is not None and row.get("receipt_key"):
                blob = b64decode(item["response"])
                if decision.response_hash is None or not hmac.compare_digest(
                    decision.response_hash, blob_hash(blob)
                ):
                    raise ProtocolError("case_changed", "a decision's response was changed")
                case_key = keys.get(int(row["generation"]))
                if case_key is not None:
                    response = open_own_response(
                        blob,
                        key=case_key,
                        receipt_public=b64decode(row["receipt_key"]),
                        circle_id=circle.circle_id,
                        case_id=decision.case_id,
                        generation=int(row["generation"]),
                    )
            out.append(
                {
                    "seq": decision.seq,
                    "action": decision.action,
                    "entry_id": None if decision.entry_id is None else str(decision.entry_id),
                    "signer": decision.signer,
                    "signer_verified": signer is not None,
                    "reason": reason,
                    "response": response,
                    "created_at": item["created_at"],
                }
            )
            prev = decision.hash()
        return out

    def decide(
        self,
        circle_id: uuid.UUID,
        case_id: str,
        *,
        action: str,
        reason: str,
        entry_id: str | None = None,
        response: str | None = None,
    ) -> dict[str, Any]:
        if action not in ACTIONS:
            raise ProtocolError("bad_decision", f"action must be one of {', '.join(ACTIONS)}")
        circle, state = self.ensure_key(circle_id)
        assert state.current is not None
        keys = self._secret_keys(circle, state)
        row = self.client.request("GET", f"/v1/circles/{circle_id}/moderation/cases/{case_id}")
        ciphertext = b64decode(row["ciphertext"])
        self._open_decisions(circle, keys, row, ciphertext)  # verify the chain we extend
        decisions = row["decisions"]
        prev = Decision.parse(decisions[-1]["decision"].encode()).hash() if decisions else None
        if row["kind"] == "report":
            if entry_id is not None and entry_id != row["entry_id"]:
                raise ProtocolError(
                    "bad_decision", "a report's decision acts on the reported entry"
                )
            target = None if action == "dismiss" else row["entry_id"]
        else:
            if action != "dismiss" and entry_id is None:
                raise ProtocolError(
                    "bad_decision", "say which entry this acts on (--entry; see the candidates)"
                )
            target = entry_id
        cid = uuid.UUID(case_id)
        try:
            note = seal_decision_note(
                reason,
                public_key=state.current.public_key,
                circle_id=circle_id,
                case_id=cid,
                generation=state.current.generation,
            )
            sealed_response = None
            if response is not None:
                if row["kind"] != "takedown":
                    raise ProtocolError("bad_decision", "only takedown requests get a response")
                generation = int(row["generation"])
                sealed_response = seal_response(
                    response,
                    key=keys[generation],
                    receipt_public=b64decode(row["receipt_key"]),
                    circle_id=circle_id,
                    case_id=cid,
                    generation=generation,
                )
        except CryptoError as exc:
            raise ProtocolError("bad_decision", str(exc)) from exc
        decision = Decision(
            circle_id=circle_id,
            case_id=cid,
            seq=len(decisions),
            action=action,
            entry_id=None if target is None else uuid.UUID(target),
            case_hash=case_hash(ciphertext),
            generation=state.current.generation,
            note_hash=blob_hash(note),
            response_hash=None if sealed_response is None else blob_hash(sealed_response),
            prev=prev,
            signer=self.circles.username,
        )
        result = self.client.request(
            "POST",
            f"/v1/circles/{circle_id}/moderation/cases/{case_id}/decisions",
            json={
                "decision": decision.to_bytes().decode(),
                "signature": b64encode(decision.sign(self.circles.identity)),
                "note": b64encode(note),
                "response": None if sealed_response is None else b64encode(sealed_response),
            },
        )
        return {
            "case_id": case_id,
            "action": action,
            "entry_id": target,
            "status": result["status"],
        }


# -- escalation: a reveal an operator can check without any circle key ---------------------


def export_reveal(moderation: Moderation, circle_id: uuid.UUID, case_id: str) -> dict[str, Any]:
    """A report's reveal with the entry's envelope, for someone outside the circle to check."""
    circle, state = moderation.ensure_key(circle_id)
    keys = moderation._secret_keys(circle, state)
    row = moderation.client.request("GET", f"/v1/circles/{circle_id}/moderation/cases/{case_id}")
    if row["kind"] != "report":
        raise ProtocolError("not_a_report", "only reports carry a reveal")
    opened = moderation._open_case(circle, keys, row)  # verifies reporter, reveal, chain
    report, _ = open_report(
        b64decode(row["ciphertext"]),
        key=keys[int(row["generation"])],
        circle_id=circle_id,
        case_id=uuid.UUID(case_id),
        entry_id=uuid.UUID(row["entry_id"]),
        generation=int(row["generation"]),
    )
    entry = moderation.client.request("GET", f"/v1/circles/{circle_id}/entries/{row['entry_id']}")[
        "entry"
    ]
    return {
        "v": 1,
        "type": "backchannel.reveal",
        "circle_id": str(circle_id),
        "entry_id": row["entry_id"],
        "epoch": entry["epoch"],
        "author_key": entry["author_key"],
        "commitment": entry["commitment"],
        "nonce": entry["nonce"],
        "ciphertext": entry["ciphertext"],
        "signature": entry["signature"],
        "body": b64encode(report.body),
        "opening": b64encode(report.opening),
        "reported_by": opened["reporter"],
    }


def check_reveal(reveal: dict[str, Any]) -> dict[str, Any]:
    """What an operator runs on an escalated reveal: no account, no circle key."""
    try:
        circle_id = uuid.UUID(str(reveal["circle_id"]))
        entry_id = uuid.UUID(str(reveal["entry_id"]))
        body, opening = b64decode(reveal["body"]), b64decode(reveal["opening"])
        commitment = b64decode(reveal["commitment"])
        signed = reveal.get("signature") is not None
        if signed:
            envelope = _envelope(reveal)
            if envelope.commitment != commitment:
                raise ProtocolError("reveal_mismatch", "two different commitments")
            envelope.verify(EnvelopeContext(ENTRY, circle_id, int(reveal["epoch"]), entry_id))
        if not verify_commitment(body, opening, commitment):
            raise ProtocolError("reveal_mismatch", "the body does not open the commitment")
        content = load_json(body)
    except (KeyError, TypeError, ValueError, CryptoError) as exc:
        raise ProtocolError("reveal_mismatch", f"the reveal does not verify: {exc}") from exc
    return {
        "ok": True,
        "signed_by_author_key": signed,
        "author_key": reveal["author_key"],
        "content": content,
    }


# -- takedown requests: no account needed ---------------------------------------------------


def file_takedown(
    link_text: str, *, name: str, contact: str, text: str, http: Any = None
) -> dict[str, Any]:
    """Encrypt the request in this process and send it to the server the link names."""
    try:
        link = TakedownLink.parse(link_text)
        check_takedown_fields(name, contact, text)
    except CryptoError as exc:
        raise ProtocolError("bad_link", str(exc)) from exc
    receipt = Receipt.create(link)
    request = TakedownRequest(link.circle_id, receipt.case_id, name, contact, text)
    sealed = seal_takedown(request, receipt)
    with Client(link.base_url, http=http) as client:
        result = client.request(
            "POST",
            "/v1/takedown",
            json={
                "circle_id": str(link.circle_id),
                "case_id": str(receipt.case_id),
                "generation": link.generation,
                "moderation_key": b64encode(link.public_key),
                "receipt_key": b64encode(receipt.public_key),
                "receipt_token": b64encode(receipt.token),
                "ciphertext": b64encode(sealed),
            },
        )
    return {"case_id": result["case_id"], "receipt": str(receipt), "status": result["status"]}


def takedown_status(receipt_text: str, *, http: Any = None) -> dict[str, Any]:
    try:
        receipt = Receipt.parse(receipt_text)
    except CryptoError as exc:
        raise ProtocolError("bad_receipt", str(exc)) from exc
    with Client(receipt.base_url, http=http) as client:
        result = client.request(
            "POST",
            "/v1/takedown/status",
            json={"case_id": str(receipt.case_id), "receipt_token": b64encode(receipt.token)},
        )
    response = None
    if result.get("response") is not None:
        try:
            response = open_response(b64decode(result["response"]), receipt)
        except CryptoError as exc:
            raise _protocol(exc) from exc
    return {"case_id": str(receipt.case_id), "status": result["status"], "response": response}
