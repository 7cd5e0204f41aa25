"""Events between services are never silently lost (shared/messaging.py, real RabbitMQ).

A handler that keeps failing is retried after a delay, then its message is dead-lettered with
the reason and its headers; a message nobody can read is dead-lettered too; the next messages
keep flowing meanwhile; an event published before its consumer ever ran waits in its queue.
"""
import json

import eventlet
import pytest
from kombu import Connection
from nameko.containers import ServiceContainer

from shared import events, messaging, signing
from shared.events import make_event
from shared.messaging import EVENTS_EXCHANGE, EventPublisher, consume_events
from tests.broker import eventually, queue_counts

attempts = []
handled = []
broken = {"gagal"}  # titles the stand-in fails on; a test "fixes the bug" by emptying it


class FlakyRouting:
    """Stands in for the routing service: fails on every case titled 'gagal'."""

    name = "routing"

    @consume_events("routing")
    def on_event(self, event):
        title = event.payload["case"]["title"]
        attempts.append(title)
        if title in broken:
            raise RuntimeError(f"database kaput while handling {title}")
        handled.append(title)


def case_opened(title):
    place = {"code": "35.79.02.2001", "name": "Punten"}
    return make_event(events.CASE_OPENED, {
        "case": {"id": f"case-{title}", "tracking_number": "JBT-0000-0000", "title": title,
                 "category": "air-bersih", "severity": "high", "affected_people": 320,
                 "status": "reported", "version": 1, "village": place,
                 "district": {"code": "35.79.02", "name": "Bumiaji"},
                 "regency": {"code": "35.79", "name": "Kota Batu"}, "tasks": []},
        "actor": {"id": "a1", "role": "village", "name": "Operator Desa Punten"},
    }, producer="villages", correlation_id=f"case-{title}")


def dead_letters(amqp_uri):
    """Take every message out of the dead-letter queue: [(headers, body)]."""
    with Connection(amqp_uri) as connection:
        queue = messaging.DEAD_LETTER_QUEUE.bind(connection.default_channel)
        found = []
        while (message := queue.get()) is not None:
            found.append((message.headers, message.body))
            message.ack()
        return found


@pytest.fixture
def routing(amqp_uri, monkeypatch):
    monkeypatch.setattr(messaging, "RETRY_DELAYS_SECONDS", (0.05, 0.1, 0.05, 0.1))
    attempts.clear()
    handled.clear()
    monkeypatch.setattr("tests.service.test_event_delivery.broken", {"gagal"})
    container = ServiceContainer(FlakyRouting, {"AMQP_URI": amqp_uri, "max_workers": 4})
    yield container
    container.stop()


def signed(body):
    """The headers of a message signed as Jembatan's services sign theirs."""
    raw = body if isinstance(body, bytes) else body.encode("utf-8")
    return {signing.SIGNATURE_HEADER: signing.signature(raw)}


def publish_raw(amqp_uri, body, **options):
    publisher = EventPublisher(amqp_uri)
    try:
        publisher.publish_raw(body, exchange=EVENTS_EXCHANGE, routing_key="case_opened", **options)
    finally:
        publisher.close()


def test_an_event_published_before_its_consumer_ever_ran_is_delivered(amqp_uri, routing):
    publisher = EventPublisher(amqp_uri)
    publisher.publish(case_opened("sebelum"))
    publisher.close()
    routing.start()
    eventually(lambda: handled == ["sebelum"])


def test_a_consumer_whose_connection_an_acknowledgement_found_lost_connects_again(amqp_uri,
                                                                                   routing):
    """A write that fails (an acknowledgement, as a broker node goes away) marks the connection
    lost before the consumer reads that it is gone; the consumer then connects again and takes
    the next events. (kombu, left to itself, opens a new connection quietly and waits on it,
    its consumers left on the lost one: no event would come again.)"""
    routing.start()
    publisher = EventPublisher(amqp_uri)
    publisher.publish(case_opened("sebelum"))
    eventually(lambda: handled == ["sebelum"])
    consumer = next(iter(routing.entrypoints)).queue_consumer
    lost = consumer.consuming_on
    lost.transport.connected = False  # what py-amqp does when a write fails
    eventually(lambda: consumer.consuming_on is not lost)
    publisher.publish(case_opened("sesudah"))
    publisher.close()
    eventually(lambda: handled == ["sebelum", "sesudah"])


def test_a_failing_handler_is_retried_then_dead_lettered_and_the_next_event_flows(amqp_uri, routing):
    routing.start()
    publisher = EventPublisher(amqp_uri)
    failing = case_opened("gagal")
    body = json.dumps(failing)
    publisher.publish_raw(body, exchange=EVENTS_EXCHANGE, routing_key="case_opened",
                          message_id=failing["event_id"], headers={"x-trace": "trace-42", **signed(body)})
    publisher.publish(case_opened("berhasil"))
    publisher.close()

    eventually(lambda: handled == ["berhasil"])
    eventually(lambda: attempts.count("gagal") == messaging.handler_attempts())
    parked = eventually(lambda: dead_letters(amqp_uri))
    assert len(parked) == 1
    headers, body = parked[0]
    assert "database kaput" in headers["x-jembatan-reason"]
    assert f"{messaging.handler_attempts()} times" in headers["x-jembatan-reason"]
    assert headers["x-jembatan-queue"] == "jembatan.routing.events"
    assert headers["x-jembatan-original-routing-key"] == "case_opened"
    assert headers["x-trace"] == "trace-42"
    assert json.loads(body)["event_id"] == failing["event_id"]


