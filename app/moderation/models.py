import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

# The open cases (open, and hidden pending review), written out literally: SQLite uses a
# partial index only for a query whose WHERE holds the index's own expression, and a bound
# parameter is not that.
OPEN_PREDICATE = text("status IN ('open', 'hidden')")


class ModerationKeyRow(Base):
    """One generation of a circle's moderation key: the admin-signed record and its public key."""

    __tablename__ = "moderation_keys"

    circle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    record: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    signer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    prev_key_box: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ModerationWrap(Base):
    """A moderation key generation sealed to one admin's X25519 key."""

    __tablename__ = "moderation_wraps"

    circle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    wrap: Mapped[bytes] = mapped_column(LargeBinary(256))


class Case(Base):
    """A report (by a member, about an entry) or a takedown request (by anyone, about a name).

    The server holds the ciphertext, its hash, who reported (for one report per member and
    entry) and the status; never the reason, note, name, contact or text.
    """

    __tablename__ = "moderation_cases"
    __table_args__ = (
        UniqueConstraint("entry_id", "reporter_id"),
        # A list's pages walk (circle, created_at, id) newest first (service.list_cases):
        # every case, one status, or the open ones (a partial index, so a circle with
        # 10,000 decided cases finds its few open ones without reading past the others).
        Index("ix_moderation_cases_page", "circle_id", "created_at", "id"),
        Index("ix_moderation_cases_status", "circle_id", "status", "created_at", "id"),
        Index(
            "ix_moderation_cases_open",
            "circle_id",
            "created_at",
            "id",
            sqlite_where=OPEN_PREDICATE,
            postgresql_where=OPEN_PREDICATE,
        ),
        # The takedown load on the whole server (app.moderation.intake.required_work).
        Index("ix_moderation_cases_kind", "kind", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by the client
    circle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("circles.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # report | takedown
    entry_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), nullable=True, index=True
    )
    reporter_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    generation: Mapped[int] = mapped_column(Integer)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    case_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    receipt_key: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    receipt_token_hash: Mapped[bytes | None] = mapped_column(
        LargeBinary(32), nullable=True, unique=True
    )
    status: Mapped[str] = mapped_column(
        String(16)
    )  # open | hidden | dismissed | removed | restored
    decision_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_decision_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    response: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DecisionRow(Base):
    """One signed decision on a case, exactly as the admin signed it."""

    __tablename__ = "moderation_decisions"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("moderation_cases.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    circle_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    decision: Mapped[str] = mapped_column(Text)  # canonical JSON, see docs/protocol.md
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    signer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    note: Mapped[bytes] = mapped_column(LargeBinary)
    response: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
