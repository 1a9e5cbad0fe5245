import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
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


class Entry(Base):
    """A warning. The server holds its envelope, never its content; a tombstone keeps only
    the id, order and status once the ciphertext is wiped (retraction, expiry)."""

    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("circle_id", "seq"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by the client
    circle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("circles.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)  # per circle, assigned under the circle lock
    epoch: Mapped[int] = mapped_column(Integer)
    # The posting account, for a named entry only: an anonymous one is posted with a token
    # and no session (§38), and the server never learns who wrote it.
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id"), index=True, nullable=True
    )
    anonymous: Mapped[bool] = mapped_column(Boolean)
    author_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    commitment: Mapped[bytes] = mapped_column(LargeBinary(32))
    nonce: Mapped[bytes | None] = mapped_column(LargeBinary(24), nullable=True)
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    # §24: the author's per-entry tag and the signed terms (tag, expiry). Kept in the
    # tombstone, so an expiry can be checked against what the author signed. Null for
    # entries posted before migration 0011.
    author_tag: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    terms_signature: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    # §38.3: an anonymous entry's author sealed to moderation key generation
    # ``author_generation``; only the admins open it (an audited unmask).
    sealed_author: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    author_generation: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # live | hidden | retracted | expired | removed
    corroboration_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    wiped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The circle's change counter when this row last changed what a reader sees (posted,
    # corroborated, hidden, restored, retracted, expired, removed): see ``stamp_change``.
    change_seq: Mapped[int] = mapped_column(Integer, server_default="0")


Index("ix_entries_live_expiry", Entry.status, Entry.expires_at)
# A client's incremental sync reads (circle_id, change_seq > cursor): a range scan.
Index("ix_entries_changes", Entry.circle_id, Entry.change_seq, unique=True)


class Corroboration(Base):
    """A member's "me too" on an entry, encrypted like entries; one per account (named) and one
    per author tag (named or anonymous)."""

    __tablename__ = "corroborations"
    __table_args__ = (UniqueConstraint("entry_id", "author_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    circle_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    epoch: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    author_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    commitment: Mapped[bytes] = mapped_column(LargeBinary(32))
    nonce: Mapped[bytes | None] = mapped_column(LargeBinary(24), nullable=True)
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    # The corroborator's own tag for the entry (§24.1); null before migration 0011.
    author_tag: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    sealed_author: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    author_generation: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# One corroboration per identity and entry, named or anonymous (§24.1, §38.5).
Index(
    "uq_corroborations_entry_id_author_tag",
    Corroboration.entry_id,
    Corroboration.author_tag,
    unique=True,
)
