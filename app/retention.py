"""Hold less, for less time: what the server forgets, and when.

Two rules, so that what an operator can be made to hand over is as little as we can manage
(docs/operations.md, "What we hold, and what we can be made to hand over"):

- **Coarse times.** Every stored time that could be joined with an anonymous warning or
  corroboration is a whole hour (``PRECISION``): a session's last use, and the anonymous
  rows' own times. Anyone holding the database learns "this session was used in that hour"
  and "this anonymous warning was posted in that hour", never the minute.
- **Short lives.** Rows that exist only to enforce a limit or to end a session are deleted
  once the limit or the session no longer needs them: failed-login and registration
  counters after their longest window, ended sessions after
  ``BACKCHANNEL_ENDED_SESSION_RETENTION_SECONDS``, sealed-warning evaluation counts after
  ``BACKCHANNEL_SEALED_EVALUATION_RETENTION_SECONDS`` (default and least: their day),
  anonymous-token issuance counts after their week, spent tokens of past epochs (refused
  anyway: their key is gone), and a decided takedown request's sealed words (the
  requester's name, contact and text) ``BACKCHANNEL_TAKEDOWN_REQUEST_RETENTION_SECONDS``
  after its last decision. ``purge_held`` does it, run by `backchannel-server purge` and
  by each worker's periodic task (``BACKCHANNEL_PURGE_INTERVAL_SECONDS``).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from app.accounts.models import AuthFailure, AuthSession, RegistrationHit
from app.anon.models import Issuance, SpentToken
from app.circles.models import Circle
from app.crypto.anon import token_period
from app.db import PRECISION, coarse
from app.moderation.models import Case
from app.moderation.service import DECIDED_STATUSES
from app.sealed.models import SealedEvaluation
from app.sealed.service import evaluation_retention
from app.settings import Settings

__all__ = ["PRECISION", "Purged", "coarse", "purge_held"]


@dataclass(frozen=True)
class Purged:
    """How many rows one pass deleted, per kind."""

    sessions: int
    auth_failures: int
    registration_hits: int
    evaluations: int
    issuances: int
    spent_tokens: int
    takedown_requests: int

    @property
    def total(self) -> int:
        return (
            self.sessions
            + self.auth_failures
            + self.registration_hits
            + self.evaluations
            + self.issuances
            + self.spent_tokens
            + self.takedown_requests
        )


def throttle_horizon(settings: Settings) -> timedelta:
    """The longest failed-login window: older failure rows count for nothing."""
    return timedelta(
        seconds=max(
            settings.login_pair_window_seconds,
            settings.login_account_window_seconds,
            settings.login_address_window_seconds,
        )
    )


def registration_horizon(settings: Settings) -> timedelta:
    return timedelta(
        seconds=max(
            settings.registration_address_window_seconds,
            settings.registration_server_window_seconds,
        )
    )


def purge_held(session: Session, settings: Settings, *, now: datetime) -> Purged:
    """Delete what no rule needs any more (in ``session``'s transaction)."""
    ended_before = now - timedelta(seconds=settings.ended_session_retention_seconds)
    idle_before = ended_before - timedelta(seconds=settings.session_idle_seconds)
    sessions = session.execute(
        delete(AuthSession).where(
            or_(
                AuthSession.revoked_at <= ended_before,
                AuthSession.expires_at <= ended_before,
                AuthSession.last_used_at <= idle_before,
            )
        )
    )
    failures = session.execute(
        delete(AuthFailure).where(AuthFailure.created_at <= now - throttle_horizon(settings))
    )
    hits = session.execute(
        delete(RegistrationHit).where(
            RegistrationHit.created_at <= now - registration_horizon(settings)
        )
    )
    evaluations = session.execute(
        delete(SealedEvaluation).where(
            SealedEvaluation.created_at <= now - evaluation_retention(settings)
        )
    )
    # The weekly allowance counts only the current week's row (app/anon/service.py).
    issuances = session.execute(
        delete(Issuance).where(Issuance.period < token_period(int(now.timestamp())))
    )
    current_epoch = select(Circle.epoch).where(Circle.id == SpentToken.circle_id).scalar_subquery()
    spent = session.execute(delete(SpentToken).where(SpentToken.epoch < current_epoch))
    # A decided takedown's request is wiped, not deleted: decisions chain to its case_hash,
    # which stays, as does the receipt key the requester reads the response with.
    requests = session.execute(
        update(Case)
        .where(
            Case.kind == "takedown",
            Case.status.in_(DECIDED_STATUSES),  # no decision can follow
            Case.updated_at <= now - timedelta(seconds=settings.takedown_request_retention_seconds),
            Case.ciphertext != b"",
        )
        .values(ciphertext=b"")
    )
    return Purged(
        sessions=_count(sessions),
        auth_failures=_count(failures),
        registration_hits=_count(hits),
        evaluations=_count(evaluations),
        issuances=_count(issuances),
        spent_tokens=_count(spent),
        takedown_requests=_count(requests),
    )


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
