"""Each service's own database: engine, the transactional outbox and idempotent consumption.

A service writes its state change and the events that announce it in one transaction
(`Store.transaction`). Right after the commit they go to the store's relay (`OutboxRelay`), a
greenthread that publishes whatever has been committed meanwhile as one batch with publisher
confirms and marks the batch published in one statement; it also sweeps up, every few
seconds, whatever a crash or an absent broker left behind.
A consumer passes the event it handles: the `(consumer, event_id)` row is written in the same
transaction, so a redelivered event is recognised and does nothing.
"""
import json
import logging
import sqlite3
import time
from contextlib import contextmanager
from datetime import timedelta, timezone

import eventlet
from eventlet.queue import Empty, LightQueue
from nameko.extensions import DependencyProvider
from sqlalchemy import (
    Column, DateTime, Integer, MetaData, String, Table, Text, TypeDecorator, bindparam,
    create_engine, delete, event, func, insert, select, text, update,
)
from sqlalchemy.orm import sessionmaker

from shared import config, migrations
from shared.events import make_event, utcnow
from shared.messaging import DEAD_LETTER_QUEUE, EventPublisher, event_message

log = logging.getLogger(__name__)

SWEEP_INTERVAL_SECONDS = 2.0
SWEEP_GRACE = timedelta(seconds=5)  # rows younger than this are being published after commit
BATCH = 200                          # the most events the relay publishes in one batch
STOP_FLUSH_SECONDS = 5               # how long a stopping service may take to publish the rest
CLEANUP_EVERY_ROUNDS = 1800          # about once an hour
OUTBOX_RETENTION = timedelta(days=7)
# Longer than any redelivery can take: a mark older than this is never needed again.
PROCESSED_RETENTION = timedelta(days=30)


class UTCDateTime(TypeDecorator):
    """Stores UTC without zone (SQLite keeps none), hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Jembatan keeps times in aware UTC")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


def messaging_tables(metadata: MetaData):
    """The outbox and processed-events tables, added to a service's own metadata."""
    outbox = Table(
        "outbox", metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("type", String(64), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("published_at", UTCDateTime, nullable=True, index=True),
    )
    processed = Table(
        "processed_events", metadata,
        Column("consumer", String(64), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("processed_at", UTCDateTime, nullable=False),
    )
    return outbox, processed


def _switch_to_wal(cursor, attempts=100):
    """Put the SQLite file in WAL mode. Two processes opening a new file at once (replicas
    starting together) may find it locked at this step without SQLite waiting its busy
    timeout: try again shortly."""
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.1)


def make_engine(url):
    """The engine of one service's database: SQLite in WAL mode, or PostgreSQL via psycopg2.

    psycopg2 waits on the eventlet hub (eventlet.monkey_patch makes it green), so a query in
    flight does not stop the other workers. The pool holds a connection per worker, plus the
    outbox relay's; a statement that hangs is cut off, and a dead peer is noticed.
    """
    workers = config.max_workers()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, pool_size=workers + 2,
                               max_overflow=workers)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    return create_engine(
        url, pool_size=workers + 2, max_overflow=2, pool_pre_ping=True, pool_timeout=10,
        connect_args={
            "connect_timeout": 5,
            "options": "-c statement_timeout=15000 -c lock_timeout=5000 "
                       "-c idle_in_transaction_session_timeout=60000",
            "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
            "keepalives_count": 3, "application_name": "jembatan",
        })


class UnitOfWork:
    """One transaction of a service: its session, and the events it will announce."""

    def __init__(self, session, store):
        self.session = session
        self._store = store
        self.messages = []  # the events to publish once the transaction commits
        session.info["unit"] = self

    @staticmethod
    def of(session):
        """The unit of work a session of `Store.transaction` belongs to (to emit from code that
        was handed the session only)."""
        return session.info["unit"]

    def emit(self, event_type, payload, correlation_id):
        envelope = make_event(event_type, payload, self._store.service, correlation_id)
        body = json.dumps(envelope)
        self.session.execute(self._store.statements.add_to_outbox, {
            "event_id": envelope["event_id"], "type": event_type, "body": body,
            "created_at": utcnow()})
        self.messages.append(event_message(body, event_type, envelope["event_id"]))
        return envelope


