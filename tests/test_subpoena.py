"""The subpoena: everything the operator holds after a full scenario, and what it links.

A court or an abuser with money goes to the operator. This test plays it: a circle with
named and anonymous warnings, named and anonymous corroborations, reports, a takedown
request and decisions, all through the real HTTP app, with every log line the server
writes captured as ``serve`` writes it. Then it dumps every table of the database
(reflected, so a table added later is dumped without anyone editing this file) and shows,
mechanically, that nothing links an anonymous warning or corroboration to its author's
account, sessions or address:

- no row that names an anonymous item holds any identifier of its author (account id,
  username, identity keys, session ids and token hashes, the address or its keyed hashes);
- an anonymous item's own times are whole hours, and so is every session's last use, so
  no time is finer than the stated period (``app.db.PRECISION``) to join them by;
- the address appears in no log line and in no table, and its keyed hashes only in the
  throttle tables, which the retention pass empties once their windows have passed;
- docs/operations.md ("What we hold, and what we can be made to hand over") lists every
  table and log this test saw.
"""

import fnmatch
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, MetaData, select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from app.accounts.models import AuthFailure, AuthSession, RegistrationHit, User
from app.accounts.registration import address_bucket
from app.accounts.tokens import keyed_hash
from app.client.entries import Entries
from app.client.errors import ApiError
from app.client.sdk import Client
from app.crypto import labels
from app.db import PRECISION, coarse, utcnow
from app.entries.purge import purge_all
from app.security_log import AccessFormatter, JsonFormatter
from app.settings import Settings
from tests.conftest import Person, World, passphrase_for
from tests.moderation.conftest import Desk

OPERATIONS = Path(__file__).resolve().parents[1] / "docs" / "operations.md"
ADDRESS = "203.0.113.9"  # TEST-NET-3: the one address every request in the scenario comes from
SECTION = "## What we hold, and what we can be made to hand over"


class AccessLogged:
    """uvicorn's access-log call, made exactly as ``httptools_impl`` makes it (same logger,
    format and arguments), around the in-process app: the scenario's access log."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.logger = logging.getLogger("uvicorn.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                query = scope.get("query_string", b"").decode("latin-1")
                client = scope.get("client")
                self.logger.info(
                    '%s - "%s %s HTTP/%s" %d',
                    f"{client[0]}:{client[1]}" if client else "",
                    scope["method"],
                    scope["path"] + (f"?{query}" if query else ""),
                    scope["http_version"],
                    message["status"],
                )
            await send(message)

        await self.app(scope, receive, logged)


# The test's own HTTP client logs too; those lines are not the server's.
CLIENT_SIDE = ("httpx", "httpcore")


class Lines(logging.Handler):
    """Every record the server logs, formatted as `backchannel-server serve` writes it (with
    its default settings)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.app_format = JsonFormatter()
        self.access_format = AccessFormatter()
        self.plain = logging.Formatter("%(levelname)s: %(message)s")
        self.lines: list[str] = []
        self.loggers: set[str] = set()
        self.seen: set[int] = set()

    def emit(self, record: logging.LogRecord) -> None:
        family = record.name.split(".")[0]
        if id(record) in self.seen or family in CLIENT_SIDE:
            return  # a record reaches each watched logger it propagates through
        if family not in ("backchannel", "uvicorn") and record.levelno < logging.WARNING:
            return  # serve configures no handler for them: Python prints warnings and up only
        self.seen.add(id(record))
        self.loggers.add(record.name)
        if record.name == "uvicorn.access":
            self.lines.append(self.access_format.format(record))
        elif record.name.startswith("backchannel"):
            self.lines.append(self.app_format.format(record))
        else:
            self.lines.append(self.plain.format(record))


