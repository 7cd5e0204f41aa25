"""The notifications service: every party's inbox, filled from the case events."""
import uuid

from sqlalchemy import exists, insert, select
from sqlalchemy.exc import IntegrityError

from services.notifications import domain, templates
from services.notifications.models import Base, Notification, Reading
from shared import paging
from shared.db import Database
from shared.errors import DOMAIN_ERRORS, NotFound
from shared.events import iso, utcnow
from shared.i18n import text
from shared.messaging import consume_events, rpc


def notification_view(notification, read_at, lang):
    title, body = templates.render(notification.params["template"], notification.params, lang)
    return {"id": notification.id, "case_id": notification.case_id, "type": notification.type,
            "title": title, "body": body, "created_at": iso(notification.created_at),
            "read_at": iso(read_at)}


class NotificationsService:
    name = "notifications"
    db = Database(Base.metadata)

    @consume_events("notifications")
    def on_event(self, event):
        self.db.handle_once(event, lambda unit: self._notify(unit, event))

    def _notify(self, unit, event):
        now = utcnow()
        for recipient, audience in domain.recipients(event.type, event.payload):
            values = templates.params(event.type, event.payload, recipient)
            values["template"] = templates.template_key(event.type, audience, event.payload)
            unit.session.add(Notification(
                id=str(uuid.uuid4()), recipient=recipient, case_id=event.payload["case"]["id"],
                type=event.type, event_id=event.event_id, params=values, created_at=now))

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def inbox(self, actor, query, lang="id"):
        """One page of the caller's notifications, newest first (`unread`, `case_id`)."""
        conditions = [Notification.recipient == domain.party_of(actor)]
        if query.get("unread"):
            conditions.append(Reading.read_at.is_(None))
        if query.get("case_id"):
            conditions.append(Notification.case_id == query["case_id"])
        read_by_caller = (Reading.notification_id == Notification.id) & (
            Reading.actor_id == actor["id"])
        rows = (select(Notification, Reading.read_at).outerjoin(Reading, read_by_caller)
                .where(*conditions).order_by(Notification.created_at.desc(), Notification.id))
        with self.db.read() as session:
            return paging.read_page(session, query, rows,
                                    lambda row: notification_view(row[0], row[1], lang))

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def mark_all_read(self, actor, case_id=None):
        """Mark every unread notification of the caller read (of one case, with `case_id`)."""
        now = utcnow()
        conditions = [Notification.recipient == domain.party_of(actor),
                      ~exists().where(Reading.notification_id == Notification.id,
                                      Reading.actor_id == actor["id"])]
        if case_id:
            conditions.append(Notification.case_id == case_id)
        for attempt in (1, 2):  # a notification read meanwhile makes the first try fail
            try:
                with self.db.transaction() as unit:
                    unread = unit.session.scalars(select(Notification.id).where(*conditions)).all()
                    if unread:
                        unit.session.execute(insert(Reading), [
                            {"notification_id": n, "actor_id": actor["id"], "read_at": now}
                            for n in unread])
                return {"marked": len(unread)}
            except IntegrityError:
                if attempt == 2:
                    raise

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def mark_read(self, actor, notification_id, lang="id"):
        with self.db.transaction() as unit:
            notification = unit.session.get(Notification, notification_id)
            if notification is None or notification.recipient != domain.party_of(actor):
                raise NotFound(text("Notifikasi tidak ditemukan.", "Notification not found."))
            reading = unit.session.get(Reading, (notification_id, actor["id"]))
            if reading is None:
                reading = Reading(notification_id=notification_id, actor_id=actor["id"],
                                  read_at=utcnow())
                unit.session.add(reading)
            return notification_view(notification, reading.read_at, lang)

    @rpc
    def health(self):
        return self.db.health()
