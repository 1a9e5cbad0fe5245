"""The public takedown channel (docs/protocol.md §31.5, §31.7): challenges, filing, receipts.

Anyone holding a circle's takedown link may file, so the channel has no fixed window that
junk could fill to lock genuine requesters out. Filing costs a proof of work instead, on a
challenge this server made (keyed hash: it cannot be forged), for this circle, recently
(it expires), at a work that rises with how many requests the circle, and the whole server,
accepted in the last window:

    work = base + floor(base * (circle_load / circle_step + server_load / server_step))

An attacker's compute buys requests at the price the load sets, so the price rises until
their requests arrive no faster than their compute allows; a genuine requester pays the
same price once (docs/benchmarks.md, takedown flood, for what that means in minutes). A
challenge stays good while the work now asked is at most twice its own, so solutions made
cheaply before a flood cannot be spent during it; a genuine requester caught by a rising
load solves one new challenge.
"""

import hmac
import math
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.passwords import public_work
from app.accounts.tokens import keyed_hash
from app.circles import events
from app.circles.models import Circle
from app.crypto import CryptoError, labels
from app.crypto.encoding import b64encode
from app.crypto.moderation import usable_public_key
from app.crypto.proofs import MAX_WORK, proof_seed, verify_proof
from app.crypto.reports import case_hash
from app.crypto.takedowns import receipt_token_hash
from app.db import utcnow
from app.errors import (
    CaseExists,
    ChallengeExpired,
    ChallengeInvalid,
    InvalidRequest,
    ProofInvalid,
    ReceiptNotFound,
    TakedownLinkInvalid,
)
from app.moderation.models import Case, ModerationKeyRow
from app.moderation.schemas import CHALLENGE_BYTES, TakedownCreate, TakedownLinkIn
from app.moderation.service import store_case
from app.settings import Settings

CHALLENGE_VERSION = 1
# version (1) || circle id (16) || issued at, unix seconds (8) || work (4) || random (16),
# then the keyed BLAKE2b of those 45 bytes (32).
_BODY_BYTES = CHALLENGE_BYTES - 32
CLOCK_SKEW = timedelta(seconds=5)  # workers' clocks may differ this much
# A challenge stays good while the work asked now is at most this many times its own.
STALE_FACTOR = 2


@dataclass(frozen=True)
class Challenge:
    circle_id: uuid.UUID
    issued_at: datetime
    work: int
    raw: bytes

    def expires_at(self, settings: Settings) -> datetime:
        return self.issued_at + timedelta(seconds=settings.takedown_challenge_seconds)


def _mac(settings: Settings, body: bytes) -> bytes:
    return keyed_hash(settings.server_key, labels.PERSON_PROOF_CHALLENGE, body)


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _link_key(session: Session, link: TakedownLinkIn, *, lock: bool = False) -> Circle:
    """The circle, if it has that generation with that public key (the link as capability)."""
    circle = session.get(Circle, link.circle_id, with_for_update=lock)
    if circle is None:
        raise TakedownLinkInvalid()
    key = session.get(ModerationKeyRow, (circle.id, link.generation))
    if key is None or not hmac.compare_digest(key.public_key, link.moderation_key):
        raise TakedownLinkInvalid()
    return circle


def required_work(session: Session, settings: Settings, *, circle_id: uuid.UUID) -> int:
    """The work asked of a request to this circle now, from the requests accepted recently."""
    since = utcnow() - timedelta(seconds=settings.takedown_load_window_seconds)
    recent = (Case.kind == "takedown") & (Case.created_at > since)
    circle_load, server_load = session.execute(
        select(
            func.count().filter(Case.circle_id == circle_id),
            func.count(),
        ).where(recent)
    ).one()
    return work_for(settings, circle_load=circle_load, server_load=server_load)


def work_for(settings: Settings, *, circle_load: int, server_load: int) -> int:
    """The work per solution at these loads (requests accepted in the window): the base,
    and one base more per ``circle_step`` requests to the circle and per ``server_step`` to
    the whole server, rounded down (a quiet server asks exactly the base)."""
    extra = (
        circle_load / settings.takedown_circle_load_step
        + server_load / settings.takedown_server_load_step
    )
    return min(MAX_WORK, settings.takedown_work + math.floor(settings.takedown_work * extra))


