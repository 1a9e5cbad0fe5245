from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
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
