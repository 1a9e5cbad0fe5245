"""Anonymous posting tokens (docs/protocol.md §38): the issuance record, blind issuance,
spending a token, and the admins' audited unmask.

Issuance is authenticated: the server knows which member took how many tokens in which
week and epoch (``Issuance``), never which token is whose (the elements are blinded). A
token is spent on a request with no session; the server keeps only its nullifier
(``SpentToken``). Keys are per circle and epoch, derived from the server's secret key, so
a rotation (every removal starts one) kills every unspent token of the earlier epoch.
"""

import functools
import hmac
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.tokens import keyed_hash
from app.anon.models import Issuance, IssuanceRecordRow, SpentToken
from app.anon.schemas import IssuanceCreate, TokenRequest
from app.circles import events
from app.circles.access import active_member, circle_admin
from app.circles.models import Membership
from app.circles.queries import CircleCounters
from app.circles.records import identity_of
from app.crypto import CryptoError, labels
from app.crypto.anon import (
    IssuanceRecord,
    outputs_equal,
    token_nullifier,
    token_period,
    token_scope,
)
from app.crypto.encoding import b64encode
from app.crypto.moderation import u64
from app.crypto.voprf import OprfElement, OprfKey, OprfMode, VoprfServer
from app.db import utcnow
from app.entries.models import Corroboration, Entry
from app.errors import (
    AnonNotSetUp,
    BadToken,
    EntryNotFound,
    InvalidBlinded,
    InvalidIssuanceRecord,
    IssuanceRecordExists,
    NotAnonymous,
    RotationDue,
    StaleEpoch,
    StaleToken,
    TokenLimit,
    TokenSpent,
)
from app.settings import Settings


def issuance_key(settings: Settings, circle_id: uuid.UUID, epoch: int) -> tuple[OprfKey, bytes]:
    """The circle's token key for one epoch (RFC 9497 DeriveKeyPair from the server's
    secret key: nothing stored, the same in every worker) and its public half."""
    return _derived(settings.server_key, circle_id, epoch)


@functools.lru_cache(maxsize=1024)
def _derived(server_key: bytes, circle_id: uuid.UUID, epoch: int) -> tuple[OprfKey, bytes]:
    seed = keyed_hash(server_key, labels.PERSON_ANON_OPRF_KEY, b"")
    key = OprfKey.derive(seed, circle_id.bytes + u64(epoch), mode=OprfMode.VOPRF)
    return key, bytes(key.public_key)


def _record(session: Session, circle_id: uuid.UUID, epoch: int) -> IssuanceRecordRow | None:
    return session.get(IssuanceRecordRow, (circle_id, epoch))


def _period() -> int:
    return token_period(int(utcnow().timestamp()))


def _used(session: Session, circle_id: uuid.UUID, user: User, epoch: int) -> int:
    row = session.get(Issuance, (circle_id, user.id, epoch, _period()))
    return 0 if row is None else row.tokens


@dataclass(frozen=True)
class IssuanceView:
    epoch: int
    oprf_public_key: bytes  # what the server says; only an admin's signature pins it
    record: IssuanceRecordRow | None
    signer: str | None
    used: int
    allowed: int


def get_issuance(
    session: Session, settings: Settings, *, circle_id: uuid.UUID, user: User
) -> IssuanceView:
    circle, _ = active_member(session, circle_id=circle_id, user=user)
    row = _record(session, circle.id, circle.epoch)
    signer = None if row is None else session.get(User, row.signer_id)
    return IssuanceView(
        circle.epoch,
        issuance_key(settings, circle.id, circle.epoch)[1],
        row,
        None if signer is None else signer.username,
        _used(session, circle.id, user, circle.epoch),
        0 if row is None else row.tokens_per_week,
    )


def set_issuance(
    session: Session,
    settings: Settings,
    *,
    circle_id: uuid.UUID,
    actor: User,
    request: IssuanceCreate,
) -> IssuanceRecordRow:
    """Accept an admin's signature on this epoch's issuance key; an audit leaf carries it."""
    circle, _ = circle_admin(session, circle_id=circle_id, user=actor, lock=True)
    raw = request.record.encode("utf-8")
    try:
        record = IssuanceRecord.parse(raw)
        record.verify_signature(request.signature, identity_of(actor))
    except CryptoError as exc:
        raise InvalidIssuanceRecord(str(exc)) from exc
    if record.epoch != circle.epoch:
        raise StaleEpoch()
    public = issuance_key(settings, circle.id, circle.epoch)[1]
    if (
        record.circle_id != circle.id
        or record.signer != actor.username
        or not hmac.compare_digest(record.oprf_public_key, public)
    ):
        raise InvalidIssuanceRecord("the record names another circle, signer or key")
    existing = _record(session, circle.id, circle.epoch)
    if existing is not None:
        if existing.record == raw:
            return existing  # an idempotent retry
        raise IssuanceRecordExists()
    row = IssuanceRecordRow(
        circle_id=circle.id,
        epoch=record.epoch,
        record=raw,
        signature=request.signature,
        signer_id=actor.id,
        tokens_per_week=record.tokens_per_week,
        created_at=utcnow(),
    )
    session.add(row)
    events.append(
        session,
        circle_id=circle.id,
        kind="anon_issuance_key",
        actor=actor.username,
        details={
            "epoch": record.epoch,
            "record": request.record,
            "signature": b64encode(request.signature),
        },
    )
    session.flush()
    return row