@pytest.fixture
def log_lines() -> Iterator[Lines]:
    handler = Lines()
    watched = [logging.getLogger(n) for n in ("", "backchannel", "uvicorn", "uvicorn.access")]
    levels = [logger.level for logger in watched]
    for logger in watched:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        for logger, level in zip(watched, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


@pytest.fixture
def http(app: FastAPI, log_lines: Lines) -> Iterator[TestClient]:
    """Every request of the scenario comes from ``ADDRESS``, through the access log."""
    with TestClient(
        AccessLogged(app),  # type: ignore[arg-type]
        base_url="http://testserver",
        client=(ADDRESS, 50000),
    ) as client:
        yield client


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table the database has (reflected, not from our models)."""
    reflected = MetaData()
    reflected.reflect(engine)
    with engine.connect() as conn:
        return {
            table.name: [dict(row._mapping) for row in conn.execute(select(table))]
            for table in reflected.sorted_tables
        }


def forms(value: Any) -> set[str]:
    """The ways a value can appear in a stored cell (as text, lower case)."""
    if isinstance(value, uuid.UUID):
        return {str(value), value.hex}
    if isinstance(value, bytes):
        return {value.hex()}
    return {str(value).lower()}


def cell_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value).lower()


def row_text(row: dict[str, Any]) -> str:
    return " ".join(cell_text(v) for v in row.values() if v is not None)


def whole_hour(moment: datetime) -> bool:
    return moment == coarse(moment)


class Scenario:
    """Who did what; ``anonymous``: (table, row id, author) of each anonymous item."""

    def __init__(self) -> None:
        self.anonymous: list[tuple[str, uuid.UUID, Person]] = []
        self.named: list[tuple[str, uuid.UUID, Person]] = []


@pytest.fixture
def scenario(
    world: World,
    http: TestClient,
    person: Callable[[str], Person],
    make_client: Callable[..., Client],
) -> Scenario:
    """alice owns the circle, carol is an admin, bob and gina are members; a stranger files
    a takedown request. Every kind of warning, corroboration and decision once or more."""
    desk = Desk(world, http, person)
    desk.create_key()
    gina = desk.add_member("gina")
    world.open_anonymous()  # alice signs this epoch's token key
    bob, carol, alice = world.bob, world.carol, world.alice
    done = Scenario()

    named = desk.post_entry(bob, subject="Jan Novák", text="Named: he cornered me")
    done.named.append(("entries", named, bob))
    anonymous = desk.post_entry(
        gina, subject="Petr Malý", text="Anon: he followed me", anonymous=True
    )
    done.anonymous.append(("entries", anonymous, gina))
    second = desk.post_entry(
        bob, subject="Eva Dvořák", text="Anon: she threatened me", anonymous=True
    )
    done.anonymous.append(("entries", second, bob))

    def corroborate(who: Person, entry: uuid.UUID, *, anonymous: bool) -> None:
        result = Entries(who.circles).corroborate(
            desk.cid, str(entry), text="me too", anonymous=anonymous
        )
        kind = done.anonymous if anonymous else done.named
        kind.append(("corroborations", uuid.UUID(result["corroboration_id"]), who))

    corroborate(carol, named, anonymous=False)
    corroborate(gina, named, anonymous=True)
    corroborate(bob, anonymous, anonymous=True)
    corroborate(alice, anonymous, anonymous=False)

    report = desk.report(alice, anonymous, reason="doxxing", note="it names his street")
    other = desk.report(gina, named, reason="false", note="not what happened")
    desk.decide(report, "hide")
    desk.decide(other, "dismiss")
    receipt = desk.takedown(name="Petr Malý", contact="petr@example.org")
    desk.decide(receipt.case_id, "dismiss", entry_id=None, response="We looked at it.")
    assert desk.status(receipt).status_code == 200

    # A failed login, a second device and a logout: throttle and session rows.
    with pytest.raises(ApiError):
        make_client().login("gina", "not gina's passphrase at all")
    device = make_client()
    device.login("gina", passphrase_for("gina"))
    device.logout()
    gina.client.me()
    return done


def author_identifiers(engine: Engine, settings: Settings, author: Person) -> dict[str, set[str]]:
    """Everything that names ``author``: their account, keys, sessions, address."""
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.username == author.name)).one()
        sessions = session.scalars(select(AuthSession).where(AuthSession.user_id == user.id)).all()
        found = {
            "account id": forms(user.id),
            "username": {author.name.lower()},
            "identity keys": forms(user.ed25519_public) | forms(user.x25519_public),
            "sessions": set().union(*(forms(s.id) | forms(s.token_hash) for s in sessions)),
        }
    found.update(address_identifiers(settings))
    return found


def address_identifiers(settings: Settings) -> dict[str, set[str]]:
    def throttle(*parts: str) -> bytes:
        return keyed_hash(settings.server_key, labels.PERSON_THROTTLE, "\x00".join(parts).encode())

    return {
        "address": {ADDRESS},
        "address hashes": {
            throttle("address", ADDRESS).hex(),
            throttle("register", "address", address_bucket(ADDRESS)).hex(),
        },
    }


def rows_naming(
    tables: dict[str, list[dict[str, Any]]], item: uuid.UUID
) -> list[tuple[str, dict[str, Any]]]:
    """Every row, in any table, that holds ``item``'s id in any form."""
    needles = forms(item)
    return [
        (name, row)
        for name, rows in tables.items()
        for row in rows
        if any(needle in row_text(row) for needle in needles)
    ]


def links(text: str, identifiers: dict[str, set[str]]) -> list[str]:
    return [kind for kind, values in identifiers.items() if any(v in text for v in values if v)]


# -- the anonymous items ------------------------------------------------------------------------


def test_no_row_naming_an_anonymous_item_names_its_author(
    scenario: Scenario, engine: Engine, settings: Settings
) -> None:
    tables = dump(engine)
    found: list[str] = []
    for table, item, author in scenario.anonymous:
        identifiers = author_identifiers(engine, settings, author)
        for name, row in rows_naming(tables, item):
            for kind in links(row_text(row), identifiers):
                found.append(f"{table} {item}: {name} holds the author's {kind}")
    assert found == []


def check_times(scenario: Scenario, engine: Engine) -> None:
    """No time finer than the stated period on an anonymous item, on any session's last use,
    nor on any audit record: nothing to join an anonymous post with its author's requests by."""
    tables = dump(engine)
    for table, item, _author in scenario.anonymous:
        [row] = [r for r in tables[table] if r["id"] in (item, str(item), item.hex)]
        times = {k: v for k, v in row.items() if isinstance(v, datetime)}
        assert times and all(whole_hour(_utc(v)) for v in times.values()), (table, times)
        if table == "entries":  # the expiry the author signed is a whole hour too
            assert whole_hour(_utc(row["expires_at"]))
    for row in tables["auth_sessions"]:
        assert whole_hour(_utc(row["last_used_at"])), row["last_used_at"]
    # The audit log: every record's time is its hour too (an expiry's alone is exact, and
    # this scenario has none), in the signed body and in the row.
    for row in tables["membership_events"]:
        body = json.loads(row["body"])
        assert body["kind"] != "entry_expired"
        assert whole_hour(datetime.fromisoformat(body["at"].replace("Z", "+00:00"))), body
        assert whole_hour(_utc(row["created_at"])), row


def _utc(moment: datetime) -> datetime:
    from datetime import UTC

    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


# -- addresses ---------------------------------------------------------------------------------


def check_logs(log_lines: Lines) -> None:
    """No address and no query string in any line the server wrote."""
    assert len(log_lines.lines) > 50  # the scenario was logged (access log and events)
    assert {"uvicorn.access", "backchannel.security"} <= log_lines.loggers
    for line in log_lines.lines:
        assert ADDRESS not in line, line
        assert "?" not in line or "username=" not in line, line
    events = [json.loads(line) for line in log_lines.lines if line.startswith("{")]
    assert events and all("address" not in event for event in events)


def check_addresses(engine: Engine, settings: Settings) -> None:
    """The address is held only in throttle rows (as keyed hashes) and only for their window."""
    identifiers = address_identifiers(settings)
    holding = {
        name
        for name, rows in dump(engine).items()
        for row in rows
        if links(row_text(row), identifiers)
    }
    assert holding <= {"auth_failures", "registration_hits"}, holding
    assert "auth_failures" in holding and "registration_hits" in holding  # the scenario's
    # Once the longest window has passed, the retention pass leaves no trace of the address.
    past = utcnow() - timedelta(days=1)
    with Session(engine) as session:
        session.execute(update(AuthFailure).values(created_at=past))
        session.execute(update(RegistrationHit).values(created_at=past))
        session.commit()
    purge_all(settings)
    assert not [
        n for n, rows in dump(engine).items() for r in rows if links(row_text(r), identifiers)
    ]


# -- the inventory ------------------------------------------------------------------------------


def check_inventory(engine: Engine, log_lines: Lines) -> None:
    """docs/operations.md's "What we hold" names every table this database has and every
    logger the scenario wrote to, and each setting it names exists."""
    text = OPERATIONS.read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", 1)]
    for table in dump(engine):
        assert f"`{table}`" in section, f"{table} is not in {SECTION!r}"
    for logger in log_lines.loggers:
        family = logger.split(".")[0] if logger.startswith("backchannel") else logger
        assert f"`{family}" in section or f"`{logger}`" in section, logger
    fields = set(Settings.model_fields)
    for name in re.findall(r"BACKCHANNEL_([A-Z0-9_*]+)", section):
        assert fnmatch.filter(fields, name.lower()), name  # LOGIN_*_WINDOW_SECONDS too
    assert f"{int(PRECISION.total_seconds() // 3600)} hour" in section


def test_what_the_operator_holds_after_a_full_scenario(
    scenario: Scenario, engine: Engine, settings: Settings, log_lines: Lines
) -> None:
    """One scenario (it costs a dozen client-side Argon2 runs) for every check but the one
    that waits for anonymous posting tokens."""
    check_times(scenario, engine)
    check_logs(log_lines)
    check_inventory(engine, log_lines)
    check_addresses(engine, settings)  # last: it ages and purges the throttle rows
