"""Sealed warnings for the SDK (docs/protocol.md §36): file, list, withdraw and publish
one's own; as an admin, set k and open the matches the server shows.

Every value the server hands over is checked before it is used: the settings chain and
the newest record's admin signature (which pins the circle's VOPRF key and k), the VOPRF
proof against that pinned key, and every match (signatures, members, distinct filers,
k, and the interpolated key) before anything is shown.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from app.client.circles import VerifiedCircle, _protocol
from app.client.entries import Entries
from app.client.errors import ApiError, ProtocolError
from app.client.moderation import Moderation
from app.crypto import CryptoError, PublicIdentity, b64decode, b64encode
from app.crypto.circles import ADMIN_ROLES
from app.crypto.moderation import ModerationKeyRecord
from app.crypto.sealed import (
    DEFAULT_EVALUATIONS,
    DEFAULT_K,
    MAX_SEALED_ALIASES,
    NamePolynomial,
    SealedSettings,
    check_settings_successor,
    name_forms,
    name_value,
    oprf_input,
    seal_secret,
)
from app.crypto.sealed_filings import (
    ExcludedFiling,
    NotEnoughShares,
    OpenedFiling,
    SealedFiling,
    open_match,
    open_own,
    seal_filing,
)
from app.crypto.voprf import OprfElement, OprfEvaluation, OprfProof, OprfPublicKey, VoprfClient

__all__ = ["Sealed", "SealedState"]


@dataclass(frozen=True)
class SealedState:
    """The circle's verified settings chain; ``current`` is None before an admin set it up."""

    records: list[SealedSettings]
    server_key: bytes  # what the server says its key is (only an admin's setup trusts it)
    stale: bool  # the newest record's signer is no longer an admin of the newest key record
    used: int
    allowed: int

    @property
    def current(self) -> SealedSettings | None:
        return self.records[-1] if self.records else None


