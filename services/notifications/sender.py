"""The sender: takes the deliveries that are due and carries each out on its channel.

One loop per process wakes when a notification was fanned out here, or every
`JEMBATAN_DELIVERY_POLL_SECONDS`. For each channel it claims as many due deliveries as that
channel's pool has room for, in one statement (on PostgreSQL skipping rows another replica has
locked), and each is attempted in its channel's pool: a channel that hangs fills its own pool
only, never another's. A claim lasts a few attempt timeouts: a process that dies holding one
leaves it to be claimed again (and the message is then sent again, with the same id).
"""
import logging
import time
import uuid
from datetime import timedelta

import eventlet
from eventlet.queue import Empty, Full, LightQueue
from nameko.extensions import DependencyProvider
from sqlalchemy import and_, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from services.notifications import delivery, messages, outgoing
from services.notifications.models import Contact, Delivery, DeliveryAttempt, Notification, Webhook
from shared import config
from shared.channels import EMAIL, SMS, WEBHOOK, WHATSAPP
from shared.db import Database
from shared.events import utcnow
from shared.timezones import zone_of

log = logging.getLogger(__name__)

POOL_SIZES = {EMAIL: 4, SMS: 4, WHATSAPP: 4, WEBHOOK: 8}
DIGEST_CHECK_POLLS = 30  # the held emails are looked at for a digest every this many polls


def available_channels():
    """The channels this deployment can send on (email needs an SMTP server, SMS and WhatsApp
    a provider); webhooks always."""
    channels = [EMAIL] if config.smtp_url() else []
    channels += [channel for channel in (SMS, WHATSAPP) if config.message_gateway(channel)]
    return tuple(channels) + (WEBHOOK,)


def claim_lease():
    return timedelta(seconds=3 * config.send_timeout_seconds() + 5)


def due():
    now = utcnow()
    return or_(and_(Delivery.status == delivery.PENDING, Delivery.next_attempt_at <= now),
               and_(Delivery.status == delivery.SENDING, Delivery.claimed_until < now))


