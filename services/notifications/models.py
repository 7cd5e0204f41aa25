"""Tables of the notifications service: each party's inbox, and who has read what."""
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime, messaging_tables


class Base(DeclarativeBase):
    pass


class Notification(Base):
    """One message to one party (a village, an agency, a district's or regency's office).

    Every actor of that party sees it in their inbox; each reads it on their own.
    """

    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(80), index=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    type: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    params = mapped_column(JSON, nullable=False)
    created_at = mapped_column(UTCDateTime, nullable=False, index=True)


class Reading(Base):
    __tablename__ = "readings"

    notification_id: Mapped[str] = mapped_column(ForeignKey("notifications.id"), primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    read_at = mapped_column(UTCDateTime, nullable=False)


OUTBOX, PROCESSED_EVENTS = messaging_tables(Base.metadata)
