"""The notifications service: every party's inbox, filled from the case events, and the same
news carried to each actor on the channels it chose and to the party's webhooks
(services/notifications/delivery.py says who, sender.py sends)."""
import secrets
import uuid
from types import SimpleNamespace
from urllib.parse import urlsplit

from sqlalchemy import bindparam, exists, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from services.notifications import delivery, domain, templates
from services.notifications.models import (
    Announcement, AnnouncementVillage, Base, Contact, Delivery, DeliveryAttempt, DigestChoice,
    Notification, Preference, Reading, Subscription, Webhook,
)
from services.notifications.outgoing import private_address
from services.notifications.sender import Sender, available_channels
from shared import commands, config, events, paging, policy
from shared.channels import PERSONAL_CHANNELS, WEBHOOK
from shared.db import Database
from shared.errors import DOMAIN_ERRORS, Conflict, NotFound, ValidationFailed
from shared.events import iso, utcnow
from shared.i18n import text
from shared.messaging import consume_events, rpc


def notification_view(notification, read_at, lang):
    title, body = templates.render(notification.params["template"], notification.params, lang)
    return {"id": notification.id, "case_id": notification.case_id,
            "announcement_id": notification.announcement_id, "type": notification.type,
            "title": title, "body": body, "created_at": iso(notification.created_at),
            "read_at": iso(read_at)}


def announcement_view(announcement, villages, read):
    """An announcement as its sender sees it: `read` maps a village code to when it was
    first read there."""
    return {"id": announcement.id, "title": announcement.title, "body": announcement.body,
            "area": {"code": announcement.area_code, "name": announcement.area_name},
            "sender": {"party": announcement.sender_party, "name": announcement.sender_name},
            "created_at": iso(announcement.created_at), "reminders": announcement.reminders,
            "reminded_at": iso(announcement.reminded_at), "villages": len(villages),
            "read": sum(1 for v in villages if v.village_code in read),
            "receipts": [{"village": {"code": v.village_code, "name": v.village_name},
                          "read_at": iso(read.get(v.village_code))} for v in villages]}


def announcement_not_found():
    return NotFound(text("Pengumuman tidak ditemukan.", "Announcement not found."))


def area_not_found(field):
    return NotFound(text("Wilayah itu bukan wilayah Anda.", "That area is not yours."),
                    {field: [text("Tidak ditemukan di wilayah Anda.", "Not found in your area.")]})


def webhook_view(webhook):
    return {"id": webhook.id, "url": webhook.url, "events": list(webhook.events),
            "party": webhook.party, "created_at": iso(webhook.created_at)}


def delivery_view(session, row):
    """A delivery with every attempt, oldest first."""
    attempts = session.scalars(select(DeliveryAttempt).where(
        DeliveryAttempt.delivery_id == row.id).order_by(DeliveryAttempt.id)).all()
    return {"id": row.id, "channel": row.channel, "status": row.status, "party": row.party,
            "target": row.target, "address": row.address, "event": row.event_type,
            "source": row.source, "attempts": row.attempts, "last_error": row.last_error,
            "next_attempt_at": iso(row.next_attempt_at) if row.status == delivery.PENDING
            else None, "created_at": iso(row.created_at), "sent_at": iso(row.sent_at),
            "history": [{"number": a.number, "at": iso(a.at), "outcome": a.outcome,
                         "detail": a.detail, "milliseconds": a.milliseconds}
                        for a in attempts]}


def subscription_view(subscription):
    return {"id": subscription.id, "category": subscription.category,
            "village": subscription.village_code, "overdue": subscription.overdue,
            "created_at": iso(subscription.created_at)}


def webhook_not_found():
    return NotFound(text("Webhook tidak ditemukan.", "Webhook not found."))


def _many(name):
    return bindparam(name, expanding=True)


