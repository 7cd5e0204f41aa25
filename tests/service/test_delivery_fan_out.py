"""The notifications service's deliveries on a real database (SQLite, PostgreSQL), without a
broker: an event handled twice makes one delivery per actor and channel; a claim is taken once;
an attempt is recorded, retried, and failed for good after the last; a follower hears of what it
follows; an email for the daily digest is held, then gathered once."""
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from services.notifications import delivery, messages, sender
from services.notifications.models import (
    Base, Delivery, DeliveryAttempt, Notification, Subscription,
)
from services.notifications.service import NotificationsService
from shared import events
from shared.events import make_event, parse_event
from shared.timezones import zone_of
from tests.databases import a_store

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)


class Awake:
    def __init__(self):
        self.woken = 0

    def wake(self):
        self.woken += 1


@pytest.fixture(params=["sqlite", "postgresql"])
def service(request, tmp_path, monkeypatch):
    """The service's handlers on its own database (the claim differs: PostgreSQL skips the
    rows another replica holds)."""
    monkeypatch.setenv("JEMBATAN_SMTP_URL", "smtp://127.0.0.1:9")
    monkeypatch.setenv("JEMBATAN_SMS_GATEWAY_URL", "http://127.0.0.1:9/sms")
    with a_store(request.param, tmp_path, "notifications", Base.metadata) as store:
        handler = NotificationsService()
        handler.db, handler.sender = store, Awake()
        yield handler


def deliver(handler, event_type, payload, producer):
    handler.on_event(parse_event(make_event(event_type, payload, producer, "test")))


def actor_changed(actor_id, scope, version, **channels):
    return {"actor": {"id": actor_id, "role": "agency", "scope": scope, "name": "Petugas PDAM",
                      "email": channels.get("email"), "phone": channels.get("phone"),
                      "whatsapp": False, "language": "id", "disabled": False},
            "version": version}


def case_routed():
    place = {"code": "35.79.02.2001", "name": "Punten"}
    task = {"id": "t1", "agency_id": "pdam-batu", "agency_name": "PDAM Kota Batu",
            "role": "lead", "status": "pending", "accept_due_at": "2026-12-05T02:00:00Z",
            "due_at": "2026-12-08T02:00:00Z"}
    return {"case": {"id": "c1", "tracking_number": "JBT-AAAA-BBBB", "title": "Air mati",
                     "category": "air-bersih", "severity": "high", "status": "routed",
                     "version": 2, "village": place,
                     "district": {"code": "35.79.02", "name": "Bumiaji"},
                     "regency": {"code": "35.79", "name": "Kota Batu"}, "tasks": [task]},
            "actor": {"id": "system", "role": "system", "name": "Jembatan"},
            "agency_ids": ["pdam-batu"]}


def rows(store, model):
    with store.read() as session:
        return session.query(model).all()


def test_an_event_handled_twice_makes_each_delivery_once(service):
    deliver(service, events.ACTOR_CHANGED, actor_changed(
        "a1", "pdam-batu", 1, email="pdam@example.org", phone="+6281234567890"), "gateway")
    routed = make_event(events.CASE_ROUTED, case_routed(), "requests", "test")
    for _twice in (1, 2):
        service.on_event(parse_event(routed))
    made = {(d.target, d.channel, d.address) for d in rows(service.db, Delivery)
            if d.party == "agency:pdam-batu"}
    assert made == {("actor:a1", "email", "pdam@example.org"),
                    ("actor:a1", "sms", "+6281234567890")}
    assert len([d for d in rows(service.db, Delivery) if d.party == "agency:pdam-batu"]) == 2
    assert service.sender.woken == 1


def test_an_older_state_of_an_actor_arriving_late_changes_nothing(service):
    deliver(service, events.ACTOR_CHANGED, actor_changed("a1", "pdam-batu", 2,
                                                         email="baru@example.org"), "gateway")
    deliver(service, events.ACTOR_CHANGED, actor_changed("a1", "pdam-batu", 1,
                                                         email="lama@example.org"), "gateway")
    deliver(service, events.CASE_ROUTED, case_routed(), "requests")
    assert [d.address for d in rows(service.db, Delivery) if d.channel == "email"] == [
        "baru@example.org"]


