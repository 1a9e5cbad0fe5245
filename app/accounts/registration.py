"""Who may make an account, and how many: the registration mode and limits.

Accounts made are counted in the database (so the limits hold across workers) in two
sliding windows: per client address (an IPv4 address, or an IPv6 /64, which one host
usually holds whole) and server-wide. Only accounts actually made count: a refused
registration costs the server no Argon2 and fills no window. The per-address window stops
one host from minting accounts; the server-wide window bounds what many hosts can do
together, at the price that filling it pauses everyone's registration until it slides
(`BACKCHANNEL_REGISTRATION=invite` closes that: only invite holders can fill it).
"""

import ipaddress
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.accounts.models import RegistrationHit
from app.accounts.tokens import keyed_hash
from app.crypto import labels
from app.db import utcnow
from app.errors import RateLimited
from app.settings import Settings


def address_bucket(address: str) -> str:
    """IPv6 clients get a /64 each (one host usually holds a whole /64); IPv4 one address."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


@dataclass(frozen=True)
class _Window:
    scope: str
    key_hash: bytes
    limit: int
    seconds: int


def _windows(settings: Settings, address: str) -> list[_Window]:
    def key(*parts: str) -> bytes:
        message = "\x00".join(("register", *parts)).encode()
        return keyed_hash(settings.server_key, labels.PERSON_THROTTLE, message)

    return [
        _Window(
            "address",
            key("address", address_bucket(address)),
            settings.registration_address_limit,
            settings.registration_address_window_seconds,
        ),
        _Window(
            "server",
            key("server"),
            settings.registration_server_limit,
            settings.registration_server_window_seconds,
        ),
    ]


def admit(session: Session, settings: Settings, *, address: str, record: bool = True) -> None:
    """Raise ``RateLimited`` (with Retry-After) if a window is full; ``record``: count this
    account in both, in the registration's own transaction (it counts only if it commits)."""
    now = utcnow()
    windows = _windows(settings, address)
    for window in windows:
        since = now - timedelta(seconds=window.seconds)
        count, oldest = session.execute(
            select(func.count(), func.min(RegistrationHit.created_at)).where(
                RegistrationHit.scope == window.scope,
                RegistrationHit.key_hash == window.key_hash,
                RegistrationHit.created_at > since,
            )
        ).one()
        if count >= window.limit:
            retry = int((oldest + timedelta(seconds=window.seconds) - now).total_seconds()) + 1
            raise RateLimited(
                retry_after=max(retry, 1),
                message="Too many accounts were made from here or on this server; try later.",
            )
    if not record:
        return
    longest = max(w.seconds for w in windows)
    session.execute(
        delete(RegistrationHit).where(
            RegistrationHit.created_at <= now - timedelta(seconds=longest)
        )
    )
    session.add_all(
        RegistrationHit(scope=w.scope, key_hash=w.key_hash, created_at=now) for w in windows
    )