# The statements every event's fan-out runs, built once (building one costs more than running
# it).
FANNING_OUT = SimpleNamespace(
    subscriptions=select(Subscription.__table__).where(Subscription.party.in_(_many("parties"))),
    # Each actor of the recipients, whether it takes a digest, and its channels for this
    # kind of news if it chose them.
    contacts=select(*Contact.__table__.c, DigestChoice.digest,
                    Preference.channels.label("chosen"))
    .outerjoin(DigestChoice, DigestChoice.actor_id == Contact.actor_id)
    .outerjoin(Preference, (Preference.actor_id == Contact.actor_id)
               & (Preference.event_type == bindparam("kind")))
    .where(or_(Contact.party.in_(_many("parties")), Contact.actor_id.in_(_many("actors"))),
           Contact.disabled.is_(False)),
    webhooks=select(Webhook.id, Webhook.party, Webhook.url, Webhook.events).where(
        Webhook.party.in_(_many("parties")), Webhook.deleted_at.is_(None)),
    notifications=insert(Notification.__table__),
    deliveries=insert(Delivery.__table__),
)


class NotificationsService:
    name = "notifications"
    db = Database(Base.metadata)
    sender = Sender()

    @consume_events("notifications")
    def on_event(self, event):
        if event.type == events.ACTOR_CHANGED:
            self.db.handle_once(event, lambda unit: self._remember_actor(unit, event.payload))
            return
        made = []
        self.db.handle_once(event, lambda unit: made.extend(self._notify(unit, event)))
        if made:
            self.sender.wake()

    def _remember_actor(self, unit, payload):
        """Keep the newest state of an actor the gateway told of (an older one arriving late
        changes nothing)."""
        actor = payload["actor"]
        contact = unit.session.get(Contact, actor["id"])
        if contact is not None and contact.version >= payload["version"]:
            return
        if contact is None:
            contact = Contact(actor_id=actor["id"])
            unit.session.add(contact)
        contact.party, contact.name = delivery.contact_party(actor), actor["name"]
        contact.email, contact.phone = actor["email"], actor["phone"]
        contact.whatsapp, contact.language = actor["whatsapp"], actor["language"]
        contact.disabled, contact.version = actor["disabled"], payload["version"]

    def _notify(self, unit, event):
        """The notifications of an event (to each party told, and to each follower whose
        office is not), each with its deliveries; the deliveries made."""
        told = domain.recipients(event.type, event.payload)
        followers = [(f"actor:{actor_id}", "follower") for actor_id in
                     self._followers(unit.session, event, {party for party, _ in told})]
        notifications = []
        for recipient, audience in told + followers:
            values = templates.params(event.type, event.payload, recipient)
            values["template"] = templates.template_key(event.type, audience, event.payload)
            notifications.append({"recipient": recipient, "case_id": event.payload["case"]["id"],
                                  "announcement_id": None, "event_id": event.event_id,
                                  "params": values})
        return self._fan_out(unit.session, event.type, notifications, utcnow())

    def _followers(self, session, event, told):
        """The actors following this case (by its category, village, or being overdue) whose
        office hears of this event anyway or not: those it does not."""
        case = event.payload["case"]
        offices = (policy.party(policy.COORDINATOR, case["district"]["code"]),
                   policy.party(policy.REGENCY, case["regency"]["code"]))
        following = session.execute(FANNING_OUT.subscriptions,
                                    {"parties": [o for o in offices if o not in told]}).all()
        return sorted({s.actor_id for s in following
                       if delivery.follows(s, event.type, case)})

    def _fan_out(self, session, kind, notifications, now):
        """Write notifications of one kind (dicts of recipient, case_id, announcement_id,
        event_id, params), and a delivery for each channel each actor of the recipient chose
        (and has), and one for each webhook of the recipient that asked for this kind; the
        deliveries made. A few statements whatever the number of recipients."""
        for notification in notifications:
            notification.update(id=str(uuid.uuid4()), type=kind, created_at=now)
        if not notifications:
            return []
        session.flush()  # what they refer to (an announcement) first
        session.execute(FANNING_OUT.notifications, notifications)
        recipients = {n["recipient"] for n in notifications}
        parties = [r for r in recipients if not r.startswith("actor:")]
        actors = [r.partition(":")[2] for r in recipients if r.startswith("actor:")]
        contacts = session.execute(FANNING_OUT.contacts,
                                   {"parties": parties, "actors": actors, "kind": kind}).all()
        webhooks = [w for w in session.execute(FANNING_OUT.webhooks, {"parties": parties})
                    if kind in w.events]
        available = available_channels()
        rows = []
        for notification in notifications:
            recipient = notification["recipient"]
            planned = [(f"actor:{contact.actor_id}", channel, address, contact.language,
                        delivery.first_status(channel, bool(contact.digest)))
                       for contact in contacts
                       if recipient in (contact.party, f"actor:{contact.actor_id}")
                       for channel, address in delivery.personal_deliveries(
                           contact, kind, {} if contact.chosen is None else {
                               kind: contact.chosen}, available)]
            planned += [(f"webhook:{webhook.id}", WEBHOOK, webhook.url, "id", delivery.PENDING)
                        for webhook in webhooks if webhook.party == recipient]
            rows += [{"id": str(uuid.uuid4()), "source": f"notification:{notification['id']}",
                      "target": target, "party": recipient, "channel": channel,
                      "address": address, "language": language, "event_type": kind,
                      "status": status, "attempts": 0, "created_at": now,
                      "next_attempt_at": now if status == delivery.PENDING else None}
                     for target, channel, address, language, status in planned]
        if rows:
            session.execute(FANNING_OUT.deliveries, rows)
        return rows

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def inbox(self, actor, query, lang="id"):
        """One page of the caller's notifications, newest first (`unread`, `case_id`)."""
        conditions = [Notification.recipient.in_(domain.inboxes_of(actor))]
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
    def mark_all_read(self, actor, case_id=None, announcement_id=None):
        """Mark every unread notification of the caller read (of one case, with `case_id`; of
        one announcement, with `announcement_id`)."""
        now = utcnow()
        conditions = [Notification.recipient.in_(domain.inboxes_of(actor)),
                      ~exists().where(Reading.notification_id == Notification.id,
                                      Reading.actor_id == actor["id"])]
        if case_id:
            conditions.append(Notification.case_id == case_id)
        if announcement_id:
            conditions.append(Notification.announcement_id == announcement_id)
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
            if notification is None or notification.recipient not in domain.inboxes_of(actor):
                raise NotFound(text("Notifikasi tidak ditemukan.", "Notification not found."))
            reading = unit.session.get(Reading, (notification_id, actor["id"]))
            if reading is None:
                reading = Reading(notification_id=notification_id, actor_id=actor["id"],
                                  read_at=utcnow())
                unit.session.add(reading)
            return notification_view(notification, reading.read_at, lang)

    # -- what each actor is told on --------------------------------------------------------------

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def preferences(self, actor):
        """The channels the caller is told on, per kind of event, and where it can be reached."""
        policy.require_role(actor, "preferences.read")
        with self.db.read() as session:
            contact = session.get(Contact, actor["id"])
            chosen = {p.event_type: p.channels for p in session.scalars(
                select(Preference).where(Preference.actor_id == actor["id"]))}
            digest = session.get(DigestChoice, actor["id"])
        available = available_channels()
        reachable = {channel: bool(contact and delivery.address_on(contact, channel))
                     for channel in PERSONAL_CHANNELS}
        return {"available": [c for c in available if c in PERSONAL_CHANNELS],
                "reachable": reachable, "digest": bool(digest and digest.digest),
                "events": [{"event": event_type,
                            "channels": list(delivery.chosen_channels(event_type, chosen)),
                            "chosen": event_type in chosen}
                           for event_type in events.NOTIFIED_EVENTS]}

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def set_preferences(self, actor, body):
        policy.require_role(actor, "preferences.update")
        body = commands.load(commands.PreferencesInput, body)
        now = utcnow()
        with self.db.transaction() as unit:
            if "digest" in body:
                choice = unit.session.get(DigestChoice, actor["id"])
                if choice is None:
                    unit.session.add(DigestChoice(actor_id=actor["id"], digest=body["digest"],
                                                  updated_at=now))
                else:
                    choice.digest, choice.updated_at = body["digest"], now
            for event_type, channels in body.get("events", {}).items():
                preference = unit.session.get(Preference, (actor["id"], event_type))
                if preference is None:
                    unit.session.add(Preference(actor_id=actor["id"], event_type=event_type,
                                                channels=channels, updated_at=now))
                else:
                    preference.channels, preference.updated_at = channels, now
        return self.preferences(actor)

    # -- following more than one's own news --------------------------------------------------

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def subscriptions(self, actor, query):
        policy.require_role(actor, "subscriptions.list")
        rows = select(Subscription).where(Subscription.actor_id == actor["id"]).order_by(
            Subscription.created_at.desc(), Subscription.id)
        with self.db.read() as session:
            return paging.read_page(session, query, rows, subscription_view)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def subscribe(self, actor, body):
        """Follow a category, a village or the overdue cases of the caller's area (a village
        that exists: the gateway asked the villages service)."""
        policy.require_role(actor, "subscriptions.create")
        body = commands.load(commands.SubscriptionInput, body)
        village = body.get("village")
        if village and not village.startswith(actor["scope"] + "."):
            raise NotFound(text("Desa itu bukan di wilayah Anda.", "That village is not in "
                                "your area."), {"village": [text("Tidak ditemukan di wilayah "
                                                                 "Anda.", "Not in your area.")]})
        subscription = Subscription(
            id=str(uuid.uuid4()), actor_id=actor["id"], party=domain.party_of(actor),
            category=body.get("category"), village_code=village, overdue=body["overdue"],
            created_at=utcnow())
        with self.db.transaction() as unit:
            unit.session.add(subscription)
        return subscription_view(subscription)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def unsubscribe(self, actor, subscription_id):
        policy.require_role(actor, "subscriptions.delete")
        with self.db.transaction() as unit:
            subscription = unit.session.get(Subscription, subscription_id)
            if subscription is None or subscription.actor_id != actor["id"]:
                raise NotFound(text("Langganan tidak ditemukan.", "Subscription not found."))
            unit.session.delete(subscription)

    # -- webhooks ----------------------------------------------------------------------------------

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def webhooks(self, actor, query):
        """The webhooks of the caller's party (an admin: every one)."""
        policy.require_role(actor, "webhooks.list")
        rows = select(Webhook).where(Webhook.deleted_at.is_(None)).order_by(
            Webhook.created_at.desc(), Webhook.id)
        if actor["role"] != policy.ADMIN:
            rows = rows.where(Webhook.party == domain.party_of(actor))
        with self.db.read() as session:
            return paging.read_page(session, query, rows, webhook_view)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def create_webhook(self, actor, body):
        """A webhook of the caller's party; its signing secret is in this answer only."""
        policy.require_role(actor, "webhooks.create")
        body = commands.load(commands.WebhookInput, body)
        if not config.webhooks_may_reach_private_addresses() and private_address(
                urlsplit(body["url"]).hostname or ""):
            raise ValidationFailed(text("Isian tidak sah.", "Invalid input."), {"url": [text(
                "Alamat ini ada di jaringan dalam; webhook harus ke alamat publik.",
                "This address is inside the network; a webhook must go to a public address.")]})
        webhook = Webhook(id=str(uuid.uuid4()), party=domain.party_of(actor), url=body["url"],
                          events=body["events"], secret="whsec_" + secrets.token_urlsafe(32),
                          created_by=actor["id"], created_at=utcnow())
        with self.db.transaction() as unit:
            unit.session.add(webhook)
        return {**webhook_view(webhook), "secret": webhook.secret}

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def delete_webhook(self, actor, webhook_id):
        """No more deliveries to it (those pending fail: the webhook was deleted)."""
        policy.require_role(actor, "webhooks.delete")
        with self.db.transaction() as unit:
            webhook = unit.session.get(Webhook, webhook_id)
            if webhook is None or webhook.deleted_at is not None or (
                    actor["role"] != policy.ADMIN and webhook.party != domain.party_of(actor)):
                raise webhook_not_found()
            webhook.deleted_at = utcnow()

    # -- announcements ---------------------------------------------------------------------------

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def announce(self, actor, body, area, villages):
        """Send an announcement to every village of `area` (its district's coordinator, or the
        regency office for its regency or one of its districts): a notification in each
        village's inbox, and the deliveries on their channels. `villages` are the area's, as
        the villages service knows them."""
        policy.require_role(actor, "announcements.create")
        body = commands.load(commands.AnnouncementInput, body)
        code = body.get("district") or body.get("regency")
        if not domain.may_announce(actor, code) or area["code"] != code or not villages:
            raise area_not_found("district" if "district" in body else "regency")
        now = utcnow()
        announcement = Announcement(
            id=str(uuid.uuid4()), sender_party=domain.party_of(actor), sender_id=actor["id"],
            sender_name=actor["name"], area_code=code, area_name=area["name"],
            title=body["title"], body=body["body"], created_at=now, reminders=0)
        with self.db.transaction() as unit:
            unit.session.add(announcement)
            unit.session.add_all([AnnouncementVillage(
                announcement_id=announcement.id, village_code=v["code"],
                village_name=v["name"]) for v in villages])
            self._tell_villages(unit.session, announcement, [v["code"] for v in villages], now)
        self.sender.wake()
        return self.announcement(actor, announcement.id)

    def _tell_villages(self, session, announcement, codes, now, reminder=False):
        params = templates.announcement_params(announcement, reminder)
        self._fan_out(session, events.ANNOUNCEMENT, [
            {"recipient": policy.party(policy.VILLAGE, code), "case_id": None,
             "announcement_id": announcement.id, "event_id": announcement.id,
             "params": dict(params)} for code in codes], now)

    def _read_by_village(self, session, announcement_id):
        """{village code: when one of its people first read the announcement (or a reminder)}."""
        rows = session.execute(
            select(Notification.recipient, func.min(Reading.read_at))
            .join(Reading, Reading.notification_id == Notification.id)
            .where(Notification.announcement_id == announcement_id)
            .group_by(Notification.recipient)).all()
        return {recipient.split(":", 1)[1]: read_at for recipient, read_at in rows}

    def _oversees(self, actor, announcement):
        """Whether the caller sees an announcement's receipts (and may remind): an admin; the
        office that sent it; the regency office, for every one of its regency."""
        return actor["role"] == policy.ADMIN or (
            actor["role"] in policy.SUPERVISORS
            and announcement.sender_party == domain.party_of(actor)) or (
            actor["role"] == policy.REGENCY
            and announcement.area_code[:5] == actor.get("scope"))

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def announcements(self, actor, query):
        """Those the caller's office sent (the regency office: every one of its regency; a
        village: those it received; an admin: all), newest first, with how many villages have
        read each."""
        policy.require_role(actor, "announcements.list")
        rows = select(Announcement).order_by(Announcement.created_at.desc(), Announcement.id)
        if actor["role"] == policy.VILLAGE:
            rows = rows.where(Announcement.id.in_(select(AnnouncementVillage.announcement_id)
                              .where(AnnouncementVillage.village_code == actor["scope"])))
        elif actor["role"] == policy.REGENCY:
            rows = rows.where(or_(Announcement.sender_party == domain.party_of(actor),
                                  Announcement.area_code.startswith(actor["scope"] + ".")
                                  | (Announcement.area_code == actor["scope"])))
        elif actor["role"] != policy.ADMIN:
            rows = rows.where(Announcement.sender_party == domain.party_of(actor))
        with self.db.read() as session:
            return paging.read_page(session, query, rows,
                                    lambda a: self._view_for(session, actor, a))

    def _view_for(self, session, actor, announcement):
        read = self._read_by_village(session, announcement.id)
        if actor["role"] == policy.VILLAGE:
            view = announcement_view(announcement, [], {})
            del view["receipts"], view["villages"], view["read"]
            return {**view, "read_at": iso(read.get(actor["scope"]))}
        villages = session.scalars(select(AnnouncementVillage).where(
            AnnouncementVillage.announcement_id == announcement.id)
            .order_by(AnnouncementVillage.village_name)).all()
        return announcement_view(announcement, villages, read)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def announcement(self, actor, announcement_id):
        """One announcement: for its sender's office (and an admin) with each village's
        receipt; for a village it was sent to, as that village received it."""
        policy.require_role(actor, "announcements.read")
        with self.db.read() as session:
            announcement = session.get(Announcement, announcement_id)
            if announcement is None:
                raise announcement_not_found()
            if actor["role"] == policy.VILLAGE:
                if session.get(AnnouncementVillage, (announcement_id, actor["scope"])) is None:
                    raise announcement_not_found()
            elif not self._oversees(actor, announcement):
                raise announcement_not_found()
            return self._view_for(session, actor, announcement)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def remind(self, actor, announcement_id):
        """Send the announcement again to the villages where nobody has read it yet."""
        policy.require_role(actor, "announcements.remind")
        now = utcnow()
        with self.db.transaction() as unit:
            announcement = unit.session.get(Announcement, announcement_id)
            if announcement is None or not self._oversees(actor, announcement):
                raise announcement_not_found()
            read = self._read_by_village(unit.session, announcement_id)
            unread = [code for code in unit.session.scalars(
                select(AnnouncementVillage.village_code).where(
                    AnnouncementVillage.announcement_id == announcement_id))
                if code not in read]
            if not unread:
                raise Conflict(text("Semua desa sudah membaca pengumuman ini.",
                                    "Every village has read this announcement."))
            announcement.reminders += 1
            announcement.reminded_at = now
            self._tell_villages(unit.session, announcement, unread, now, reminder=True)
        self.sender.wake()
        return {"reminded": len(unread)}

    # -- deliveries ------------------------------------------------------------------------------

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def deliveries(self, actor, query):
        """Deliveries, newest first, with every attempt (`status`, `channel`, `party`)."""
        policy.require_role(actor, "deliveries.list")
        conditions = [getattr(Delivery, name) == query[name]
                      for name in ("status", "channel", "party") if query.get(name)]
        rows = select(Delivery).where(*conditions).order_by(Delivery.created_at.desc(),
                                                            Delivery.id)
        with self.db.read() as session:
            return paging.read_page(session, query, rows, lambda row: delivery_view(session, row))

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def retry_delivery(self, actor, delivery_id):
        """A failed delivery tried again now, with as many attempts as a new one (its history
        goes on)."""
        policy.require_role(actor, "deliveries.retry")
        with self.db.transaction() as unit:
            row = unit.session.get(Delivery, delivery_id)
            if row is None:
                raise NotFound(text("Pengiriman tidak ditemukan.", "Delivery not found."))
            if row.status != delivery.FAILED:
                raise Conflict(text("Hanya pengiriman yang gagal yang dapat diulang.",
                                    "Only a failed delivery can be tried again."))
            row.status, row.attempts, row.next_attempt_at = delivery.PENDING, 0, utcnow()
        self.sender.wake()
        with self.db.read() as session:
            return delivery_view(session, session.get(Delivery, delivery_id))

    @rpc
    def health(self):
        return self.db.health()
