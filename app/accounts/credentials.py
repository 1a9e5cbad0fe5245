"""Checking a credential: throttle first, then verify, and log every outcome (ASVS 16.3.1)."""

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import security_log
from app.accounts import throttle
from app.accounts.models import User
from app.accounts.passwords import verify_secret
from app.errors import InvalidCredentials, RateLimited
from app.settings import Settings


def log_authentication(
    operation: str,
    *,
    outcome: str,
    user: str | None,
    address: str | None,
    factor: str,
    reason: str | None = None,
    **fields: Any,
) -> None:
    """One ``authentication`` security event (ASVS 16.3.1); never a credential, only names."""
    security_log.record(
        "authentication",
        outcome=outcome,
        level=logging.INFO if outcome == "success" else logging.WARNING,
        operation=operation,
        factor=factor,
        reason=reason,
        user=user,
        address=address,
        **fields,
    )


def check_credential(
    session: Session,
    settings: Settings,
    *,
    operation: str,
    username: str,
    address: str,
    secret: bytes,
    recovery: bool = False,
) -> User:
    """Throttle, then verify; unknown users cost the same Argon2 work as known ones.

    Every outcome is logged; the caller logs the success once its use case is done."""
    factor = "recovery_code" if recovery else "auth_key"

    def failed(reason: str) -> None:
        log_authentication(
            operation,
            outcome="failure",
            reason=reason,
            user=username,
            address=address,
            factor=factor,
        )

    try:
        throttle.check(session, settings, username=username, address=address)
    except RateLimited:
        failed(RateLimited.code)
        raise
    user = session.scalar(select(User).where(User.username == username))
    stored = None if user is None else (user.recovery_auth_hash if recovery else user.auth_hash)
    # Verify first, then look at ``user``: an unknown name must run the same Argon2 (against
    # the dummy hash) as a known one, or the answer's timing says which names exist.
    verified = verify_secret(settings, stored, secret)
    if user is None or not verified:
        throttle.record_failure(session, settings, username=username, address=address)
        failed(InvalidCredentials.code)
        raise InvalidCredentials()
    return user
