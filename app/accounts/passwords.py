"""argon2-cffi hashing of the high-entropy secrets clients send (auth keys, recovery auth keys)."""

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.settings import Settings


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher(settings: Settings) -> PasswordHasher:
    return _hasher(
        settings.server_hash_time_cost,
        settings.server_hash_memory_kib,
        settings.server_hash_parallelism,
    )


@lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_kib, parallelism).hash(b"\x00" * 32)


def hash_secret(settings: Settings, secret: bytes) -> str:
    return hasher(settings).hash(secret)


def verify_secret(settings: Settings, stored: str | None, secret: bytes) -> bool:
    """Constant work whether or not the account exists: unknown accounts check a dummy hash."""
    target = stored or _dummy_hash(
        settings.server_hash_time_cost,
        settings.server_hash_memory_kib,
        settings.server_hash_parallelism,
    )
    try:
        ok = hasher(settings).verify(target, secret)
    except (VerificationError, InvalidHashError):
        return False
    return ok and stored is not None
