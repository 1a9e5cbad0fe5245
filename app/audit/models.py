import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class ServerSigningKey(Base):
    """The server's Ed25519 tree-head keys. The seed is stored encrypted under the server's
    secret key; a retired key's successor is announced by a signature of the retired key."""

    __tablename__ = "server_signing_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    sealed_seed: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(
        String(16)
    )  # "active"; which key signs is decided by not_before
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[str] = mapped_column(String(32))
    # Set on the successor: the predecessor's signature over the succession message.
    succession_signature: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)


class AuditNode(Base):
    """The audit tree's complete subtrees, stored as leaves are appended: node ``(level,
    position)`` is the RFC 6962 hash of leaves ``[position * 2**level, (position + 1) *
    2**level)``, kept under one integer key, ``node_key(level, position)``, so a head or
    proof reads all the O(log n) nodes it needs with one ``IN`` on the primary key
    (``app.crypto.merkle.NodeTree``)."""

    __tablename__ = "audit_nodes"

    circle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True
    )
    node: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


def node_key(level: int, position: int) -> int:
    """``position * 64 + level``: levels are below 64, positions below 2**57."""
    return position * 64 + level
