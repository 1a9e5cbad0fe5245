"""Failed-credential throttling, counted in the database so it holds across workers.

Three sliding windows: per (account, address), per account and per address.
A window only counts failures inside it, so a lock always lifts on its own; a
stranger hammering one account from one address trips only the narrow
(account, address) window; tripping the account-wide window takes the ASVS
ceiling of 100 failures an hour.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.accounts.models import AuthFailure
from app.accounts.tokens import keyed_hash
from app.crypto import labels
from app.db import utcnow
from app.errors import RateLimited
from app.settings import Settings


@dataclass(frozen=True)
class _Window:
    scope: str
    key_hash: bytes
    limit: int
    seconds: int


def _windows(settings: Settings, *, username: str, address: str) -> list[_Window]:
    def key(*parts: str) -> bytes:
        return keyed_hash(settings.server_key, labels.PERSON_THROTTLE, "\x00".join(parts).encode())

    return [
        _Window(
            "pair",
            key("pair", username, address),
            settings.login_pair_limit,
            settings.login_pair_window_seconds,
        ),
        _Window(
            "account",
            key("account", username),
            settings.login_account_limit,
            settings.login_account_window_seconds,
        ),
        _Window(
            "address",
            key("address", address),
            settings.login_address_limit,
            settings.login_address_window_seconds,
        ),
    ]


def check(session: Session, settings: Settings, *, username: str, address: str) -> None:
    """Raise ``RateLimited`` (with Retry-After) if any window is full."""
    now = utcnow()
    for window in _windows(settings, username=username, address=address):
        since = now - timedelta(seconds=window.seconds)
        count, oldest = session.execute(
            select(func.count(), func.min(AuthFailure.created_at)).where(
                AuthFailure.scope == window.scope,
                AuthFailure.key_hash == window.key_hash,
                AuthFailure.created_at > since,
            )
        ).one()
        if count >= window.limit:
            retry = int((oldest + timedelta(seconds=window.seconds) - now).total_seconds()) + 1
            raise RateLimited(retry_after=retry)


def record_failure(session: Session, settings: Settings, *, username: str, address: str) -> None:
    """Add failure rows to this transaction; ``InvalidCredentials`` commits them (keep_writes)."""
    now = utcnow()
    longest = max(
        settings.login_pair_window_seconds,
        settings.login_account_window_seconds,
        settings.login_address_window_seconds,
    )
    session.execute(
        delete(AuthFailure).where(AuthFailure.created_at < now - timedelta(seconds=longest))
    )
    session.add_all(
        AuthFailure(scope=w.scope, key_hash=w.key_hash, created_at=now)
        for w in _windows(settings, username=username, address=address)
    )
    session.flush()
