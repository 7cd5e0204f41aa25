"""Tables of the gateway: the actors who may use the API (and how each is reached), their
tokens (hashed), failed sign-ins, the audit log, and the outbox of the actors' changes."""
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, messaging_tables


class Base(DeclarativeBase):
    pass


class Actor(Base):
    __tablename__ = "actors"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at = mapped_column(UTCDateTime, nullable=False)
    # The regency the actor belongs to (an agency's: the regency it serves); none for an admin.
    regency_code: Mapped[str | None] = mapped_column(String(5), nullable=True, index=True)
    # People sign in with a username and password (argon2); systems use API tokens only.
    username: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True,
                                                   index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    disabled_at = mapped_column(UTCDateTime, nullable=True)
    # How the actor is reached outside the app (shared/channels.py); the notifications service
    # hears of every change (`actor_changed`, numbered by `version`).
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(16), nullable=True)
    whatsapp: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="0")
    language: Mapped[str] = mapped_column(String(2), nullable=False, server_default="id")
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")


class Token(Base):
    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    actor_id: Mapped[str] = mapped_column(ForeignKey("actors.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    created_at = mapped_column(UTCDateTime, nullable=False)
    revoked_at = mapped_column(UTCDateTime, nullable=True)
    # "session" (made by signing in, always expires) or "api" (for systems, expiry optional)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, server_default="api")
    label: Mapped[str | None] = mapped_column(String(100), nullable=True)
    expires_at = mapped_column(UTCDateTime, nullable=True)


class LoginFailure(Base):
    """Failed sign-ins of one username (`user:<name>`) or from one address (`addr:<ip>`)."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    last_failed_at = mapped_column(UTCDateTime, nullable=False, index=True)
    blocked_until = mapped_column(UTCDateTime, nullable=True)


class AuditEntry(Base):
    __tablename__ = "audit"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at = mapped_column(UTCDateTime, nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    actor_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    actor_role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    actor_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target: Mapped[str | None] = mapped_column(String(300), nullable=True)
    detail = mapped_column(JSON, nullable=False)


OUTBOX, PROCESSED_EVENTS = messaging_tables(Base.metadata)
