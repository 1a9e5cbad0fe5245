"""One settings class, read once at startup from ``BACKCHANNEL_*`` variables and passed down."""

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.crypto import labels

DEV_SECRET_KEY = "backchannel-development-secret-do-not-deploy"  # noqa: S105 - refused off loopback
DEFAULT_DATABASE_URL = f"sqlite:///{Path('var') / 'backchannel.db'}"


@lru_cache(maxsize=4)
def _server_key(secret: str) -> bytes:
    """Derived once per secret: every authenticated request hashes its token with it."""
    digest: bytes = blake2b(
        secret.encode("utf-8"), digest_size=32, person=labels.PERSON_SERVER_KEY, encoder=RawEncoder
    )
    return digest


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BACKCHANNEL_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # Keys the server's own keyed hashes (session tokens, fake salts, rate-limit keys).
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)

    # Argon2id parameters announced to clients (the client refuses less than t=3, 64 MiB).
    kdf_opslimit: int = Field(default=3, ge=1)
    kdf_memlimit: int = Field(default=64 * 1024 * 1024, ge=8192)

    # argon2-cffi parameters for hashing the client's auth_key (OWASP minimum or more).
    server_hash_time_cost: int = Field(default=2, ge=1)
    server_hash_memory_kib: int = Field(default=19 * 1024, ge=8)
    server_hash_parallelism: int = Field(default=1, ge=1)
    # How many Argon2 verifications may run at once (per worker process); the rest wait
    # without holding a thread. Half the CPUs: a login flood then leaves the other half to
    # everything else (bench.http_ceiling, docs/benchmarks.md).
    argon2_concurrency: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) // 2), ge=1
    )
    argon2_wait_seconds: float = Field(default=10.0, gt=0)
    # Argon2 for callers without an account (registrations, takedown proofs) has its own,
    # smaller lane on threads at nice 19, so a flood of them cannot take the slots or the
    # CPU that logins of existing accounts need (bench.registration_flood).
    public_work_concurrency: int = Field(default=1, ge=1)

    # Who may make an account: anyone ("open"), or only someone holding a valid circle
    # invite ("invite"). Accounts made, per client address and server-wide, are limited in
    # either mode (counted in the database, so the limits hold across workers).
    registration: Literal["open", "invite"] = "open"
    registration_address_limit: int = Field(default=10, ge=1)
    registration_address_window_seconds: int = Field(default=3600, ge=1)
    registration_server_limit: int = Field(default=200, ge=1)
    registration_server_window_seconds: int = Field(default=3600, ge=1)

    session_idle_seconds: int = Field(default=24 * 3600, ge=1)
    session_lifetime_seconds: int = Field(default=14 * 24 * 3600, ge=1)

    # An ended session (logged out, expired, idle) is deleted this long after it ended; until
    # then a request with its token is logged as "session_ended" rather than "invalid_token".
    ended_session_retention_seconds: int = Field(default=24 * 3600, ge=0)

    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    # How often each worker runs the retention pass: wipes expired warnings and deletes what
    # no rule needs any more (app/retention.py). 0 turns the task off.
    purge_interval_seconds: float = Field(default=3600.0, ge=0)
    # Sealed-warning evaluation rows (who asked the VOPRF how many names when) exist only to
    # count the daily limit; they are deleted once this old (never less than the 24-hour
    # window they count in), by each evaluation for its own member and by the purge pass.
    sealed_evaluation_retention_seconds: int = Field(default=24 * 3600, ge=24 * 3600)
    # A decided takedown request's sealed words (the requester's name, contact and text) are
    # wiped this long after its last decision (docs/operations.md, What we hold); the case's
    # hash, status and signed decisions stay, and the requester still reads the response.
    takedown_request_retention_seconds: int = Field(default=14 * 24 * 3600, ge=0)

    # Logs (docs/operations.md, Logs): security events name no client address unless this is
    # set, and uvicorn's access log (no address, no query string either way) can be turned off.
    log_addresses: bool = False
    access_log: bool = True
    # Connections and requests in flight per worker before uvicorn answers 503 (its
    # ``limit_concurrency``). Bounds the file-SQLite pool, which grows with the requests in
    # flight (app/db.py), and the file handles: up to about 4 per request (its socket, and a
    # SQLite connection's database and -wal files and -shm mapping). Room for
    # ``events_max_streams`` and as many other requests again several times over.
    max_concurrency: int = Field(default=1000, ge=1)
    # Rotations carry one wrap per member (about 250 bytes each in JSON).
    max_rotation_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)

    # Failed logins, counted in the database so the limits hold across workers.
    login_pair_limit: int = Field(default=10, ge=1)  # per account and address
    login_pair_window_seconds: int = Field(default=15 * 60, ge=1)
    login_account_limit: int = Field(default=100, ge=1)  # ASVS: at most 100 per hour
    login_account_window_seconds: int = Field(default=3600, ge=1)
    login_address_limit: int = Field(default=300, ge=1)
    login_address_window_seconds: int = Field(default=3600, ge=1)

    # Requests without a session (anonymous posts, corroborations, retractions, cases;
    # docs/protocol.md §38), per circle and client address: counted in each worker's memory
    # only (app/anon/throttle.py), never in the database, and forgotten after the window.
    anon_address_limit: int = Field(default=30, ge=1)
    anon_address_window_seconds: int = Field(default=600, ge=1)
    anon_address_circles: int = Field(default=16, ge=1)

    # Public takedown requests cost a proof of work (docs/protocol.md §31.7), no fixed window:
    # ``takedown_work`` expected Argon2id evaluations per solution (eight solutions) when the
    # server is quiet, one more ``takedown_work`` for every ``takedown_circle_load_step``
    # requests the circle accepted in the last ``takedown_load_window_seconds`` (and every
    # ``takedown_server_load_step`` the whole server did). A challenge lasts
    # ``takedown_challenge_seconds``.
    takedown_work: int = Field(default=4, ge=1, le=2**17)
    takedown_load_window_seconds: int = Field(default=600, ge=1)
    takedown_circle_load_step: int = Field(default=40, ge=1)
    takedown_server_load_step: int = Field(default=400, ge=1)
    takedown_challenge_seconds: int = Field(default=600, ge=60)

    # Live update streams (GET /v1/events, docs/api.md): each re-reads its session and the
    # caller's circles from the database every ``events_poll_seconds`` (so a logout, a
    # removal or a deletion ends it within that, in every worker), sends a comment line
    # every ``events_heartbeat_seconds`` so proxies keep it open, and ends after
    # ``events_max_seconds`` (the client reconnects). At most ``events_per_session`` per
    # session, ``events_per_account`` per account (sessions are one login each) and
    # ``events_max_streams`` in all, per worker.
    events_poll_seconds: float = Field(default=2.0, gt=0, le=30)
    events_heartbeat_seconds: float = Field(default=20.0, gt=0)
    events_max_seconds: float = Field(default=900.0, gt=0)
    events_per_session: int = Field(default=3, ge=1)
    events_per_account: int = Field(default=6, ge=1)
    events_max_streams: int = Field(default=200, ge=1)

    # Addresses or networks of the reverse proxies whose X-Forwarded-For names the client
    # (comma-separated, e.g. "10.0.0.5, 2001:db8::/64"). Empty: the header is ignored and
    # the client is the TCP peer, so nobody can pick the address the per-address limits see.
    trusted_proxies: str = ""

    # The signed release manifest of the web client this server serves (made where releases
    # are cut, with the release key: `backchannel-server web-hashes --release-key`). Served
    # at /web-release.json; unset, the page runs without the integrity worker (§35).
    web_release: Path | None = None

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for item in _proxy_items(value):
            ipaddress.ip_network(item, strict=False)  # ValueError: refused at startup
        return value

    @model_validator(mode="after")
    def _streams_leave_room(self) -> "Settings":
        if self.events_max_streams >= self.max_concurrency:
            raise ValueError("max_concurrency must be above events_max_streams")
        return self

    @property
    def trusted_proxy_networks(self) -> list[str]:
        """The trusted proxies as normalised networks (a bare address is a /32 or /128)."""
        return [
            str(ipaddress.ip_network(item, strict=False))
            for item in _proxy_items(self.trusted_proxies)
        ]

    @property
    def server_key(self) -> bytes:
        """32 bytes derived from ``secret_key`` for the server's keyed hashes."""
        return _server_key(self.secret_key.get_secret_value())

    @property
    def uses_development_secret(self) -> bool:
        return self.secret_key.get_secret_value() == DEV_SECRET_KEY


def _proxy_items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
