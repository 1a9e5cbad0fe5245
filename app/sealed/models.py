import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class SealedSettingsRow(Base):
    """One admin-signed settings record (§36.3): the pinned VOPRF key, k, the daily limit."""

    __tablename__ = "sealed_settings"

    circle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    record: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    signer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    k: Mapped[int] = mapped_column(Integer)
    evaluations_per_day: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SealedFiling(Base):
    """A sealed warning: the filer's signed record (wiped on withdrawal or removal) and its
    status: open | matched | withdrawn | void (the filer left or was removed)."""

    __tablename__ = "sealed_filings"
    __table_args__ = (Index("ix_sealed_filings_filer", "circle_id", "filer_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by the client
    circle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("circles.id", ondelete="CASCADE"))
    filer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    k: Mapped[int] = mapped_column(Integer)
    generation: Mapped[int] = mapped_column(Integer)
    record: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SealedTag(Base):
    """One name tag of an open or matched filing: what the server groups filings by."""

    __tablename__ = "sealed_tags"
    __table_args__ = (Index("ix_sealed_tags_lookup", "circle_id", "k", "tag"),)

    filing_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sealed_filings.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    circle_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    k: Mapped[int] = mapped_column(Integer)


class SealedMatch(Base):
    """k or more members' filings under one tag: released to the admins."""

    __tablename__ = "sealed_matches"
    __table_args__ = (UniqueConstraint("circle_id", "k", "tag"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    circle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("circles.id", ondelete="CASCADE"))
    k: Mapped[int] = mapped_column(Integer)
    tag: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SealedMatchFiling(Base):
    __tablename__ = "sealed_match_filings"

    match_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sealed_matches.id", ondelete="CASCADE"), primary_key=True
    )
    filing_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sealed_filings.id", ondelete="CASCADE"), primary_key=True
    )


class SealedEvaluation(Base):
    """One VOPRF evaluation request: what the daily per-member limit counts."""

    __tablename__ = "sealed_evaluations"
    __table_args__ = (Index("ix_sealed_evaluations_member", "circle_id", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    circle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("circles.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    elements: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
