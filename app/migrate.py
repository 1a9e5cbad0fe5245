"""The database schema: Alembic run programmatically, and the revisions this code works with.

The migrations are bundled into the package (``app.bundled``), so an installed server migrates
without a checkout. ``SCHEMA_REVISIONS`` is what lets nodes be upgraded one at a time
(docs/operations.md, Upgrades): a server refuses to start on a database outside it, with a
message that says what to do, rather than answer every request with a 500.
"""

from dataclasses import dataclass
from functools import cache

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from app import bundled


@dataclass(frozen=True)
class RevisionRange:
    oldest: str
    newest: str


# The schema revisions this code works with. A new migration moves `newest` to it (a test holds
# it to the head) and `oldest` with it, unless this code still runs on the schema before it
# (a contract step: docs/operations.md, Upgrades).
SCHEMA_REVISIONS = RevisionRange(oldest="0016", newest="0016")


class SchemaOutOfRange(RuntimeError):
    """The database's schema revision is one this code does not work with."""


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(bundled.path("migrations")))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


@cache
def known_revisions() -> tuple[str, ...]:
    """Every revision shipped with this code, oldest first (the chain is linear)."""
    script = ScriptDirectory(str(bundled.path("migrations")))
    return tuple(reversed([revision.revision for revision in script.walk_revisions()]))


def database_revisions(engine: Engine) -> tuple[str, ...]:
    """The revisions the database says it is at: none before `migrate`, one after."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_heads()


def check_schema(engine: Engine) -> None:
    """Raise ``SchemaOutOfRange``, saying what to do, unless this code works with the database's
    revision. Connection failures pass through as SQLAlchemy errors: the schema is then unknown."""
    heads = database_revisions(engine)
    if not heads:
        raise SchemaOutOfRange(
            "the database has no Backchannel schema yet: run `backchannel-server migrate`"
        )
    known = known_revisions()
    oldest, newest = known.index(SCHEMA_REVISIONS.oldest), known.index(SCHEMA_REVISIONS.newest)
    span = f"it works with {SCHEMA_REVISIONS.oldest} to {SCHEMA_REVISIONS.newest}"
    revision = heads[0] if len(heads) == 1 and heads[0] in known else None
    if revision is not None and oldest <= known.index(revision) <= newest:
        return
    if revision is not None and known.index(revision) < oldest:
        raise SchemaOutOfRange(
            f"the database is at schema revision {revision}, older than this server works with "
            f"({span}): run `backchannel-server migrate`"
        )
    raise SchemaOutOfRange(
        f"the database is at schema revision {', '.join(heads)}, newer than this server "
        f"works with or unknown to it ({span}): upgrade this server to the release that "
        "migrated the database"
    )
