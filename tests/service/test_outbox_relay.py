"""The outbox relay keeps publishing whatever goes wrong around it (shared/db.py OutboxRelay,
shared/messaging.py EventPublisher; real RabbitMQ, SQLite).

A database error while marking rows published does not stop it; rows the broker refuses do not
hold up the rows behind them; a publisher left idle for several heartbeat intervals keeps its
connection and publishes at once.
"""
import json

import pytest
from kombu import Connection
from sqlalchemy import MetaData, insert

from shared import db, events, messaging
from shared.db import Store, messaging_tables
from shared.events import make_event, utcnow
from shared.messaging import EventPublisher, event_message, event_queue
from tests.broker import eventually
from tests.service.requests_world import issue_payload

metadata = MetaData()
messaging_tables(metadata)


@pytest.fixture
def store(tmp_path, amqp_uri, monkeypatch):
    monkeypatch.setattr(db, "SWEEP_INTERVAL_SECONDS", 0.2)
    monkeypatch.setattr(db, "SWEEP_GRACE", db.timedelta(0))
    store = Store("villages", metadata, url=f"sqlite:///{tmp_path / 'villages.db'}",
                  amqp_uri=amqp_uri)
    metadata.create_all(store.engine)
    store.start_relay()
    yield store
    store.close(flush=False)


def issue(title):
    """An issue_reported envelope, as villages publishes one."""
    return make_event(events.ISSUE_REPORTED, issue_payload(f"case-{title}", title=title),
                      "villages", f"case-{title}")


def outbox_row(envelope, event_type=events.ISSUE_REPORTED):
    return {"event_id": envelope["event_id"], "type": event_type, "body": json.dumps(envelope),
            "created_at": utcnow()}


def report(unit, title):
    unit.emit(events.ISSUE_REPORTED, issue(title)["payload"], correlation_id=title)


def titles_delivered(amqp_uri):
    """The titles of the issue reports waiting in the requests service's queue, taken out."""
    found = []
    with Connection(amqp_uri) as connection:
        queue = event_queue("requests").bind(connection.default_channel)
        while (message := queue.get()) is not None:
            found.append(json.loads(message.body)["payload"]["title"])
            message.ack()
    return found


def test_a_failed_mark_leaves_the_relay_running_and_the_sweep_marks_the_rows(store, amqp_uri,
                                                                           monkeypatch):
    real_mark, failures = store.mark_published, []

    def mark_once_failing(event_ids):
        if not failures:
            failures.append(event_ids)
            raise RuntimeError("database is locked")
        real_mark(event_ids)

    monkeypatch.setattr(store, "mark_published", mark_once_failing)
    with store.transaction() as unit:
        report(unit, "sumur kering")
    delivered = []

    def arrived(title):
        delivered.extend(titles_delivered(amqp_uri))
        return title in delivered

    eventually(lambda: arrived("sumur kering"))
    eventually(lambda: store.outbox_backlog() == 0)  # the sweep published it again and marked it
    assert failures

    with store.transaction() as unit:
        report(unit, "jembatan putus")
    eventually(lambda: arrived("jembatan putus"))
    assert delivered.count("jembatan putus") == 1


def test_rows_the_broker_refuses_do_not_hold_up_the_rows_behind_them(store, amqp_uri):
    # More than one batch of rows no queue is bound for (routed by their type), then one that
    # has its queue.
    nobody_listens = [outbox_row(issue(f"x{n}"), event_type="nobody_listens")
                      for n in range(db.BATCH + 50)]
    with store.sessions() as session, session.begin():
        session.execute(insert(store.outbox), nobody_listens)
    with store.sessions() as session, session.begin():
        session.execute(insert(store.outbox), outbox_row(issue("banjir")))

    eventually(lambda: titles_delivered(amqp_uri) == ["banjir"])
    assert store.outbox_backlog() == db.BATCH + 50  # refused, kept for when a queue exists


def test_an_idle_publisher_keeps_its_connection_and_publishes_at_once(amqp_uri, monkeypatch):
    monkeypatch.setattr(messaging, "HEARTBEAT_SECONDS", 2)
    publisher = EventPublisher(amqp_uri)
    try:
        publisher.declare()
        connection = publisher._connection.connection
        received = connection.bytes_recv
        # The broker's heartbeats are read while nothing is published (py-amqp counts frames):
        # more than two of them is longer than either side waits before it takes the other
        # for dead.
        eventually(lambda: connection.bytes_recv >= received + 3, timeout=20)

        body = json.dumps(issue("air keruh"))
        taken = publisher.publish_many([event_message(body, events.ISSUE_REPORTED, "e-idle")])
        assert taken == ["e-idle"]
        assert publisher._connection.connection is connection  # no reconnect was needed
    finally:
        publisher.close()
    assert titles_delivered(amqp_uri) == ["air keruh"]