def issue_challenge(session: Session, settings: Settings, *, link: TakedownLinkIn) -> Challenge:
    circle = _link_key(session, link)
    now = utcnow().replace(microsecond=0)
    work = required_work(session, settings, circle_id=circle.id)
    body = (
        bytes([CHALLENGE_VERSION])
        + circle.id.bytes
        + _seconds(now).to_bytes(8, "big")
        + work.to_bytes(4, "big")
        + os.urandom(16)
    )
    return Challenge(circle.id, now, work, body + _mac(settings, body))


def _open_challenge(settings: Settings, raw: bytes, *, circle_id: uuid.UUID) -> Challenge:
    """The challenge, if this server made it for this circle; else ``ChallengeInvalid``."""
    if len(raw) != CHALLENGE_BYTES or raw[0] != CHALLENGE_VERSION:
        raise ChallengeInvalid()
    body, mac = raw[:_BODY_BYTES], raw[_BODY_BYTES:]
    if not hmac.compare_digest(mac, _mac(settings, body)):
        raise ChallengeInvalid()
    if uuid.UUID(bytes=body[1:17]) != circle_id:
        raise ChallengeInvalid("This challenge was given out for another circle.")
    issued = datetime.fromtimestamp(int.from_bytes(body[17:25], "big"), UTC)
    return Challenge(circle_id, issued, int.from_bytes(body[25:29], "big"), raw)


def _check_current(session: Session, settings: Settings, challenge: Challenge) -> None:
    """``ChallengeExpired`` if it is too old, or the work asked now is over twice its own."""
    now = utcnow()
    if not challenge.issued_at - CLOCK_SKEW <= now <= challenge.expires_at(settings):
        raise ChallengeExpired()
    required = required_work(session, settings, circle_id=challenge.circle_id)
    if challenge.work * STALE_FACTOR < required:
        raise ChallengeExpired()


def _link(request: TakedownCreate) -> TakedownLinkIn:
    return TakedownLinkIn(
        circle_id=request.circle_id,
        generation=request.generation,
        moderation_key=request.moderation_key,
    )


def _admit(session: Session, settings: Settings, request: TakedownCreate) -> Challenge:
    """Everything that can refuse a request, except the proof itself."""
    circle = _link_key(session, _link(request))
    challenge = _open_challenge(settings, request.proof.challenge, circle_id=circle.id)
    _check_current(session, settings, challenge)
    if session.get(Case, request.case_id) is not None:
        raise CaseExists()
    return challenge


def file_takedown(
    session: Session, settings: Settings, *, reader: Session, request: TakedownCreate
) -> Case:
    """No account needed: the link (circle id and moderation public key) is the capability,
    and a proof of work on a fresh challenge the price.

    Checked in ``reader`` first (no write lock), then the proof (up to eight Argon2
    evaluations on the nice-19 threads, outside any transaction: on SQLite a write
    transaction would hold the database's write lock through them), then checked again and
    stored in ``session``."""
    if not usable_public_key(request.receipt_key):
        raise InvalidRequest("receipt_key is not a usable X25519 public key")
    try:
        challenge = _admit(reader, settings, request)
    finally:
        reader.rollback()
    seed = proof_seed(challenge.raw, request.case_id, case_hash(request.ciphertext))
    try:
        public_work(lambda: verify_proof(seed, challenge.work, request.proof.nonces))
    except CryptoError as exc:
        raise ProofInvalid() from exc
    circle = _link_key(session, _link(request), lock=True)
    _check_current(session, settings, challenge)  # the load may have risen meanwhile
    case = store_case(
        session,
        Case(
            id=request.case_id,
            circle_id=circle.id,
            kind="takedown",
            entry_id=None,
            reporter_id=None,
            generation=request.generation,
            ciphertext=request.ciphertext,
            receipt_key=request.receipt_key,
            receipt_token_hash=receipt_token_hash(request.receipt_token),
        ),
        CaseExists(),  # the case id or the receipt token is taken
    )
    events.append(
        session,
        circle_id=circle.id,
        kind="takedown_filed",
        actor="",
        details={"case_id": case.id.hex, "case_hash": b64encode(case.case_hash)},
    )
    return case


def receipt_status(session: Session, *, case_id: uuid.UUID, token: bytes) -> Case:
    case = session.scalars(
        select(Case).where(Case.receipt_token_hash == receipt_token_hash(token))
    ).first()
    if case is None or case.id != case_id:
        raise ReceiptNotFound()
    return case