class MessagingStatements:
    """The statements of the outbox and the processed-events marks, built once per store:
    every event runs them, and building a statement costs more than running it."""

    def __init__(self, store):
        outbox = store.outbox
        self.add_to_outbox = insert(outbox)
        # A row already there (handled before, or by a concurrent twin that committed first)
        # inserts nothing. (Written out: SQLAlchemy compiles its own ON CONFLICT anew each
        # time; SQLite and PostgreSQL both read this.)
        self.mark_processed = text(
            f"INSERT INTO {store.processed.name} (consumer, event_id, processed_at) "
            "VALUES (:consumer, :event_id, :processed_at) ON CONFLICT DO NOTHING",
        ).bindparams(bindparam("processed_at", type_=UTCDateTime))
        self.mark_published = (update(outbox)
                               .where(outbox.c.event_id.in_(bindparam("event_ids", expanding=True)))
                               .values(published_at=bindparam("at")))


class Duplicate(Exception):
    """The event was already handled by this consumer."""


class Store:
    """A service's database with its outbox relay; one per process and service."""

    def __init__(self, service, metadata, amqp_uri=None, url=None):
        self.service = service
        self.metadata = metadata
        self.outbox = metadata.tables.get("outbox")
        self.processed = metadata.tables.get("processed_events")
        self.engine = make_engine(url or config.database_url(service))
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.statements = MessagingStatements(self) if self.outbox is not None else None
        # A read sees one snapshot, though it takes several statements (a case, then its
        # tasks): PostgreSQL's default, read committed, would let a commit land between them.
        snapshot = (self.engine.execution_options(isolation_level="REPEATABLE READ")
                    if self.engine.dialect.name == "postgresql" else self.engine)
        self.snapshots = sessionmaker(snapshot, expire_on_commit=False)
        publishes = amqp_uri and self.outbox is not None
        self.publisher = EventPublisher(amqp_uri) if publishes else None
        self.relay = OutboxRelay(self) if publishes else None
        self._leases = {}

    def migrate(self):
        """Bring the schema up to date with this service's migrations."""
        migrations.upgrade(self.engine, self.service)

    @contextmanager
    def read(self):
        """A session for reading: every statement of it sees the same snapshot."""
        with self.snapshots() as session:
            if self.engine.dialect.name == "sqlite":
                # The driver starts no transaction for a SELECT, so each would see the
                # database as it is then: begin one, and its snapshot holds until the end.
                session.connection().exec_driver_sql("BEGIN")
            yield session

    @contextmanager
    def transaction(self, consumed_event=None):
        """Commit the block's writes and emitted events together.

        With `consumed_event`, raises `Duplicate` (before the block runs) when this service
        already handled that event.
        """
        with self.sessions() as session:
            with session.begin():
                if consumed_event is not None:
                    self._mark_processed(session, consumed_event)
                unit = UnitOfWork(session, self)
                yield unit
        if unit.messages and self.relay is not None:
            self.relay.submit(unit.messages)

    def handle_once(self, event, handler):
        """Run `handler(unit)` for an event in one transaction, unless it was handled already."""
        try:
            with self.transaction(consumed_event=event) as unit:
                handler(unit)
        except Duplicate:
            log.info("%s: %s %s was already handled", self.service, event.type, event.event_id)

    def _mark_processed(self, session, consumed_event):
        marked = session.execute(self.statements.mark_processed, {
            "consumer": self.service, "event_id": consumed_event.event_id,
            "processed_at": utcnow()}).rowcount
        if not marked:
            raise Duplicate(consumed_event.event_id)

    # -- the outbox --------------------------------------------------------------------------

    def mark_published(self, event_ids):
        if event_ids:
            with self.sessions() as session, session.begin():
                session.execute(self.statements.mark_published,
                                {"event_ids": list(event_ids), "at": utcnow()})

    def pending(self, older_than, limit, after_seq=0):
        """The oldest pending outbox rows created before `older_than` ago and after row
        `after_seq`: [(seq, message)]."""
        with self.sessions() as session:
            rows = session.execute(
                select(self.outbox.c.seq, self.outbox.c.event_id, self.outbox.c.type,
                       self.outbox.c.body)
                .where(self.outbox.c.published_at.is_(None), self.outbox.c.seq > after_seq,
                       self.outbox.c.created_at <= utcnow() - older_than)
                .order_by(self.outbox.c.seq).limit(limit)).all()
        return [(seq, event_message(body, event_type, event_id))
                for seq, event_id, event_type, body in rows]

    def forget_old_messages(self):
        """Drop published outbox rows and processed-event marks past their retention."""
        published_before = utcnow() - OUTBOX_RETENTION
        processed_before = utcnow() - PROCESSED_RETENTION
        with self.sessions() as session, session.begin():
            session.execute(delete(self.outbox).where(
                self.outbox.c.published_at < published_before))
            session.execute(delete(self.processed).where(
                self.processed.c.processed_at < processed_before))

    def start_relay(self):
        """Start publishing what is committed, and sweeping up what is left (OutboxRelay)."""
        if self.relay is not None:
            self.relay.start()

    def lease(self, name, seconds):
        """This process's lease `name` in this database (see shared/lease.py)."""
        from shared.lease import Lease

        if name not in self._leases:
            self._leases[name] = Lease(self, name, seconds)
        return self._leases[name]

    def health(self):
        """What a service's health RPC answers: its database, outbox backlog, dead letters."""
        report = {"status": "ok", "database": "ok", "outbox_backlog": None, "dead_letters": None}
        try:
            with self.sessions() as session:
                session.execute(select(1))
            report["outbox_backlog"] = self.outbox_backlog()
        except Exception as exc:  # whatever the database says, it is not healthy
            log.warning("%s: database check failed: %s", self.service, exc)
            report.update(status="degraded", database="unavailable")
        if self.publisher is not None:
            try:
                report["dead_letters"] = self.publisher.messages_waiting(DEAD_LETTER_QUEUE)
            except Exception as exc:  # the broker answered the RPC, but not this
                log.warning("%s: dead-letter count failed: %s", self.service, exc)
        return report

    def outbox_backlog(self):
        if self.outbox is None:
            return 0
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(self.outbox)
                                  .where(self.outbox.c.published_at.is_(None)))

    def close(self, flush=True):
        """Stop: publish what was committed (`flush`, within STOP_FLUSH_SECONDS), close."""
        if self.relay is not None:
            self.relay.stop(flush)
        if self.publisher is not None:
            self.publisher.close()
        self.engine.dispose()


