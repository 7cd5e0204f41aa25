"""What the requests service does when an event arrives: one handler per trigger, and `record`,
which writes every fact to the timeline and announces it.

Each handler takes a unit of work (shared.db.UnitOfWork: one transaction, and the events it
will announce) and the event's payload, so it runs the same under nameko or in a test against
a database of its own.
"""
import logging
import uuid

from sqlalchemy import bindparam, insert, select

from services.requests import board, domain, facts, queries, views
from services.requests.models import Case, Photo, Task, TimelineEntry
from shared import events
from shared.errors import Conflict
from shared.events import utcnow

log = logging.getLogger(__name__)

CASE_EXISTS = select(Case.id).where(Case.id == bindparam("id"))
ROUTING = {"id": "routing", "role": "system", "name": "Jembatan", "scope": None}  # the rules


def when_an_issue_is_reported_open_the_case(unit, report):
    """A village reported an issue: open its case (status reported) and announce it
    (case_opened); flag it when it is likely the same as an open case of the village.

    Nothing happens when the case exists already.
    """
    session = unit.session
    if session.scalar(CASE_EXISTS, {"id": report["case_id"]}) is not None:
        return
    now = utcnow()
    location = report["location"] or {}
    # Every report opens a case: its row is written by one statement, without the ORM's unit
    # of work; `case` is what the views and the facts read of it.
    row = dict(
        id=report["case_id"], tracking_number=report["tracking_number"],
        status=domain.REPORTED, category=report["category"], title=report["title"],
        description=report["description"], severity=report["severity"],
        affected_people=report["affected_people"],
        lat=location.get("lat"), lon=location.get("lon"),
        village_code=report["village"]["code"], village_name=report["village"]["name"],
        district_code=report["district"]["code"], district_name=report["district"]["name"],
        regency_code=report["regency"]["code"], regency_name=report["regency"]["name"],
        reporter_id=report["reporter"]["id"], reporter_name=report["reporter"]["name"],
        created_at=report["reported_at"], updated_at=now, escalation_level=0, version=1,
        confidential=report["confidential"],
    )
    case = Case(**row, tasks=[])
    original = queries.likely_original(session, case)
    duplicate = domain.flag_likely_duplicate(case, original) if original is not None else []
    session.execute(insert(Case.__table__), {**row, "likely_duplicate_of":
                                             case.likely_duplicate_of})
    reporter = report["reporter"]
    record(unit, case, [domain.Fact(facts.REPORTED, reporter, {
        "village": case.village_name, "title": case.title, "category": case.category})])
    unit.emit(events.CASE_OPENED, {"case": views.case_ref(case),
                                   "actor": views.actor_ref(reporter)}, correlation_id=case.id)
    if report["photos"]:
        case = queries.case_by_id(session, case.id)
        for photo in report["photos"]:
            keep_photo(unit, case, reporter, photo, case.updated_at)
    record(unit, case, duplicate)
    # last: on PostgreSQL the rows of the counts are taken until the commit
    board.count(session.connection(), board.counted(case))


def keep_photo(unit, case, actor, photo, now):
    """Record a photo on the case (events.PhotoRef) and say so on its timeline."""
    changes = domain.add_photo(case, actor, now, photo["id"])
    case.photos.append(Photo(**photo, case_id=case.id, added_at=now, actor_id=actor["id"],
                             actor_role=actor["role"], actor_name=actor["name"]))
    record(unit, case, changes)


def when_routing_decided_apply_it(unit, decision):
    """Routing decided for a case: give it the agencies of the rule (routed), or send it to
    the coordinator's triage (needs_triage), or, after a decline, give it the next agency the
    rule names (referred; an agency already supporting it becomes the lead).

    A new case's routing applies only while the case is still reported; a referral the case
    can no longer take (closed meanwhile, or that agency already works on it) is dropped.
    """
    case = queries.case_by_id(unit.session, decision["case_id"])
    if case is None:
        raise LookupError(f"routing decided for unknown case {decision['case_id']}")
    now = utcnow()
    if decision["outcome"] == events.OUTCOME_REFERRED:
        if not domain.referral_still_needed(case, decision["tasks"]):
            log.info("requests: referral of case %s dropped, it has a lead again", case.id)
            return
        try:
            changes = domain.route(case, decision["tasks"], ROUTING, now, task_factory(case),
                                   rule_id=decision["rule_id"],
                                   explanation=decision["explanation"])
        except Conflict as exc:
            log.warning("requests: referral of case %s not applied: %s", case.id, exc.message)
            return
        record(unit, case, changes)
        return
    if case.status != domain.REPORTED:
        log.warning("requests: routing of case %s ignored, it is already %s", case.id,
                    case.status)
        return
    if decision["outcome"] == events.OUTCOME_ROUTED:
        changes = domain.route(case, decision["tasks"], ROUTING, now, task_factory(case),
                               rule_id=decision["rule_id"], explanation=decision["explanation"])
    else:
        changes = domain.needs_triage(case, decision["explanation"], now)
    record(unit, case, changes)


EVENT_HANDLERS = {  # event type -> its handler (the events shared.messaging subscribes to)
    events.ISSUE_REPORTED: when_an_issue_is_reported_open_the_case,
    events.ROUTING_DECIDED: when_routing_decided_apply_it,
}


def task_factory(case):
    """The `new_task(**fields)` domain.route uses to give the case a task."""
    def new_task(**fields):
        return Task(id=str(uuid.uuid4()), case_id=case.id, **fields)
    return new_task


def timeline_entry(case, fact):
    """The row of the case's timeline that records a fact."""
    data = dict(fact.data)
    if fact.task is not None:
        data.update(task_id=fact.task.id, agency_id=fact.task.agency_id,
                    agency=fact.task.agency_name)
    if fact.type == facts.ROUTED:
        names = {t.agency_id: t.agency_name for t in case.tasks}
        data["agency_names"] = [names[a] for a in data.get("agencies", [])]
    return {"case_id": case.id, "at": case.updated_at, "type": fact.type,
            "actor_id": fact.actor.get("id", "system"), "actor_role": fact.actor["role"],
            "actor_name": fact.actor["name"], "data": data}


def record(unit, case, changes):
    """Write each fact to the case's timeline and announce it with its event
    (facts.FACT_EVENTS), in the unit's transaction."""
    unit.session.flush()
    entries = [timeline_entry(case, fact) for fact in changes]
    for fact, entry in zip(changes, entries):
        event_type = facts.FACT_EVENTS.get(fact.type)
        if event_type is not None:
            unit.emit(event_type, views.fact_event(case, fact, entry["data"]),
                      correlation_id=case.id)
    if entries:
        unit.session.execute(insert(TimelineEntry.__table__), entries)
