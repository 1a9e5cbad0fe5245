import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class Circle(Base):
    """A circle as the server sees it: an opaque id, counters and encrypted metadata."""

    __tablename__ = "circles"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer)
    record_seq: Mapped[int] = mapped_column(Integer)
    event_seq: Mapped[int] = mapped_column(Integer)
    rotation_due: Mapped[bool] = mapped_column(Boolean, default=False)
    meta_epoch: Mapped[int] = mapped_column(Integer)
    meta_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    entry_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Bumped under the circle's lock whenever an entry changes (app/entries/changes.py).
    change_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    entry_ttl_days: Mapped[int] = mapped_column(Integer, default=730, server_default="730")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The tombstone of a deleted circle (app/circles/deletion.py): its content is gone.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    deletion: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    deletion_signature: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)


class Membership(Base):
    __tablename__ = "memberships"

    circle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # owner | admin | member
    status: Mapped[str] = mapped_column(String(16))  # pending | active | removed | left
    invite_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # A member who leaves signs a statement; admins' clients check it before dropping them.
    departure: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    departure_signature: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KeyRecordRow(Base):
    """One signed key record, stored as the exact canonical bytes the admin signed."""

    __tablename__ = "key_records"

    circle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer)
    record: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    signer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EpochKey(Base):
    """An epoch: its key id and the previous epoch's key encrypted under this one."""

    __tablename__ = "epoch_keys"

    circle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True
    )
    epoch: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[bytes] = mapped_column(LargeBinary(16))
    prev_key_box: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Wrap(Base):
    """An epoch key sealed to one member's X25519 key."""

    __tablename__ = "wraps"

    circle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True
    )
    epoch: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    wrap: Mapped[bytes] = mapped_column(LargeBinary(256))


class MembershipEvent(Base):
    """A hash-chained record of one membership change (the audit log's leaves)."""

    __tablename__ = "membership_events"

    circle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)  # canonical JSON, see docs/protocol.md
    record_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # RFC 6962 leaf hash of the body bytes: SHA-256(0x00 || body), the audit tree's leaf.
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
