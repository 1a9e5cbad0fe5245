"""argon2-cffi hashing of the high-entropy secrets clients send (auth keys, recovery auth keys)."""

import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.settings import Settings

T = TypeVar("T")

# Argon2 runs on its own threads at a lower CPU priority (nice 10, Linux per-thread), so a
# flood of logins cannot starve reads and writes: the kernel gives the request threads the
# CPU first, and logins take what is left. Work for callers without an account
# (registrations, takedown proofs) runs lower still (nice 19): when it competes with a login
# for a core, the login gets about seven eighths of it (CFS weights 110 and 15). The callers
# already hold a slot of their lane (``app.deps``), which bounds how many wait here.
_ACCOUNT_PRIORITY = 10
_PUBLIC_PRIORITY = 19


THREADS: set[int] = set()  # native ids of the Argon2 threads (the tests read their priority)
PUBLIC_THREADS: set[int] = set()  # the subset running public work


def _lower_priority(nice: int, public: bool) -> Callable[[], None]:
    def initializer() -> None:
        tid = threading.get_native_id()
        THREADS.add(tid)
        if public:
            PUBLIC_THREADS.add(tid)
        # Not Linux, or not allowed: run at the process's priority.
        with contextlib.suppress(AttributeError, OSError):
            current = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, max(current, nice))

    return initializer


# Threads start on demand; the slots (``BACKCHANNEL_ARGON2_CONCURRENCY``,
# ``BACKCHANNEL_PUBLIC_WORK_CONCURRENCY``) bound how many run, so the pools' own ceilings
# are set well above any sensible slot count.
_POOL = ThreadPoolExecutor(
    max_workers=64,
    thread_name_prefix="argon2",
    initializer=_lower_priority(_ACCOUNT_PRIORITY, public=False),
)
_PUBLIC_POOL = ThreadPoolExecutor(
    max_workers=64,
    thread_name_prefix="argon2-public",
    initializer=_lower_priority(_PUBLIC_PRIORITY, public=True),
)


def _argon2(work: Callable[[], T]) -> T:
    return _POOL.submit(work).result()


def public_work(work: Callable[[], T]) -> T:
    """Run ``work`` (Argon2 for a caller without an account) on the nice-19 threads."""
    return _PUBLIC_POOL.submit(work).result()


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
    return _argon2(lambda: _hasher(time_cost, memory_kib, parallelism).hash(b"\x00" * 32))


def hash_secret(settings: Settings, secret: bytes, *, public: bool = False) -> str:
    """An argon2-cffi hash of ``secret``; ``public``: for a new account, on the public lane."""
    run = public_work if public else _argon2
    return run(lambda: hasher(settings).hash(secret))


def verify_secret(settings: Settings, stored: str | None, secret: bytes) -> bool:
    """Constant work whether or not the account exists: unknown accounts check a dummy hash."""
    target = stored or _dummy_hash(
        settings.server_hash_time_cost,
        settings.server_hash_memory_kib,
        settings.server_hash_parallelism,
    )
    try:
        ok = _argon2(lambda: hasher(settings).verify(target, secret))
    except (VerificationError, InvalidHashError):
        return False
    return ok and stored is not None
