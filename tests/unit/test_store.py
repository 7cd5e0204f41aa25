"""A service's database: state and events commit together, a repeated event does nothing."""
from datetime import timedelta

import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, select

from shared import events
from shared.db import Duplicate, Store, messaging_tables
from shared.events import Event, utcnow

metadata = MetaData()
notes = Table("notes", metadata, Column("id", String(36), primary_key=True))
messaging_tables(metadata)


@pytest.fixture
def store(tmp_path):
    store = Store("routing", metadata, url=f"sqlite:///{tmp_path / 'routing.db'}")
    metadata.create_all(store.engine)
    yield store
    store.close()


def an_event(event_id="e-1"):
    return Event(event_id=event_id, type=events.CASE_OPENED, version=1, occurred_at=utcnow(),
                 producer="requests", correlation_id="case-1", payload={})


def decision(case_id="case-1"):
    return {"case_id": case_id, "outcome": "needs_triage", "rule_id": None,
            "explanation": {"id": "Tidak ada aturan", "en": "No rule"}, "tasks": []}


def rows(store, table):
    with store.read() as session:
        return session.execute(select(table)).all()


def test_a_change_and_its_event_are_written_together(store):
    with store.transaction() as unit:
        unit.session.execute(insert(notes).values(id="n-1"))
        unit.emit(events.ROUTING_DECIDED, decision(), correlation_id="case-1")
    assert len(rows(store, notes)) == 1
    assert [row.type for row in rows(store, store.outbox)] == ["routing_decided"]
    assert store.outbox_backlog() == 1  # no broker here: it waits for the relay


def test_a_failed_transaction_leaves_neither_the_change_nor_its_event(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as unit:
            unit.session.execute(insert(notes).values(id="n-1"))
            unit.emit(events.ROUTING_DECIDED, decision(), correlation_id="case-1")
            raise RuntimeError("crash before commit")
    assert rows(store, notes) == [] and rows(store, store.outbox) == []


def test_an_event_handled_twice_changes_nothing_the_second_time(store):
    with store.transaction(consumed_event=an_event()) as unit:
        unit.session.execute(insert(notes).values(id="n-1"))
    with pytest.raises(Duplicate):
        with store.transaction(consumed_event=an_event()) as unit:
            unit.session.execute(insert(notes).values(id="n-2"))
    assert [row.id for row in rows(store, notes)] == ["n-1"]
    with store.transaction(consumed_event=an_event("e-2")) as unit:
        unit.session.execute(insert(notes).values(id="n-3"))
    assert len(rows(store, notes)) == 2


def test_a_handler_that_fails_can_handle_the_same_event_again(store):
    with pytest.raises(RuntimeError):
        with store.transaction(consumed_event=an_event()):
            raise RuntimeError("database hiccup")
    with store.transaction(consumed_event=an_event()) as unit:
        unit.session.execute(insert(notes).values(id="n-1"))
    assert len(rows(store, notes)) == 1


def test_an_invalid_event_is_refused_before_it_is_stored(store):
    with pytest.raises(ValueError, match="invalid routing_decided"):
        with store.transaction() as unit:
            unit.emit(events.ROUTING_DECIDED, {"case_id": "case-1"}, correlation_id="case-1")
    assert rows(store, store.outbox) == []


def test_old_published_events_and_processed_marks_are_forgotten(store):
    long_ago = utcnow() - timedelta(days=60)
    with store.transaction(consumed_event=an_event("old")) as unit:
        unit.emit(events.ROUTING_DECIDED, decision("old"), correlation_id="old")
        unit.emit(events.ROUTING_DECIDED, decision("pending"), correlation_id="pending")
    with store.transaction(consumed_event=an_event("recent")) as unit:
        unit.emit(events.ROUTING_DECIDED, decision("recent"), correlation_id="recent")
    with store.sessions() as session, session.begin():
        session.execute(store.outbox.update().where(store.outbox.c.seq.in_([1, 3]))
                        .values(published_at=long_ago))
        session.execute(store.outbox.update().where(store.outbox.c.seq == 3)
                        .values(published_at=utcnow()))
        session.execute(store.processed.update().where(store.processed.c.event_id == "old")
                        .values(processed_at=long_ago))
    store.forget_old_messages()
    assert [row.seq for row in rows(store, store.outbox)] == [2, 3]
    assert [row.event_id for row in rows(store, store.processed)] == ["recent"]