def issue(
    session: Session,
    settings: Settings,
    *,
    circle_id: uuid.UUID,
    actor: User,
    request: TokenRequest,
) -> tuple[list[bytes], bytes]:
    """BlindEvaluate a member's batch under this epoch's key, within the weekly allowance."""
    circle, _ = active_member(session, circle_id=circle_id, user=actor, lock=True)
    if request.epoch != circle.epoch:
        raise StaleEpoch()
    row = _record(session, circle.id, circle.epoch)
    if row is None:
        raise AnonNotSetUp()
    try:
        blinded = [OprfElement(raw) for raw in request.blinded]
    except CryptoError as exc:
        raise InvalidBlinded() from exc
    period = _period()
    count = session.get(Issuance, (circle.id, actor.id, circle.epoch, period))
    used = 0 if count is None else count.tokens
    if used + len(blinded) > row.tokens_per_week:
        raise TokenLimit()
    if count is None:
        session.add(
            Issuance(
                circle_id=circle.id,
                user_id=actor.id,
                epoch=circle.epoch,
                period=period,
                tokens=len(blinded),
            )
        )
    else:
        count.tokens = used + len(blinded)
    key, _ = issuance_key(settings, circle.id, circle.epoch)
    evaluation = VoprfServer(key).blind_evaluate(blinded)
    return [bytes(e) for e in evaluation.elements], bytes(evaluation.proof)


def spend(
    session: Session,
    settings: Settings,
    *,
    circle: CircleCounters,
    token_input: bytes,
    token_output: bytes,
) -> None:
    """Refuse anything but an unspent token of this circle's current epoch, and spend it.
    The caller holds the circle row's lock, so two requests cannot spend one token."""
    try:
        scope = token_scope(token_input)
    except CryptoError as exc:
        raise BadToken() from exc
    if scope.circle_id != circle.id:
        raise BadToken()
    if scope.epoch != circle.epoch:
        raise StaleToken()  # also every unspent token of a removed member
    if _held_by_a_former_member(session, circle_id=circle.id, epoch=circle.epoch):
        raise RotationDue()
    key, _ = issuance_key(settings, circle.id, scope.epoch)
    if not outputs_equal(VoprfServer(key).evaluate(token_input), token_output):
        raise BadToken()
    nullifier = token_nullifier(token_input)
    if session.get(SpentToken, (circle.id, nullifier)) is not None:
        raise TokenSpent()
    session.execute(
        delete(SpentToken).where(SpentToken.circle_id == circle.id, SpentToken.epoch < scope.epoch)
    )
    session.add(SpentToken(circle_id=circle.id, nullifier=nullifier, epoch=scope.epoch))
    session.flush()


def _held_by_a_former_member(session: Session, *, circle_id: uuid.UUID, epoch: int) -> bool:
    """Whether someone who is no longer an active member (left, or deleted their account:
    the key is not rotated until an admin's client does it) took tokens of this epoch. Such
    a token would still pass as "a current member's", so no token of the epoch is taken
    until the rotation; a removal rotates at once, so it never gets here."""
    active = exists().where(
        Membership.circle_id == Issuance.circle_id,
        Membership.user_id == Issuance.user_id,
        Membership.status == "active",
    )
    found = select(
        exists().where(Issuance.circle_id == circle_id, Issuance.epoch == epoch, ~active)
    )
    return bool(session.scalar(found))


@dataclass(frozen=True)
class Unmasked:
    object_id: uuid.UUID
    author_key: bytes
    sealed_author: bytes
    generation: int


def unmask(
    session: Session,
    *,
    circle_id: uuid.UUID,
    entry_id: uuid.UUID,
    corroboration_id: uuid.UUID | None,
    actor: User,
) -> Unmasked:
    """Hand an admin the sealed author of an anonymous warning or corroboration, and write
    that they asked into the circle's log first: an unmask is never silent."""
    circle, _ = circle_admin(session, circle_id=circle_id, user=actor, lock=True)
    entry = session.get(Entry, entry_id)
    if entry is None or entry.circle_id != circle.id:
        raise EntryNotFound()
    target: Entry | Corroboration = entry
    if corroboration_id is not None:
        item = session.get(Corroboration, corroboration_id)
        if item is None or item.entry_id != entry.id:
            raise EntryNotFound()
        target = item
    if not target.anonymous or target.sealed_author is None or target.author_generation is None:
        raise NotAnonymous()
    details = {"entry_id": entry.id.hex}
    if corroboration_id is not None:
        details["corroboration_id"] = corroboration_id.hex
    events.append(
        session, circle_id=circle.id, kind="author_unmasked", actor=actor.username, details=details
    )
    return Unmasked(target.id, target.author_key, target.sealed_author, target.author_generation)
