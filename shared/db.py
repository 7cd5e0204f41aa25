"""Each service's own database: engine, the transactional outbox and idempotent consumption.

A service writes its state change and the events that announce it in one transaction
(`Store.transaction`). Right after the commit they are published with confirms and marked
sent; a periodic sweep publishes whatever a crash or an absent broker left behind.
A consumer passes the event it handles: the `(consumer, event_id)` row is written in the same
transaction, so a redelivered event is recognised and does nothing.
"""
import json
import logging
from contextlib import contextmanager
from datetime import timedelta, timezone

import eventlet
from nameko.extensions import DependencyProvider
from sqlalchemy import (
    Column, DateTime, Integer, MetaData, String, Table, Text, TypeDecorator, create_engine,
    delete, event, insert, select, update,
)
from sqlalchemy.orm import sessionmaker

from shared import config, migrations
from shared.events import make_event, utcnow
from shared.messaging import DEAD_LETTER_QUEUE, EventPublisher

log = logging.getLogger(__name__)

SWEEP_INTERVAL_SECONDS = 2.0
SWEEP_GRACE = timedelta(seconds=5)  # rows younger than this are being published after commit
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
            cursor.execute("PRAGMA journal_mode=WAL")
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
        self.envelopes = []
        session.info["unit"] = self

    @staticmethod
    def of(session):
        """The unit of work a session of `Store.transaction` belongs to (to emit from code that
        was handed the session only)."""
        return session.info["unit"]

    def emit(self, event_type, payload, correlation_id):
        envelope = make_event(event_type, payload, self._store.service, correlation_id)
        self.session.execute(insert(self._store.outbox).values(
            event_id=envelope["event_id"], type=event_type, body=json.dumps(envelope),
            created_at=utcnow(),
        ))
        self.envelopes.append(envelope)
        return envelope


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
        # A read sees one snapshot, though it takes several statements (a case, then its
        # tasks): PostgreSQL's default, read committed, would let a commit land between them.
        snapshot = (self.engine.execution_options(isolation_level="REPEATABLE READ")
                    if self.engine.dialect.name == "postgresql" else self.engine)
        self.snapshots = sessionmaker(snapshot, expire_on_commit=False)
        publishes = amqp_uri and self.outbox is not None
        self.publisher = EventPublisher(amqp_uri) if publishes else None
        self._relay_lock = eventlet.semaphore.Semaphore()
        self._leases = {}
        self._sweeper = None

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
        if unit.envelopes:
            self.publish_committed(unit.envelopes)

    def handle_once(self, event, handler):
        """Run `handler(unit)` for an event in one transaction, unless it was handled already."""
        try:
            with self.transaction(consumed_event=event) as unit:
                handler(unit)
        except Duplicate:
            log.info("%s: %s %s was already handled", self.service, event.type, event.event_id)

    def _mark_processed(self, session, consumed_event):
        seen = session.execute(select(self.processed.c.event_id).where(
            self.processed.c.consumer == self.service,
            self.processed.c.event_id == consumed_event.event_id)).first()
        if seen:
            raise Duplicate(consumed_event.event_id)
        # A concurrent twin that commits first makes this insert fail: the handler is retried
        # and then finds the row.
        session.execute(insert(self.processed).values(
            consumer=self.service, event_id=consumed_event.event_id, processed_at=utcnow()))

    # -- the outbox relay -------------------------------------------------------------------

    def publish_committed(self, envelopes):
        """Publish what a transaction just committed, at once; the sweep retries a failure."""
        if self.publisher is None:
            return
        published = []
        try:
            for envelope in envelopes:
                self.publisher.publish(envelope)
                published.append(envelope["event_id"])
        except Exception as exc:  # the broker is away: the rows wait for the sweep
            log.warning("%s: publishing after commit failed, the sweep will retry: %s",
                        self.service, exc)
        self._mark_published(published)

    def _mark_published(self, event_ids):
        if event_ids:
            with self.sessions() as session, session.begin():
                session.execute(update(self.outbox).where(self.outbox.c.event_id.in_(event_ids))
                                .values(published_at=utcnow()))

    def relay(self, older_than=timedelta(0)):
        """Publish the pending outbox rows created before `older_than` ago, oldest first.

        The sweep passes a grace period, so that it leaves alone what `publish_committed` is
        publishing right now. Returns how many were sent.
        """
        sent = 0
        with self._relay_lock:
            while True:
                with self.sessions() as session:
                    rows = session.execute(
                        select(self.outbox.c.event_id, self.outbox.c.body)
                        .where(self.outbox.c.published_at.is_(None),
                               self.outbox.c.created_at <= utcnow() - older_than)
                        .order_by(self.outbox.c.seq).limit(100)).all()
                published = []
                try:
                    for event_id, body in rows:
                        self.publisher.publish(json.loads(body))
                        published.append(event_id)
                finally:
                    self._mark_published(published)
                sent += len(published)
                if len(rows) < 100:
                    return sent

    def forget_old_messages(self):
        """Drop published outbox rows and processed-event marks past their retention."""
        published_before = utcnow() - OUTBOX_RETENTION
        processed_before = utcnow() - PROCESSED_RETENTION
        with self.sessions() as session, session.begin():
            session.execute(delete(self.outbox).where(
                self.outbox.c.published_at < published_before))
            session.execute(delete(self.processed).where(
                self.processed.c.processed_at < processed_before))

    def start_sweeper(self):
        def sweep():
            rounds = 0
            while True:
                eventlet.sleep(SWEEP_INTERVAL_SECONDS)
                rounds += 1
                try:
                    self.relay(older_than=SWEEP_GRACE)
                    if rounds % CLEANUP_EVERY_ROUNDS == 0:
                        self.forget_old_messages()
                except Exception:
                    log.exception("%s: outbox sweep failed", self.service)

        if self.publisher is not None:
            self.publisher.declare()
            self.relay()
            self._sweeper = eventlet.spawn(sweep)

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
            return len(session.execute(
                select(self.outbox.c.seq).where(self.outbox.c.published_at.is_(None))).all())

    def close(self):
        if self._sweeper is not None:
            self._sweeper.kill()
        if self.publisher is not None:
            self.publisher.close()
        self.engine.dispose()


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
        self.store.start_sweeper()

    def stop(self):
        self.store.close()

    def kill(self):
        self.store.close()

    def get_dependency(self, worker_ctx):
        return self.store