class OutboxRelay:
    """The greenthread that publishes a store's outbox.

    `submit` hands it what a transaction just committed; it publishes everything handed to it
    meanwhile as one batch (EventPublisher.publish_many: one wait for all the confirms) and
    marks the batch published in one statement, so that a busy service pays one round trip
    and one write per batch, not per event, and no worker waits on the broker. Every
    SWEEP_INTERVAL_SECONDS it also publishes pending rows older than SWEEP_GRACE (what a
    crash, an absent broker or a failed write left behind), passing over rows the broker
    refuses. A row published twice (a crash or a failed write between the confirm and the
    mark) is recognised by its consumers.
    """

    def __init__(self, store):
        self.store = store
        self.publisher = store.publisher
        self.waiting = LightQueue()
        self._thread = None
        self._stopping = False
        self._refusals, self._next_refusal_log = 0, 0.0

    def submit(self, messages):
        for message in messages:
            self.waiting.put(message)

    def start(self):
        # What a stopped process left is published by the first sweep, with the grace that
        # leaves alone what a replica running beside this one is publishing right now.
        self.publisher.declare()
        self._thread = eventlet.spawn(self._run)

    def stop(self, flush=True):
        if self._thread is None:
            return
        self._stopping = True
        self.waiting.put(None)  # wakes the loop, which publishes what came before, then ends
        if flush:
            with eventlet.Timeout(STOP_FLUSH_SECONDS, False):
                self._thread.wait()
        self._thread.kill()
        self._thread = None

    def publish(self, messages):
        """Publish messages, mark those the broker took; how many it took, or None when the
        broker or the database failed. What is not marked stays pending for the sweep;
        nothing here raises."""
        try:
            taken = self.publisher.publish_many(messages)
        except Exception as exc:  # the broker is away: the rows wait for the sweep
            log.warning("%s: publishing %d events failed, the sweep will retry: %s",
                        self.store.service, len(messages), exc)
            return None
        if len(taken) < len(messages):
            self._refused(len(messages) - len(taken))
        try:
            self.store.mark_published(taken)
        except Exception:  # the database is away: published again by the sweep, and recognised
            log.exception("%s: marking %d events published failed", self.store.service,
                          len(taken))
            return None
        return len(taken)

    def _refused(self, count):
        """Say that the broker refused events, at most once a minute (the sweep retries them
        every round until their queue exists)."""
        self._refusals += count
        if time.monotonic() >= self._next_refusal_log:
            log.error("%s: the broker refused %d events since the last report (no queue for "
                      "them?); they stay in the outbox and are retried", self.store.service,
                      self._refusals)
            self._refusals, self._next_refusal_log = 0, time.monotonic() + 60

    def publish_pending(self, older_than=timedelta(0)):
        """Publish the pending outbox rows created before `older_than` ago, oldest first;
        how many were published. Rows the broker refuses are passed over, not waited on."""
        sent, after_seq = 0, 0
        while True:
            rows = self.store.pending(older_than, BATCH, after_seq)
            if not rows:
                return sent
            messages = [message for _, message in rows]
            taken = self.publish(messages)
            if taken is None:
                return sent  # the broker or the database is away: next round
            sent += taken
            after_seq = rows[-1][0]
            if len(rows) < BATCH:
                return sent

    def _next_batch(self, timeout):
        """What was submitted, up to BATCH messages, waiting up to `timeout` for the first."""
        try:
            batch = [self.waiting.get(timeout=timeout)]
        except Empty:
            return []
        while len(batch) < BATCH:
            try:
                batch.append(self.waiting.get_nowait())
            except Empty:
                break
        return batch

    def _run(self):
        next_sweep, rounds = time.monotonic() + SWEEP_INTERVAL_SECONDS, 0
        while True:
            batch = self._next_batch(max(0.0, next_sweep - time.monotonic()))
            messages = [m for m in batch if m is not None]
            if messages:
                self.publish(messages)
            if self._stopping and None in batch:
                return
            if time.monotonic() >= next_sweep:
                next_sweep, rounds = time.monotonic() + SWEEP_INTERVAL_SECONDS, rounds + 1
                try:
                    self.publish_pending(older_than=SWEEP_GRACE)
                    if rounds % CLEANUP_EVERY_ROUNDS == 0:
                        self.store.forget_old_messages()
                except Exception:  # the database is away: the next round tries again
                    log.exception("%s: outbox sweep failed", self.store.service)


class Database(DependencyProvider):
    """Gives a nameko service its `Store`: schema migrated, `prepare(store)` run, relay started."""

    def __init__(self, metadata, prepare=None):
        self.metadata = metadata
        self.prepare = prepare
        self.store = None

    def setup(self):
        self.store = Store(self.container.service_name, self.metadata,
                           amqp_uri=self.container.config["AMQP_URI"])
        self.store.migrate()
        if self.prepare is not None:
            self.prepare(self.store)

    def start(self):
        self.store.start_relay()

    def stop(self):
        self.store.close()

    def kill(self):
        self.store.close(flush=False)

    def get_dependency(self, worker_ctx):
        return self.store

