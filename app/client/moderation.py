"""Moderation for the SDK: the moderation key and reports (docs/protocol.md §29, §30).

As web/src/client/moderation.js; the admins' cases and decisions are in ``cases``,
takedown requests in ``takedown``. Moderation key records are verified against the
circle's newest verified key record before a key is used.
"""

import time
import uuid
from dataclasses import dataclass
from typing import Any

from app.client.circles import Circles, VerifiedCircle, _protocol
from app.client.delivery import deliver
from app.client.entries import Entries, _envelope
from app.client.errors import ApiError, ProtocolError
from app.client.sdk import Client
from app.crypto import CryptoError, PublicIdentity, b64decode, b64encode
from app.crypto.anon import author_cases_message
from app.crypto.circles import ADMIN_ROLES, KeyRecord
from app.crypto.entries import ENTRY, EnvelopeContext, open_envelope, signing_key_for
from app.crypto.moderation import (
    ModerationKey,
    ModerationKeyRecord,
    check_moderation_successor,
    open_moderation_wrap,
    open_previous_moderation_key,
    seal_moderation_wrap,
    seal_previous_moderation_key,
)
from app.crypto.reports import (
    Report,
    check_report_fields,
    seal_report,
)
from app.crypto.takedowns import (
    TakedownLink,
)

__all__ = ["Moderation", "ModerationState"]


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
    this device's synced copy so a listing of cases fetches only what changed."""

    def __init__(self, circles: Circles, *, entries: Entries | None = None) -> None:
        self.circles = circles
        self.client: Client = circles.client
        self.entries = entries if entries is not None else Entries(circles)
        self._identities: dict[tuple[str, str], PublicIdentity] = {}

    # -- the moderation key --------------------------------------------------------------

    def listed_identity(
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

    def secret_keys(
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
            previous = self.secret_keys(circle, state)[state.current.generation]
        self._new_generation(circle, state, previous)
        state = self.state(circle)
        if state.current is None or state.stale:
            raise ProtocolError("moderation_key_stale", "the new moderation key did not stick")
        return circle, state

    def set_up_if_missing(self, circle: VerifiedCircle) -> bool:
        """As an admin opening a circle: give it generation 0 if it has no moderation key yet
        (circles made by older clients), so members can report at once; True if one was made.
        A stale key is left to the moderation commands, which say who must renew it."""
        if circle.role not in ADMIN_ROLES or self.state(circle).current is not None:
            return False
        self.ensure_key(circle.circle_id)
        return True

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

    def _own_anonymous_cases(
        self, circle_id: uuid.UUID, entry_id: str
    ) -> list[dict[str, Any]] | None:
        context = EnvelopeContext(ENTRY, circle_id, 0, uuid.UUID(entry_id))
        key = signing_key_for(self.circles.identity, context, anonymous=True)
        try:
            detail = self.client.request("GET", f"/v1/circles/{circle_id}/entries/{entry_id}")
        except ApiError:
            return None
        if b64decode(detail["entry"]["author_key"]) != bytes(key.verify_key):
            return None
        at = int(time.time())
        message = author_cases_message(circle_id, uuid.UUID(entry_id), at)
        rows: list[dict[str, Any]] = self.client.request(
            "POST",
            f"/v1/anon/circles/{circle_id}/entries/{entry_id}/moderation",
            json={"at": at, "signature": b64encode(key.sign(message).signature)},
            anonymous=True,
        )
        return rows

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
        case_id = uuid.uuid4()

        def build() -> tuple[str, dict[str, Any]]:
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
            return f"/v1/circles/{circle_id}/reports", {
                "case_id": str(case_id),
                "entry_id": entry_id,
                "generation": state.current.generation,
                "ciphertext": b64encode(sealed),
            }

        # Sent once (app.client.delivery): the case id is fixed, a lost answer is sent again
        # as it was, and a moderation key renewed in between (the server's or this sync's
        # moderation_key_stale) is followed by one sync and a new seal to the newest key.
        result: dict[str, Any] = deliver(self.client, build, stale="moderation_key_stale")
        return {"case_id": result["case_id"], "status": result["status"]}

    def entry_cases(self, circle_id: uuid.UUID, entry_id: str) -> list[dict[str, Any]] | None:
        """What the author of an entry (or an admin) learns about its reports; None otherwise.
        For one's own anonymous warning the server no longer knows the author: the request
        goes without the session, signed by the per-entry key (§38.5)."""
        try:
            rows: list[dict[str, Any]] = self.client.request(
                "GET", f"/v1/circles/{circle_id}/entries/{entry_id}/moderation"
            )
        except ApiError as exc:
            if exc.code != "entry_not_found":
                raise
            found = self._own_anonymous_cases(circle_id, entry_id)
            if found is None:
                return None
            rows = found
        return [
            {
                "case_id": r["case_id"],
                "kind": r["kind"],
                "status": r["status"],
                "actions": r["actions"],
            }
            for r in rows
        ]