def test_a_failing_message_waits_aside_and_does_not_hold_up_the_next(amqp_uri, monkeypatch):
    monkeypatch.setattr(messaging, "RETRY_DELAYS_SECONDS", (60, 60, 60, 60))
    attempts.clear()
    handled.clear()
    container = ServiceContainer(FlakyRouting, {"AMQP_URI": amqp_uri, "max_workers": 2})
    container.start()
    try:
        publisher = EventPublisher(amqp_uri)
        for _ in range(10):
            publisher.publish(case_opened("gagal"))
        publisher.publish(case_opened("berhasil"))
        publisher.close()
        eventually(lambda: handled == ["berhasil"], timeout=10)
        assert attempts.count("gagal") == 10  # each tried once, now waiting a minute
    finally:
        container.stop()


NO_ENVELOPE = json.dumps({"hello": "world"})
UNKNOWN_VERSION = json.dumps(dict(case_opened("x"), version=99))
FORGED = json.dumps(case_opened("palsu"))


@pytest.mark.parametrize("body,options,reason", [
    (b"{not json", {"content_type": "application/json"}, "undecodable"),
    (b"\x00\x01", {"content_type": "application/octet-stream", "content_encoding": "binary"},
     "undecodable"),
    (NO_ENVELOPE, {"headers": signed(NO_ENVELOPE)}, "invalid event"),
    (UNKNOWN_VERSION, {"headers": signed(UNKNOWN_VERSION)}, "invalid event"),
    (FORGED, {}, "unsigned or forged"),
    (FORGED, {"headers": {signing.SIGNATURE_HEADER: "0" * 64}}, "unsigned or forged"),
], ids=["bad-json", "binary", "no-envelope", "unknown-version", "unsigned", "forged"])
def test_a_message_nobody_can_read_is_dead_lettered_and_the_next_event_flows(
        amqp_uri, routing, body, options, reason):
    routing.start()
    publish_raw(amqp_uri, body, **options)
    publisher = EventPublisher(amqp_uri)
    publisher.publish(case_opened("berikutnya"))
    publisher.close()

    eventually(lambda: handled == ["berikutnya"])
    parked = eventually(lambda: dead_letters(amqp_uri))
    assert [reason in headers["x-jembatan-reason"] for headers, _body in parked] == [True]


def test_an_operator_lists_shows_and_replays_a_dead_letter_once_the_cause_is_fixed(
        amqp_uri, routing, monkeypatch):
    from click.testing import CliRunner

    from jembatan.cli import main

    def jembatan(*args):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    monkeypatch.setenv("AMQP_URI", amqp_uri)
    routing.start()
    publisher = EventPublisher(amqp_uri)
    publisher.publish(case_opened("gagal"))
    publisher.close()
    eventually(lambda: attempts.count("gagal") == messaging.handler_attempts())

    listed = eventually(lambda: json.loads(jembatan("dlq", "list", "--json").output))
    assert len(listed) == 1
    letter = listed[0]
    assert letter["queue"] == "jembatan.routing.events"
    assert letter["routing_key"] == "case_opened"
    assert "database kaput" in letter["reason"]
    shown = jembatan("dlq", "show", letter["id"])
    assert shown.exit_code == 0 and "database kaput" in shown.output and "gagal" in shown.output
    assert len(json.loads(jembatan("dlq", "list", "--json").output)) == 1  # looking keeps it

    unknown = jembatan("dlq", "replay", "no-such-letter")
    assert unknown.exit_code != 0 and "not found" in unknown.output

    broken.clear()  # the bug is fixed
    replayed = jembatan("dlq", "replay", letter["id"])
    assert replayed.exit_code == 0, replayed.output
    eventually(lambda: handled == ["gagal"])
    assert json.loads(jembatan("dlq", "list", "--json").output) == []


held = {}  # title → an event the stand-in's handler waits for before it finishes


class SlowRouting:
    """Stands in for the routing service: a case whose title is in `held` is handled only
    once the test lets it finish."""

    name = "routing"

    @consume_events("routing")
    def on_event(self, event):
        title = event.payload["case"]["title"]
        if title in held:
            held[title].wait()
        handled.append(title)


def test_an_event_still_being_handled_is_not_acknowledged_with_those_after_it(amqp_uri):
    """Acknowledgements are sent in groups (one for many messages): the messages after one
    still being handled are acknowledged, that one only once it is done. Were it
    acknowledged with them, a crash meanwhile would lose it; were they not, they would be
    handled again after one."""
    handled.clear()
    held.clear()
    held["lambat"] = eventlet.Event()
    container = ServiceContainer(SlowRouting, {"AMQP_URI": amqp_uri, "max_workers": 8})
    container.start()
    try:
        publisher = EventPublisher(amqp_uri)
        titles = ["lambat", *(f"cepat-{n}" for n in range(6))]
        for title in titles:
            publisher.publish(case_opened(title))
        publisher.close()
        eventually(lambda: sorted(handled) == sorted(titles[1:]))
        queue = messaging.event_queue("routing").name
        eventually(lambda: queue_counts(amqp_uri, queue) == (0, 1), timeout=30)

        held["lambat"].send()
        eventually(lambda: sorted(handled) == sorted(titles))
        eventually(lambda: queue_counts(amqp_uri, queue) == (0, 0), timeout=30)
    finally:
        if not held["lambat"].ready():  # a failed assertion above: let its worker end
            held["lambat"].send()
        container.stop()
