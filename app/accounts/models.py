import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime


class User(Base):
    """An account. Holds only public keys, hashes and ciphertext."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    kdf_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    kdf_opslimit: Mapped[int] = mapped_column(Integer)
    kdf_memlimit: Mapped[int] = mapped_column(BigInteger)
    auth_hash: Mapped[str] = mapped_column(String(255))
    x25519_public: Mapped[bytes] = mapped_column(LargeBinary(32))
    ed25519_public: Mapped[bytes] = mapped_column(LargeBinary(32))
    x25519_signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    key_bundle: Mapped[bytes] = mapped_column(LargeBinary(255))
    recovery_auth_hash: Mapped[str] = mapped_column(String(255))
    recovery_bundle: Mapped[bytes] = mapped_column(LargeBinary(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    credentials_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the person deleted the account (app/accounts/deletion.py): no secret is left,
    # the name stays taken and the public keys stay, so what they left still verifies.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    sessions: Mapped[list["AuthSession"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"User(username={self.username!r})"


class AuthSession(Base):
    """A login. Only a keyed hash of the bearer token is stored."""

    __tablename__ = "auth_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Chosen by the client ("Firefox on Android") so its owner can tell sessions apart.
    device_label: Mapped[str | None] = mapped_column(String(64), nullable=True)

    user: Mapped[User] = relationship(back_populates="sessions")

    def __repr__(self) -> str:
        return f"AuthSession(id={self.id})"


class AuthFailure(Base):
    """One failed credential check, keyed by a keyed hash of the account, address or both."""

    __tablename__ = "auth_failures"
    __table_args__ = (
        Index("ix_auth_failures_scope_key_created", "scope", "key_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    scope: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class RegistrationHit(Base):
    """One account made, counted for the per-address and server-wide registration limits
    (``scope`` address or server; the address only as a keyed hash of its /64 or IPv4)."""

    __tablename__ = "registration_hits"
    __table_args__ = (Index("ix_registration_hits_scope", "scope", "key_hash", "created_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    scope: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