def test_a_delivery_is_claimed_once_then_retried_then_failed(service, monkeypatch):
    monkeypatch.setenv("JEMBATAN_DELIVERY_ATTEMPTS", "2")
    monkeypatch.setenv("JEMBATAN_DELIVERY_RETRY_SECONDS", "0")
    deliver(service, events.ACTOR_CHANGED, actor_changed("a1", "pdam-batu", 1,
                                                         email="pdam@example.org"), "gateway")
    deliver(service, events.CASE_ROUTED, case_routed(), "requests")
    store = service.db
    claimed = sender.claim(store, "email", 10)
    assert len(claimed) == 1 and sender.claim(store, "email", 10) == []  # taken: not again
    (delivery_id, token), = claimed
    sender.record(store, delivery_id, token, delivery.FAILED, "SMTP down", 5)
    row, = rows(store, Delivery)
    assert (row.status, row.attempts, row.last_error) == (delivery.PENDING, 1, "SMTP down")
    (delivery_id, token), = sender.claim(store, "email", 10)  # due again at once (no wait)
    sender.record(store, delivery_id, token, delivery.FAILED, "SMTP down", 5)
    row, = rows(store, Delivery)
    assert (row.status, row.attempts, row.next_attempt_at) == (delivery.FAILED, 2, None)
    assert [a.number for a in rows(store, DeliveryAttempt)] == [1, 2]
    assert sender.claim(store, "email", 10) == []


def test_what_a_claim_that_lost_its_lease_records_does_not_undo_a_newer_claim(service):
    deliver(service, events.ACTOR_CHANGED, actor_changed("a1", "pdam-batu", 1,
                                                         email="pdam@example.org"), "gateway")
    deliver(service, events.CASE_ROUTED, case_routed(), "requests")
    store = service.db
    (delivery_id, old), = sender.claim(store, "email", 10)
    with store.transaction() as unit:  # the old claim expired: another process took it
        unit.session.get(Delivery, delivery_id).claim = "newer"
    sender.record(store, delivery_id, old, delivery.FAILED, "timed out", 10_000)
    row, = rows(store, Delivery)
    assert (row.status, row.claim) == (delivery.SENDING, "newer")
    assert len(rows(store, DeliveryAttempt)) == 1  # the attempt is recorded all the same


def test_the_channels_a_deployment_has(monkeypatch):
    for name in ("JEMBATAN_SMTP_URL", "JEMBATAN_SMS_GATEWAY_URL", "JEMBATAN_WHATSAPP_GATEWAY_URL"):
        monkeypatch.delenv(name, raising=False)
    assert sender.available_channels() == ("webhook",)
    monkeypatch.setenv("JEMBATAN_WHATSAPP_GATEWAY_URL", "https://wa.example.org/send")
    assert sender.available_channels() == ("whatsapp", "webhook")


def subscribe(handler, actor_id, party, **what):
    with handler.db.transaction() as unit:
        unit.session.add(Subscription(
            id=str(uuid.uuid4()), actor_id=actor_id, party=party,
            category=what.get("category"), village_code=what.get("village"),
            overdue=what.get("overdue", False), created_at=NOW))


def regency_officer(handler, actor_id="r1", digest=False):
    deliver(handler, events.ACTOR_CHANGED, {
        "actor": {"id": actor_id, "role": "regency", "scope": "35.79",
                  "name": "Staf Kantor Walikota", "email": "staf@batukota.go.id",
                  "phone": None, "whatsapp": False, "language": "id", "disabled": False},
        "version": 1}, "gateway")
    if digest:
        handler.set_preferences({"id": actor_id, "role": "regency", "scope": "35.79",
                                 "name": "Staf"}, {"digest": True})


