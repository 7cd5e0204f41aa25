"""The requests service without a broker: its store on SQLite, the events it consumes built as
the consumer hands them over, and the outbox it writes, read back.

Without `amqp_uri` the store has no publisher: what a handler or a command announces stays in
the outbox, where the tests read it.
"""
import json
from datetime import timedelta

from sqlalchemy import select

from services.requests import handlers
from services.requests.models import Base, Case
from services.requests.service import RequestsService
from shared import events
from shared.db import Store
from shared.events import iso, utcnow

BATU = {"code": "35.79", "name": "Kota Batu"}
BUMIAJI = {"code": "35.79.02", "name": "Bumiaji"}
BATU_DISTRICT = {"code": "35.79.01", "name": "Batu"}
PUNTEN = {"code": "35.79.02.2001", "name": "Punten"}
BULUKERTO = {"code": "35.79.02.2002", "name": "Bulukerto"}
SUMBEREJO = {"code": "35.79.01.2005", "name": "Sumberejo"}
DISTRICTS = {BUMIAJI["code"]: BUMIAJI, BATU_DISTRICT["code"]: BATU_DISTRICT}
AGENCY_NAMES = {"pdam-batu": "PDAM", "pupr-batu": "Dinas PUPR", "bpbd-batu": "BPBD"}


def person(role, scope, name, user_id):
    return {"id": user_id, "role": role, "scope": scope, "name": name, "regency": BATU["code"]}


VILLAGE = person("village", PUNTEN["code"], "Sekdes Punten", "u-punten")
OTHER_VILLAGE = person("village", BULUKERTO["code"], "Sekdes Bulukerto", "u-bulukerto")
COORDINATOR = person("coordinator", BUMIAJI["code"], "Kasi Bumiaji", "u-bumiaji")
OTHER_COORDINATOR = person("coordinator", BATU_DISTRICT["code"], "Kasi Batu", "u-batu")
REGENCY = person("regency", BATU["code"], "Kantor Walikota Batu", "u-pemkot")
ADMIN = person("admin", None, "Admin", "u-admin")
PDAM = person("agency", "pdam-batu", "Petugas PDAM", "o-pdam")
PUPR = person("agency", "pupr-batu", "Petugas PUPR", "o-pupr")
BPBD = person("agency", "bpbd-batu", "Petugas BPBD", "o-bpbd")
EXPLANATION = {"id": "Aturan air bersih Bumiaji", "en": "Bumiaji clean water rule"}


def new_store(tmp_path):
    store = Store("requests", Base.metadata, url=f"sqlite:///{tmp_path / 'requests.db'}")
    store.migrate()
    return store


def service_on(store):
    """The nameko service class run by hand, its database the test's store: its RPC methods
    answer exactly what the gateway gets."""
    service = RequestsService()
    service.db = store
    return service


def loaded(event_type, payload):
    """The payload as the consumer hands it to the handler (validated, times parsed)."""
    return events.PAYLOAD_SCHEMAS[event_type].load(payload)


def issue(case_id, village=PUNTEN, category="air-bersih", severity="high", days_ago=0,
          title="Air tidak mengalir"):
    """An issue_reported payload, as the consumer hands it to the handler."""
    return loaded(events.ISSUE_REPORTED, issue_payload(case_id, village, category, severity,
                                                       days_ago, title))


def issue_payload(case_id, village=PUNTEN, category="air-bersih", severity="high", days_ago=0,
                  title="Air tidak mengalir"):
    """An issue_reported payload, as villages publishes it."""
    district = DISTRICTS[village["code"][:8]]
    return {
        "case_id": case_id, "tracking_number": f"JBT-{case_id[-4:].upper()}",
        "category": category, "title": title, "description": "Sejak tiga hari.",
        "severity": severity, "affected_people": 120, "location": {"lat": -7.8, "lon": 112.5},
        "village": village, "district": district, "regency": BATU,
        "reporter": {"id": "u-reporter", "role": "village", "name": "Sekdes",
                     "scope": village["code"]},
        "reported_at": iso(utcnow() - timedelta(days=days_ago)),
    }


def planned(agency_id, role="lead", accept_in=timedelta(days=1), due_in=timedelta(days=5),
            accept_within=None, resolve_within=None):
    """One task of a routing plan, its deadlines this far from now."""
    now = utcnow()
    return {"agency_id": agency_id, "agency_name": AGENCY_NAMES[agency_id], "role": role,
            "accept_due_at": iso(now + accept_in), "due_at": iso(now + due_in),
            "accept_within": accept_within, "resolve_within": resolve_within}


def decision(case_id, outcome=events.OUTCOME_ROUTED, tasks=(), rule_id="bumiaji-air"):
    """A routing_decided payload, as routing publishes it."""
    return loaded(events.ROUTING_DECIDED, {
        "case_id": case_id, "outcome": outcome,
        "rule_id": None if outcome == events.OUTCOME_NEEDS_TRIAGE else rule_id,
        "explanation": EXPLANATION, "tasks": list(tasks)})


def handle(store, event_type, payload):
    """Run the handler of an event in one transaction, as the consumer does."""
    with store.transaction() as unit:
        handlers.EVENT_HANDLERS[event_type](unit, payload)


def outbox(store):
    """[(event type, payload)] of every event written, oldest first; each one a valid event."""
    with store.read() as session:
        rows = session.execute(select(store.outbox.c.type, store.outbox.c.body)
                               .order_by(store.outbox.c.seq)).all()
    written = []
    for event_type, body in rows:
        envelope = json.loads(body)
        assert events.parse_event(envelope).type == event_type  # a consumer would take it
        written.append((event_type, envelope["payload"]))
    return written


def announced(store, action):
    """(the event types `action()` wrote to the outbox, what it returned)."""
    before = len(outbox(store))
    result = action()
    return [event_type for event_type, _payload in outbox(store)[before:]], result


def case_row(store, case_id):
    with store.read() as session:
        return session.scalar(select(Case).where(Case.id == case_id))


def task_id(store, case_id, agency_id):
    """The working task of an agency on a case."""
    return next(task.id for task in case_row(store, case_id).tasks
                if task.agency_id == agency_id and task.status not in ("declined", "withdrawn"))