class Sealed:
    def __init__(self, moderation: Moderation, *, entries: Entries | None = None) -> None:
        self.moderation = moderation
        self.circles = moderation.circles
        self.client = moderation.client
        self.entries = entries if entries is not None else moderation.entries
        self._checked: dict[uuid.UUID, tuple[int, SealedSettings, ModerationKeyRecord]] = {}

    # -- settings ------------------------------------------------------------------------

    def state(self, circle: VerifiedCircle) -> SealedState:
        data = self.client.request("GET", f"/v1/circles/{circle.circle_id}/sealed/settings")
        records: list[SealedSettings] = []
        try:
            for position, row in enumerate(data["records"]):
                record = SealedSettings.parse(row["record"].encode())
                if record.circle_id != circle.circle_id or record.seq != position:
                    raise ProtocolError("broken_chain", "a settings record out of place")
                check_settings_successor(records[-1] if records else None, record)
                records.append(record)
            stale = False
            if records:
                latest, row = records[-1], data["records"][-1]
                listed = circle.record.member(latest.signer)
                stale = listed is None or listed.role not in ADMIN_ROLES
                if not stale:
                    signer = self.moderation.listed_identity(circle, latest.signer, admin=True)
                    assert signer is not None
                    latest.verify_signature(b64decode(row["signature"]), signer)
        except CryptoError as exc:
            raise _protocol(exc) from exc
        return SealedState(
            records,
            b64decode(data["oprf_public_key"]),
            stale,
            int(data["evaluations_used"]),
            int(data["evaluations_allowed"]),
        )

    def _usable(self, circle: VerifiedCircle) -> SealedSettings:
        state = self.state(circle)
        if state.current is None:
            raise ProtocolError(
                "sealed_not_set_up", "no admin has set up sealed warnings in this circle yet"
            )
        if state.stale:
            raise ProtocolError(
                "sealed_settings_stale",
                "the admin who signed this circle's sealed-warning settings is no longer an "
                "admin; an admin must sign them again (backchannel sealed settings)",
            )
        return state.current

    def configure(
        self,
        circle_id: uuid.UUID,
        *,
        k: int | None = None,
        evaluations_per_day: int | None = None,
    ) -> SealedSettings:
        """As an admin: sign the first settings record (pinning the server's VOPRF key), a
        change of k or of the daily limit, or the same values again when the signer left."""
        circle, _ = self.moderation.ensure_key(circle_id)
        state = self.state(circle)
        latest = state.current
        new_k = k if k is not None else (latest.k if latest else DEFAULT_K)
        per_day = (
            evaluations_per_day
            if evaluations_per_day is not None
            else (latest.evaluations_per_day if latest else DEFAULT_EVALUATIONS)
        )
        if (
            latest is not None
            and not state.stale
            and (latest.k, latest.evaluations_per_day) == (new_k, per_day)
        ):
            return latest
        record = SealedSettings(
            circle_id=circle_id,
            seq=0 if latest is None else latest.seq + 1,
            oprf_public_key=state.server_key if latest is None else latest.oprf_public_key,
            k=new_k,
            evaluations_per_day=per_day,
            prev=None if latest is None else latest.hash(),
            signer=self.circles.username,
        )
        try:
            record.check()
        except CryptoError as exc:
            raise ProtocolError("bad_settings", str(exc)) from exc
        self.client.request(
            "POST",
            f"/v1/circles/{circle_id}/sealed/settings",
            json={
                "record": record.to_bytes().decode(),
                "signature": b64encode(record.sign(self.circles.identity)),
            },
        )
        return record

    # -- filing --------------------------------------------------------------------------

    def _values(
        self, circle: VerifiedCircle, settings: SealedSettings, names: list[str]
    ) -> list[bytes]:
        """One per-name value per exact form: a VOPRF round trip, checked against the key
        the settings record pins, then keyed by the circle seal secret."""
        try:
            forms = name_forms(names)
            voprf = VoprfClient(OprfPublicKey(settings.oprf_public_key))
            blinded = voprf.blind([oprf_input(circle.circle_id, f) for f in forms])
        except CryptoError as exc:
            raise ProtocolError("bad_name", str(exc)) from exc
        answer = self.client.request(
            "POST",
            f"/v1/circles/{circle.circle_id}/sealed/evaluate",
            json={"blinded": [b64encode(bytes(e)) for e in blinded.elements]},
        )
        try:
            evaluation = OprfEvaluation(
                [OprfElement(b64decode(e)) for e in answer["evaluated"]],
                OprfProof(b64decode(answer["proof"])),
            )
            outputs = voprf.finalize(blinded, evaluation)
            secret = seal_secret(circle.keys[0])
        except CryptoError as exc:
            raise _protocol(exc) from exc
        except KeyError as exc:
            raise ProtocolError("missing_key", "the circle's first key is missing") from exc
        return [name_value(secret, output) for output in outputs]

    def seal(
        self,
        circle_id: uuid.UUID,
        *,
        subject: str,
        text: str,
        categories: list[str],
        aliases: list[str] | None = None,
        severity: str | None = None,
        affiliation: str | None = None,
        happened: str | None = None,
        contact: str | None = None,
    ) -> dict[str, Any]:
        """File a sealed warning: nobody can read it until k members have named this person."""
        aliases = aliases or []
        if len(aliases) > MAX_SEALED_ALIASES:
            raise ProtocolError(
                "too_long", f"a sealed warning has at most {MAX_SEALED_ALIASES} aliases"
            )
        payload = self.entries._payload(
            subject=subject,
            aliases=aliases,
            categories=categories,
            text=text,
            severity=severity,
            affiliation=affiliation,
            happened=happened,
            contact=contact,
            anonymous=False,
        )
        circle = self.circles.sync(circle_id)
        values: list[bytes] | None = None
        for attempt in range(2):
            settings, moderation = self._prepared(circle, fresh=attempt > 0)
            if values is None:  # independent of k and of the moderation key: asked for once
                values = self._values(circle, settings, [subject, *aliases])
            try:
                filing, signature = seal_filing(
                    payload,
                    circle_id=circle_id,
                    filing_id=uuid.uuid4(),
                    filer=self.circles.username,
                    identity=self.circles.identity,
                    polynomials=[NamePolynomial.derive(v, settings.k) for v in values],
                    moderation_public=moderation.public_key,
                    generation=moderation.generation,
                )
            except CryptoError as exc:
                raise ProtocolError("too_long", str(exc)) from exc
            try:
                result: dict[str, Any] = self.client.request(
                    "POST",
                    f"/v1/circles/{circle_id}/sealed/filings",
                    json={"record": filing.to_bytes().decode(), "signature": b64encode(signature)},
                )
            except ApiError as exc:
                # k or the moderation key changed since this device last checked: check again.
                if attempt == 0 and exc.code in ("sealed_k_changed", "moderation_key_stale"):
                    continue
                raise
            return {"filing_id": result["filing_id"], "status": result["status"], "k": settings.k}
        raise AssertionError("unreachable")

    def _prepared(
        self, circle: VerifiedCircle, *, fresh: bool
    ) -> tuple[SealedSettings, ModerationKeyRecord]:
        """The verified settings and the current moderation key record, checked once per
        circle key record on this object (a change of either is refused by the server, and
        ``seal`` then checks again)."""
        cached = self._checked.get(circle.circle_id)
        if not fresh and cached is None:
            cached = self._pinned(circle)
        if not fresh and cached is not None and cached[0] == circle.record.seq:
            return cached[1], cached[2]
        settings = self._usable(circle)
        moderation = self.moderation.state(circle)
        if moderation.current is None or moderation.stale:
            raise ProtocolError(
                "moderation_key_stale" if moderation.stale else "moderation_key_missing",
                "the circle's moderation key is not current; an admin's client renews it",
            )
        self._checked[circle.circle_id] = (circle.record.seq, settings, moderation.current)
        pin = self.circles.trust.pin(str(circle.circle_id))
        pin.sealed_checked_at = circle.record.seq
        pin.sealed_settings = settings.to_bytes().decode()
        pin.sealed_moderation = moderation.current.to_bytes().decode()
        self.circles.trust.save()
        return settings, moderation.current

    def _pinned(
        self, circle: VerifiedCircle
    ) -> tuple[int, SealedSettings, ModerationKeyRecord] | None:
        """What this device verified at an earlier run (a cold CLI), if the circle's key
        record is still the one it was verified at: two GETs and a user lookup fewer."""
        pin = self.circles.trust.circles.get(str(circle.circle_id))
        if (
            pin is None
            or pin.sealed_checked_at != circle.record.seq
            or pin.sealed_settings is None
            or pin.sealed_moderation is None
        ):
            return None
        try:
            settings = SealedSettings.parse(pin.sealed_settings.encode())
            moderation = ModerationKeyRecord.parse(pin.sealed_moderation.encode())
        except CryptoError:
            return None
        if settings.circle_id != circle.circle_id:
            return None
        return pin.sealed_checked_at, settings, moderation

    # -- one's own filings ---------------------------------------------------------------

    def _own(self, circle_id: uuid.UUID, row: dict[str, Any]) -> dict[str, Any] | None:
        """Open one of one's own filings after checking it is exactly what one signed."""
        if row["record"] is None:
            return None
        try:
            filing = SealedFiling.parse(row["record"].encode())
            filing.verify_signature(b64decode(row["signature"]), self.circles.identity.public())
            if (
                filing.circle_id != circle_id
                or filing.filer != self.circles.username
                or str(filing.filing_id) != row["filing_id"]
            ):
                raise ProtocolError("wrong_epoch", "a filing of another circle or filer")
            return open_own(filing, self.circles.identity)
        except CryptoError as exc:
            raise _protocol(exc) from exc

    def filings(self, circle_id: uuid.UUID) -> list[dict[str, Any]]:
        """One's own sealed warnings: status (open, matched, withdrawn, void) and content."""
        circle = self.circles.sync(circle_id)
        current = self.state(circle).current
        rows = self.client.request("GET", f"/v1/circles/{circle_id}/sealed/filings")
        out = []
        for row in rows:
            payload = self._own(circle_id, row)
            out.append(
                {
                    "filing_id": row["filing_id"],
                    "status": row["status"],
                    "matched": row["status"] == "matched",
                    "k": row["k"],
                    "counts": row["status"] == "open"
                    and current is not None
                    and row["k"] == current.k,
                    "subject": None if payload is None else payload.get("subject"),
                    "aliases": [] if payload is None else payload.get("aliases", []),
                    "text": None if payload is None else payload.get("text"),
                    "created_at": row["created_at"],
                }
            )
        return out

    def _row(self, circle_id: uuid.UUID, filing_id: str) -> dict[str, Any]:
        rows = self.client.request("GET", f"/v1/circles/{circle_id}/sealed/filings")
        for row in rows:
            if row["filing_id"] == filing_id:
                return dict(row)
        raise ProtocolError("filing_not_found", "no such sealed warning of yours")

    def withdraw(self, circle_id: uuid.UUID, filing_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.client.request(
            "POST", f"/v1/circles/{circle_id}/sealed/filings/{filing_id}/withdraw"
        )
        return {"filing_id": result["filing_id"], "status": result["status"]}

    def publish(
        self, circle_id: uuid.UUID, filing_id: str, *, anonymous: bool = False
    ) -> dict[str, Any]:
        """Post one's own sealed warning to the whole circle, named or anonymous."""
        payload = self._own(circle_id, self._row(circle_id, str(uuid.UUID(filing_id))))
        if payload is None:
            raise ProtocolError("filing_not_found", "this sealed warning was withdrawn")
        try:
            return self.entries.post(
                circle_id,
                subject=str(payload["subject"]),
                text=str(payload["text"]),
                categories=list(payload["categories"]),
                aliases=list(payload.get("aliases") or []),
                severity=payload.get("severity"),
                affiliation=payload.get("affiliation"),
                happened=payload.get("happened"),
                contact=payload.get("contact"),
                anonymous=anonymous,
            )
        except (KeyError, TypeError) as exc:
            raise ProtocolError("invalid_data", "the sealed warning lacks a field") from exc

    # -- matches (admins) ----------------------------------------------------------------

    def _members(self, circle: VerifiedCircle) -> dict[str, PublicIdentity]:
        """The active members the newest signed key record lists, with its fingerprints."""
        found = {}
        for member in self.circles.members(circle.circle_id, trusted=circle.record):
            listed = circle.record.member(member.username)
            if member.status == "active" and listed is not None:
                if listed.fp != member.fingerprint:
                    raise ProtocolError(
                        "member_key_changed",
                        f"{member.username}'s key differs from the circle's signed record",
                    )
                found[member.username] = member.identity
        return found

    def matches(self, circle_id: uuid.UUID) -> list[dict[str, Any]]:
        """Every match the server shows, verified and opened on this device (admins)."""
        circle, moderation = self.moderation.ensure_key(circle_id)
        settings = self._usable(circle)
        # A match opened under an earlier k stays readable (its filers chose that k); a k
        # the signed chain never held is refused (§36.7).
        chain_ks = {record.k for record in self.state(circle).records}
        rows = self.client.request("GET", f"/v1/circles/{circle_id}/sealed/matches")
        if not rows:
            return []
        keys = self.moderation.secret_keys(circle, moderation)
        members = self._members(circle)
        out: list[dict[str, Any]] = []
        seen: dict[frozenset[str], dict[str, Any]] = {}
        for row in rows:
            if row["k"] not in chain_ks:
                raise ProtocolError("wrong_epoch", "a match under a k this circle never had")
            try:
                filings = [
                    (SealedFiling.parse(f["record"].encode()), b64decode(f["signature"]))
                    for f in row["filings"]
                ]
                if any(
                    f.filer != listed["filer"] or str(f.filing_id) != listed["filing_id"]
                    for (f, _), listed in zip(filings, row["filings"], strict=True)
                ):
                    raise ProtocolError("wrong_epoch", "a filing listed under another filer")
                try:
                    opening = open_match(
                        filings,
                        circle_id=circle_id,
                        tag=b64decode(row["tag"]),
                        k=int(row["k"]),
                        identities=members,
                        moderation_keys=keys,
                    )
                    opened, excluded = opening.opened, opening.excluded
                except NotEnoughShares as short:
                    # Members' own filings that fail their checks: not the server's doing,
                    # so the match is shown as waiting, with who was left out and why.
                    opened, excluded = [], short.excluded
            except CryptoError as exc:
                raise _protocol(exc) from exc
            group = frozenset(f["filing_id"] for f in row["filings"])
            if group in seen:  # both exact forms of one name (§25.2) matched: one match
                seen[group]["match_ids"].append(row["match_id"])
                continue
            seen[group] = _match_view(row, settings.k, opened, excluded)
            out.append(seen[group])
        return out


def _match_view(
    row: dict[str, Any], current_k: int, opened: list[OpenedFiling], excluded: list[ExcludedFiling]
) -> dict[str, Any]:
    return {
        "match_id": row["match_id"],
        "match_ids": [row["match_id"]],
        "k": row["k"],
        "k_current": row["k"] == current_k,
        "created_at": row["created_at"],
        "opened": bool(opened),
        "filers": sorted({o.filing.filer for o in opened}),
        "warnings": [
            {
                "filing_id": str(o.filing.filing_id),
                "filer": o.filing.filer,
                "subject": o.payload.get("subject"),
                "aliases": o.payload.get("aliases", []),
                "categories": o.payload.get("categories", []),
                "text": o.payload.get("text"),
            }
            for o in opened
        ],
        # Filings whose filer sealed a share that fails its checks (§36.7): left out.
        "excluded": [
            {"filing_id": str(e.filing.filing_id), "filer": e.filing.filer, "reason": e.reason}
            for e in excluded
        ],
    }