def test_a_follower_whose_office_is_not_told_hears_of_the_case_it_follows(service):
    regency_officer(service)
    subscribe(service, "r1", "regency:35.79", category="air-bersih")
    subscribe(service, "c1", "coordinator:35.79.02", category="air-bersih")  # told anyway
    deliver(service, events.CASE_ROUTED, case_routed(), "requests")
    to_follower = [n for n in rows(service.db, Notification) if n.recipient == "actor:r1"]
    assert len(to_follower) == 1 and to_follower[0].type == events.CASE_ROUTED
    assert not [n for n in rows(service.db, Notification) if n.recipient == "actor:c1"]
    assert [(d.target, d.channel) for d in rows(service.db, Delivery)
            if d.party == "actor:r1"] == [("actor:r1", "email")]
    inbox = service.inbox({"id": "r1", "role": "regency", "scope": "35.79"}, {})
    assert [n["type"] for n in inbox["items"]] == [events.CASE_ROUTED]


def test_a_follower_of_another_category_or_village_hears_nothing(service):
    regency_officer(service)
    subscribe(service, "r1", "regency:35.79", category="jalan-rusak")
    subscribe(service, "r1", "regency:35.79", village="35.79.01.2005")
    deliver(service, events.CASE_ROUTED, case_routed(), "requests")
    assert not [n for n in rows(service.db, Notification) if n.recipient == "actor:r1"]


@pytest.mark.parametrize("event_type,overdue,told", [
    (events.CASE_OPENED, False, True), (events.TASK_PROGRESSED, False, False),
    (events.DEADLINE_MISSED, True, True), (events.CASE_OPENED, True, False),
])
def test_what_a_subscription_follows(event_type, overdue, told):
    case = case_routed()["case"]
    following = SimpleNamespace(party="regency:35.79", category=None, village_code=None,
                                overdue=overdue)
    assert delivery.follows(following, event_type, case) is told
    elsewhere = SimpleNamespace(party="regency:35.07", category=None, village_code=None,
                                overdue=overdue)
    assert not delivery.follows(elsewhere, event_type, case)


def test_the_digest_goes_at_seven_in_the_areas_own_time():
    wib = delivery.last_digest_moment(datetime(2026, 12, 5, 1, 30, tzinfo=timezone.utc),
                                      zone_of("35.79"), 7)
    assert wib == datetime(2026, 12, 5, 0, 0, tzinfo=timezone.utc)   # 07:00 WIB, today
    wita = delivery.last_digest_moment(datetime(2026, 12, 4, 22, 30, tzinfo=timezone.utc),
                                       zone_of("73.71"), 7)
    assert wita == datetime(2026, 12, 3, 23, 0, tzinfo=timezone.utc)  # 07:00 WITA, yesterday


def test_an_email_for_the_digest_is_held_then_gathered_once(service):
    regency_officer(service, digest=True)
    subscribe(service, "r1", "regency:35.79", category="air-bersih")
    deliver(service, events.CASE_ROUTED, case_routed(), "requests")
    held, = [d for d in rows(service.db, Delivery) if d.party == "actor:r1"]
    assert (held.status, held.next_attempt_at) == (delivery.HELD, None)
    before = held.created_at + timedelta(minutes=1)
    sender.compose_digests(service.db, before)  # the digest's hour has not come again
    assert [d.status for d in rows(service.db, Delivery) if d.party == "actor:r1"] == ["held"]
    next_morning = delivery.last_digest_moment(held.created_at, zone_of("35.79"), 7) + \
        timedelta(days=1, minutes=1)
    for _twice in (1, 2):
        sender.compose_digests(service.db, next_morning)
    mine = [d for d in rows(service.db, Delivery) if d.target == "actor:r1"]
    digest, = [d for d in mine if d.event_type == delivery.DIGEST]
    assert (digest.status, digest.channel, digest.address) == (
        delivery.PENDING, "email", "staf@batukota.go.id")
    assert [(d.status, d.digest_id) for d in mine if d is not digest] == [
        (delivery.DIGESTED, digest.id)]
    with service.db.read() as session:
        notifications = session.query(Notification).filter(
            Notification.recipient == "actor:r1").all()
    subject, text = messages.digest(notifications, "id")
    assert subject == "Ringkasan harian Jembatan: 1 kabar"
    assert "1. Kasus JBT-AAAA-BBBB dirutekan" in text and "/cases/c1" in text