def claim(store, channel, limit):
    """Up to `limit` due deliveries of a channel, now this process's (each counts an attempt)."""
    token = uuid.uuid4().hex
    chosen = (select(Delivery.id).where(Delivery.channel == channel, due())
              .order_by(Delivery.next_attempt_at).limit(limit))
    if store.engine.dialect.name == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    with store.transaction() as unit:
        claimed = unit.session.execute(
            update(Delivery).where(Delivery.id.in_(chosen), due())
            .values(status=delivery.SENDING, claim=token, attempts=Delivery.attempts + 1,
                    claimed_until=utcnow() + claim_lease())
            .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        return []
    with store.read() as session:
        return [(row.id, token) for row in session.scalars(
            select(Delivery).where(Delivery.claim == token))]


def compose_digests(store, now):
    """Gather each actor's held emails from before its last digest time (JEMBATAN_DIGEST_HOUR
    in its area's time zone) into one digest delivery, sent like any other. Made twice at
    once (two replicas), the second is refused by the unique (source, target, channel)."""
    with store.read() as session:
        waiting = session.execute(
            select(Delivery.target, func.min(Delivery.created_at))
            .where(Delivery.status == delivery.HELD).group_by(Delivery.target)).all()
    for target, oldest in waiting:
        contact_id = target.partition(":")[2]
        with store.read() as session:
            contact = session.get(Contact, contact_id)
        area = contact.party.partition(":")[2] if contact else "*"  # an admin's: WIB
        moment = delivery.last_digest_moment(now, zone_of(area), config.digest_hour())
        if oldest >= moment:
            continue
        try:
            with store.transaction() as unit:
                held = unit.session.scalars(select(Delivery).where(
                    Delivery.target == target, Delivery.status == delivery.HELD,
                    Delivery.created_at < moment).order_by(Delivery.created_at)).all()
                if not held:  # gathered meanwhile by another replica
                    continue
                digest = Delivery(
                    id=str(uuid.uuid4()), source=f"{delivery.DIGEST}:{moment:%Y-%m-%dT%H}",
                    target=target, party=held[0].party, channel=EMAIL,
                    address=(contact and contact.email) or held[-1].address,
                    language=(contact and contact.language) or held[-1].language,
                    event_type=delivery.DIGEST, status=delivery.PENDING, attempts=0,
                    next_attempt_at=now, created_at=now)
                unit.session.add(digest)
                unit.session.flush()
                for item in held:
                    item.status, item.digest_id = delivery.DIGESTED, digest.id
        except IntegrityError:
            log.info("notifications: the digest of %s was made elsewhere", target)


def carry_out(store, delivery_id):
    """Send one delivery; what the other side answered (raises outgoing.SendFailed)."""
    with store.read() as session:
        row = session.get(Delivery, delivery_id)
        kind, _, source_id = row.source.partition(":")
        notification = session.get(Notification, source_id) if kind == "notification" else None
        gathered = session.scalars(
            select(Notification).join(Delivery, Delivery.source == literal("notification:")
                                      + Notification.id)
            .where(Delivery.digest_id == row.id).order_by(Notification.created_at)).all() \
            if kind == delivery.DIGEST else []
        target_kind, _, target_id = row.target.partition(":")
        contact = session.get(Contact, target_id) if target_kind == "actor" else None
        webhook = session.get(Webhook, target_id) if target_kind == "webhook" else None
    if kind == delivery.DIGEST:
        if contact is None or contact.disabled:
            raise outgoing.SendFailed("the actor is disabled")
        subject, body = messages.digest(gathered, row.language)
        return outgoing.send_email(outgoing.email_message(
            row.id, delivery.DIGEST, contact.name, row.address, subject, body, row.language))
    if notification is None:
        raise outgoing.SendFailed(f"nothing to send: {row.source} is gone")
    if row.channel == WEBHOOK:
        if webhook is None or webhook.deleted_at is not None:
            raise outgoing.SendFailed("the webhook was deleted")
        return outgoing.send_webhook(webhook.url, webhook.secret, notification.type, row.id,
                                     messages.webhook_body(notification, row, row.language))
    if contact is None or contact.disabled:
        raise outgoing.SendFailed("the actor is disabled")
    if row.channel == EMAIL:
        subject, body = messages.email(notification, row.language)
        return outgoing.send_email(outgoing.email_message(
            row.id, notification.type, contact.name, row.address, subject, body, row.language))
    return outgoing.send_text(row.channel, row.id, row.address,
                              messages.short_text(notification, row.language))


def record(store, delivery_id, token, outcome, detail, milliseconds):
    """Record an attempt and what follows: sent, or another attempt later, or failed."""
    now = utcnow()
    with store.transaction() as unit:
        row = unit.session.get(Delivery, delivery_id)
        earlier = unit.session.scalar(select(func.count()).where(
            DeliveryAttempt.delivery_id == row.id))
        unit.session.add(DeliveryAttempt(delivery_id=row.id, number=earlier + 1, at=now,
                                         outcome=outcome, detail=detail,
                                         milliseconds=milliseconds))
        if row.status == delivery.SENT or row.claim != token:
            return  # sent already, or claimed again after this claim expired: theirs to say
        row.claim = row.claimed_until = None
        if outcome == delivery.SENT:
            row.status, row.sent_at, row.last_error = delivery.SENT, now, None
        else:
            row.status, row.next_attempt_at = delivery.after_failure(
                row.attempts, config.delivery_attempts(), now, config.delivery_retry_seconds())
            row.last_error = (detail or "")[:500]


class Sender(DependencyProvider):
    """The sending loop of a notifications process; a worker calls `wake()` after a commit
    that made deliveries."""

    def __init__(self):
        self.store = None
        self.loop = None
        self.pools = {}
        self.wakeups = LightQueue(maxsize=1)

    def start(self):
        self.store = next(dependency.store for dependency in self.container.dependencies
                          if isinstance(dependency, Database))
        self.pools = {channel: eventlet.GreenPool(size) for channel, size in POOL_SIZES.items()}
        self.loop = eventlet.spawn(self.run)

    def stop(self):
        if self.loop is not None:
            self.loop.kill()
        for pool in self.pools.values():
            pool.waitall()

    def kill(self):
        if self.loop is not None:
            self.loop.kill()

    def get_dependency(self, worker_ctx):
        return self

    def wake(self):
        try:
            self.wakeups.put_nowait(None)
        except Full:
            pass  # woken already

    def run(self):
        digests_composed = 0.0
        while True:
            try:
                if time.monotonic() - digests_composed >= \
                        DIGEST_CHECK_POLLS * config.delivery_poll_seconds():
                    digests_composed = time.monotonic()
                    compose_digests(self.store, utcnow())
                for channel in available_channels():
                    self.dispatch(channel)
            except Exception:
                log.exception("notifications: claiming deliveries failed")
            try:
                self.wakeups.get(timeout=config.delivery_poll_seconds())
            except Empty:
                pass

    def dispatch(self, channel):
        pool = self.pools[channel]
        if pool.free():
            for delivery_id, token in claim(self.store, channel, pool.free()):
                pool.spawn_n(self.attempt, delivery_id, token)

    def attempt(self, delivery_id, token):
        started = time.monotonic()
        try:
            outcome, detail = delivery.SENT, carry_out(self.store, delivery_id)
        except outgoing.SendFailed as exc:
            outcome, detail = delivery.FAILED, str(exc)
        except Exception as exc:  # a bug here must not stop the others: recorded, retried
            log.exception("notifications: delivery %s failed unexpectedly", delivery_id)
            outcome, detail = delivery.FAILED, f"{type(exc).__name__}: {exc}"[:500]
        milliseconds = int((time.monotonic() - started) * 1000)
        try:
            record(self.store, delivery_id, token, outcome, detail, milliseconds)
        except Exception:
            log.exception("notifications: could not record delivery %s (%s); its claim expires "
                          "and it is tried again", delivery_id, outcome)
        self.wake()  # room in the pool: more may be due
