"""Logins cannot starve other requests: Argon2 runs on threads at a lower CPU priority."""

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from app.accounts import passwords
from app.client.sdk import Client
from tests.conftest import PASSPHRASES


def _nice(tid: int) -> int:
    # /proc/<pid>/task/<tid>/stat: field 19 is the nice value (after the "(comm)" field).
    stat = Path(f"/proc/self/task/{tid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="Linux /proc only")
def test_login_hashes_on_low_priority_threads(
    register: Callable[..., Client], make_client: Callable[..., Client]
) -> None:
    register("alice")
    make_client().login("alice", PASSPHRASES["alice"])
    live = [t for t in passwords.THREADS if Path(f"/proc/self/task/{t}").exists()]
    assert live, "Argon2 ran on no thread of its pool"
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert all(_nice(t) >= max(base, 10) for t in live)
    assert _nice(os.getpid()) == base  # the request threads keep the normal priority


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="Linux /proc only")
def test_registrations_hash_below_logins(register: Callable[..., Client]) -> None:
    """Work for callers without an account runs at nice 19, under logins' nice 10: a flood of
    registrations yields the CPU to a login that needs it."""
    register("alice")
    live = [t for t in passwords.PUBLIC_THREADS if Path(f"/proc/self/task/{t}").exists()]
    assert live, "registration hashed on no thread of the public pool"
    assert all(_nice(t) >= max(os.getpriority(os.PRIO_PROCESS, 0), 19) for t in live)
