"""Tables of the notifications service: each party's inbox and who has read what; the actors
it reaches outside the app (as the gateway told it), their choices and webhooks; and every
delivery with its attempts."""
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
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
    # What it tells of: a case, or an announcement.
    case_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    announcement_id: Mapped[str | None] = mapped_column(
        ForeignKey("announcements.id", name="fk_notifications_announcement_id"), nullable=True,
        index=True)
    type: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    params = mapped_column(JSON, nullable=False)
    created_at = mapped_column(UTCDateTime, nullable=False, index=True)


class Announcement(Base):
    """What a coordinator (to its district) or the regency office (to its regency) sent to
    every village of the area; each village's copy is a notification in its inbox."""

    __tablename__ = "announcements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sender_party: Mapped[str] = mapped_column(String(80), index=True)
    sender_id: Mapped[str] = mapped_column(String(36))
    sender_name: Mapped[str] = mapped_column(String(200))
    area_code: Mapped[str] = mapped_column(String(8), index=True)
    area_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, nullable=False, index=True)
    reminders: Mapped[int] = mapped_column(Integer, nullable=False)
    reminded_at = mapped_column(UTCDateTime, nullable=True)


class AnnouncementVillage(Base):
    """A village an announcement was sent to (whether it read it: the readings of its copies)."""

    __tablename__ = "announcement_villages"

    announcement_id: Mapped[str] = mapped_column(ForeignKey("announcements.id"),
                                                 primary_key=True)
    village_code: Mapped[str] = mapped_column(String(13), primary_key=True, index=True)
    village_name: Mapped[str] = mapped_column(String(100))


class Reading(Base):
    __tablename__ = "readings"

    notification_id: Mapped[str] = mapped_column(ForeignKey("notifications.id"), primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    read_at = mapped_column(UTCDateTime, nullable=False)


class Contact(Base):
    """An actor as the gateway last told of it (`actor_changed`): its party and addresses."""

    __tablename__ = "contacts"

    actor_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    party: Mapped[str] = mapped_column(String(80), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(16), nullable=True)
    whatsapp: Mapped[bool] = mapped_column(Boolean, nullable=False)
    language: Mapped[str] = mapped_column(String(2), nullable=False)
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)


class Preference(Base):
    """The channels an actor chose for one kind of event (none kept: domain.DEFAULT_CHANNELS)."""

    __tablename__ = "preferences"

    actor_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    channels = mapped_column(JSON, nullable=False)
    updated_at = mapped_column(UTCDateTime, nullable=False)


class DigestChoice(Base):
    """An actor who takes its email as one daily digest instead of each message."""

    __tablename__ = "digest_choices"

    actor_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    digest: Mapped[bool] = mapped_column(Boolean, nullable=False)
    updated_at = mapped_column(UTCDateTime, nullable=False)


class Subscription(Base):
    """A coordinator or regency officer following more than its office's own news: the cases
    of a category, of a village, or the overdue ones, in its area."""

    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(36), index=True)
    party: Mapped[str] = mapped_column(String(80), index=True)
    category: Mapped[str | None] = mapped_column(String(40), nullable=True)
    village_code: Mapped[str | None] = mapped_column(String(13), nullable=True)
    overdue: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at = mapped_column(UTCDateTime, nullable=False)


class Webhook(Base):
    """A system of a party told of that party's notifications by signed POSTs."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    party: Mapped[str] = mapped_column(String(80), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events = mapped_column(JSON, nullable=False)
    # The key of the HMAC every delivery is signed with; the receiver got it once.
    secret: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(36))
    created_at = mapped_column(UTCDateTime, nullable=False)
    deleted_at = mapped_column(UTCDateTime, nullable=True)


class Delivery(Base):
    """One message to one actor (or webhook) on one channel: sent once, whatever happens.

    `source` is what it tells (`notification:<id>`); (source, target, channel) is unique, so
    an event handled twice never makes a second delivery. The sender claims a due delivery
    (`sending`, until `claimed_until`), then records the attempt: `sent`, or back to
    `pending` after a backoff, or `failed` after the last attempt. An email to an actor who
    takes a daily digest is `held`, then `digested` into the digest's own delivery.
    """

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("source", "target", "channel"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(60), index=True)  # actor:<id> or webhook:<id>
    party: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(10), index=True)
    address: Mapped[str] = mapped_column(String(2000))
    language: Mapped[str] = mapped_column(String(2))
    event_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    next_attempt_at = mapped_column(UTCDateTime, nullable=True, index=True)
    claim: Mapped[str | None] = mapped_column(String(32), nullable=True)
    claimed_until = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at = mapped_column(UTCDateTime, nullable=False, index=True)
    sent_at = mapped_column(UTCDateTime, nullable=True)
    # An email held for a daily digest: the digest's delivery, once it is made.
    digest_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    at = mapped_column(UTCDateTime, nullable=False)
    outcome: Mapped[str] = mapped_column(String(10))  # sent | failed
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    milliseconds: Mapped[int] = mapped_column(Integer, nullable=False)


OUTBOX, PROCESSED_EVENTS = messaging_tables(Base.metadata)
