import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class IssuanceRecordRow(Base):
    """An admin-signed issuance record (§38.1): the circle's token key for one epoch."""

    __tablename__ = "anon_issuance_records"

    circle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True
    )
    epoch: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    record: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    signer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    tokens_per_week: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Issuance(Base):
    """How many tokens a member took in a circle, epoch and week: the server knows who got
    tokens (issuance is authenticated), never which token is whose."""

    __tablename__ = "anon_issuances"

    circle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    epoch: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    period: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tokens: Mapped[int] = mapped_column(Integer)


class SpentToken(Base):
    """A spent token's nullifier (a hash of its input), kept only to refuse it again; no
    time, no account. Rows of earlier epochs are deleted: those tokens are refused anyway."""

    __tablename__ = "anon_spent_tokens"

    circle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True
    )
    nullifier: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer)
