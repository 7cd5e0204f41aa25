"""The requests service: cases, the tasks of each agency, and the timeline of every change."""
import logging
import uuid
from datetime import timedelta

from marshmallow import ValidationError
from nameko.timer import timer
from sqlalchemy import case as sql_case
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm.exc import StaleDataError

from services.requests import domain, ladder, texts
from services.requests.models import Base, Case, Task, TimelineEntry
from shared import commands, config, events, workdays
from shared.db import Database
from shared.errors import DOMAIN_ERRORS, Conflict, NotFound, ValidationFailed
from shared.events import iso, utcnow
from shared.i18n import text
from shared.messaging import consume_events, rpc

log = logging.getLogger(__name__)

FACT_EVENTS = {
    "routed": events.CASE_ROUTED,
    "needs_triage": events.CASE_NEEDS_TRIAGE,
    "task_accepted": events.TASK_ACCEPTED,
    "task_declined": events.TASK_DECLINED,
    "task_progressed": events.TASK_PROGRESSED,
    "task_completed": events.TASK_COMPLETED,
    "resolved": events.CASE_RESOLVED,
    "closed": events.CASE_CLOSED,
    "reopened": events.CASE_REOPENED,
    "comment": events.COMMENT_ADDED,
    "deadline_missed": events.DEADLINE_MISSED,
    "escalated": events.CASE_ESCALATED,
    "closing_soon": events.CASE_CLOSING_SOON,
    "closed_unanswered": events.CASE_CLOSED,
    "cancelled": events.CASE_CANCELLED,
    "task_withdrawn": events.TASK_WITHDRAWN,
    "lead_changed": events.LEAD_CHANGED,
    "likely_duplicate": events.LIKELY_DUPLICATE,
    "merged_into": events.CASE_MERGED,
    "merged_from": events.DUPLICATE_MERGED,
}
SUPERVISOR_TASK_ACTIONS = {"withdraw": domain.withdraw_task, "lead": domain.make_lead}
TASK_ACTIONS = {
    "accept": (domain.accept_task, commands.NoteInput, "note"),
    "decline": (domain.decline_task, commands.ReasonInput, "reason"),
    "progress": (domain.report_progress, commands.RequiredNoteInput, "note"),
    "complete": (domain.complete_task, commands.RequiredNoteInput, "note"),
}
COMMAND_ATTEMPTS = 3
MAX_PER_PAGE = 100


# -- views -----------------------------------------------------------------------------------

def ref(code, name):
    return {"code": code, "name": name}


def task_view(task):
    return {
        "id": task.id, "agency": {"id": task.agency_id, "name": task.agency_name},
        "role": task.role, "status": task.status, "accept_due_at": iso(task.accept_due_at),
        "due_at": iso(task.due_at), "accepted_at": iso(task.accepted_at),
        "completed_at": iso(task.completed_at), "declined_at": iso(task.declined_at),
        "note": task.last_note,
    }


def case_summary(case, now, lang):
    return {
        "id": case.id, "tracking_number": case.tracking_number, "status": case.status,
        "status_label": domain.status_name(case.status, lang),
        "category": case.category, "title": case.title, "severity": case.severity,
        "affected_people": case.affected_people,
        "village": ref(case.village_code, case.village_name),
        "district": ref(case.district_code, case.district_name),
        "regency": ref(case.regency_code, case.regency_name),
        "agencies": [{"id": t.agency_id, "name": t.agency_name, "role": t.role, "status": t.status}
                     for t in case.tasks],
        "created_at": iso(case.created_at), "updated_at": iso(case.updated_at),
        "overdue": ladder.is_overdue(case, now),
        "escalation_level": ladder.LEVEL_NAMES[case.escalation_level],
    }


def case_view(case, now, lang):
    explanation = case.explanation
    return {
        **case_summary(case, now, lang),
        "description": case.description,
        "location": {"lat": case.lat, "lon": case.lon} if case.lat is not None else None,
        "reporter": {"name": case.reporter_name},
        "tasks": [task_view(task) for task in case.tasks],
        "routing": {"rule_id": case.rule_id,
                    "explanation": explanation[lang] if explanation else None},
        "likely_duplicate_of": case.likely_duplicate_of, "merged_into": case.merged_into,
    }


def case_ref(case):
    """The case as every case event carries it (shared.events.CaseRef)."""
    return {
        "id": case.id, "tracking_number": case.tracking_number, "title": case.title,
        "category": case.category, "severity": case.severity,
        "affected_people": case.affected_people, "status": case.status,
        "version": case.version or 1, "escalation_level": case.escalation_level,
        "village": ref(case.village_code, case.village_name),
        "district": ref(case.district_code, case.district_name),
        "regency": ref(case.regency_code, case.regency_name),
        "tasks": [task_ref(task) for task in case.tasks],
    }


def task_ref(task):
    return {"id": task.id, "agency_id": task.agency_id, "agency_name": task.agency_name,
            "role": task.role, "status": task.status, "accept_due_at": iso(task.accept_due_at),
            "due_at": iso(task.due_at)}


def actor_ref(actor):
    return {"id": actor["id"], "role": actor["role"], "name": actor["name"],
            "scope": actor.get("scope")}


def visible_to(actor):
    """The SQL condition that keeps a query inside the caller's jurisdiction."""
    role, scope = actor.get("role"), actor.get("scope")
    if role == "admin":
        return True
    if role == "village":
        return Case.village_code == scope
    if role == "coordinator":
        return Case.district_code == scope
    if role == "regency":
        return Case.regency_code == scope
    if role == "agency":
        return exists().where(Task.case_id == Case.id, Task.agency_id == scope)
    return False


def next_deadline():
    """The earliest deadline a case's agencies are working against (to accept or complete)."""
    return (select(func.min(sql_case((Task.status == domain.PENDING, Task.accept_due_at),
                                     else_=Task.due_at)))
            .where(Task.case_id == Case.id, Task.status.in_(domain.ACTIVE_TASK_STATUSES))
            .scalar_subquery())


SORTS = {  # GET /cases?sort=…
    "newest": lambda: (Case.created_at.desc(),),
    "oldest": lambda: (Case.created_at.asc(),),
    "updated": lambda: (Case.updated_at.desc(),),
    "escalation": lambda: (Case.escalation_level.desc(), Case.created_at.asc()),
    "deadline": lambda: nulls_last(next_deadline()),
}


def nulls_last(expression):
    """Ascending, cases with nothing due last (SQLite and PostgreSQL disagree by default)."""
    return (expression.is_(None), expression.asc())


def overdue_condition(now):
    """A task of the case missed its current deadline (to accept, or to complete)."""
    return exists().where(Task.case_id == Case.id, or_(
        (Task.status == domain.PENDING) & (Task.accept_due_at < now),
        (Task.status == domain.ACCEPTED) & (Task.due_at < now)))


class RequestsService:
    name = "requests"
    db = Database(Base.metadata)

    # -- events ------------------------------------------------------------------------------

    @consume_events("requests")
    def on_event(self, event):
        handlers = {events.ISSUE_REPORTED: self._open_case,
                    events.ROUTING_DECIDED: self._apply_routing}
        self.db.handle_once(event, lambda unit: handlers[event.type](unit, event.payload))

    def _open_case(self, unit, report):
        if unit.session.get(Case, report["case_id"]) is not None:
            return
        now = utcnow()
        location = report["location"] or {}
        case = Case(
            id=report["case_id"], tracking_number=report["tracking_number"],
            status=domain.REPORTED, category=report["category"], title=report["title"],
            description=report["description"], severity=report["severity"],
            affected_people=report["affected_people"],
            lat=location.get("lat"), lon=location.get("lon"),
            village_code=report["village"]["code"], village_name=report["village"]["name"],
            district_code=report["district"]["code"], district_name=report["district"]["name"],
            regency_code=report["regency"]["code"], regency_name=report["regency"]["name"],
            reporter_id=report["reporter"]["id"], reporter_name=report["reporter"]["name"],
            created_at=report["reported_at"], updated_at=now, tasks=[],
        )
        unit.session.add(case)
        unit.session.flush()
        reporter = report["reporter"]
        self._record(unit, case, [domain.Fact("reported", reporter, {
            "village": case.village_name, "title": case.title, "category": case.category})])
        unit.emit(events.CASE_OPENED, {"case": case_ref(case), "actor": actor_ref(reporter)},
                  correlation_id=case.id)
        other = unit.session.scalar(
            select(Case).where(Case.village_code == case.village_code,
                               Case.category == case.category, Case.id != case.id,
                               Case.status.not_in(domain.FINAL_STATUSES))
            .order_by(Case.created_at.desc()).limit(1))
        if other is not None:
            self._record(unit, case, domain.flag_likely_duplicate(case, other))

    def _apply_routing(self, unit, decision):
        case = unit.session.get(Case, decision["case_id"])
        if case is None:
            raise LookupError(f"routing decided for unknown case {decision['case_id']}")
        now = utcnow()
        actor = {"id": "routing", "role": "system", "name": "Jembatan", "scope": None}
        if decision["outcome"] == "referred":  # an agency declined: the next one the rule names
            try:
                facts = domain.route(case, decision["tasks"], actor, now,
                                     self._task_factory(case), rule_id=decision["rule_id"],
                                     explanation=decision["explanation"])
            except Conflict as exc:  # closed meanwhile, or that agency already works on it
                log.warning("requests: referral of case %s not applied: %s", case.id, exc.message)
                return
            self._record(unit, case, facts)
            return
        if case.status != domain.REPORTED:
            log.warning("requests: routing of case %s ignored, it is already %s", case.id,
                        case.status)
            return
        if decision["outcome"] == "routed":
            facts = domain.route(case, decision["tasks"], actor, now, self._task_factory(case),
                                 rule_id=decision["rule_id"], explanation=decision["explanation"])
        else:
            facts = domain.needs_triage(case, decision["explanation"], now)
        self._record(unit, case, facts)

    @staticmethod
    def _task_factory(case):
        def new_task(**fields):
            return Task(id=str(uuid.uuid4()), case_id=case.id, **fields)
        return new_task

    def _record(self, unit, case, facts):
        """Write each fact to the timeline and announce it (in the same transaction)."""
        unit.session.flush()
        for fact in facts:
            data = dict(fact.data)
            if fact.task is not None:
                data.update(task_id=fact.task.id, agency_id=fact.task.agency_id,
                            agency=fact.task.agency_name)
            if fact.type == "routed":
                names = {t.agency_id: t.agency_name for t in case.tasks}
                data["agency_names"] = [names[a] for a in data.get("agencies", [])]
            unit.session.add(TimelineEntry(
                case_id=case.id, at=case.updated_at, type=fact.type,
                actor_id=fact.actor.get("id", "system"), actor_role=fact.actor["role"],
                actor_name=fact.actor["name"], data=data))
            event_type = FACT_EVENTS.get(fact.type)
            if event_type is None:
                continue
            payload = {"case": case_ref(case), "actor": actor_ref(fact.actor),
                       "note": data.get("note") or data.get("reason"),
                       "rule_id": data.get("rule_id"), "explanation": data.get("explanation")}
            if isinstance(payload["note"], dict):  # a system reason, written in both languages
                payload["explanation"], payload["note"] = payload["note"], None
            if fact.task is not None:
                payload["task"] = task_ref(fact.task)
            if fact.type == "routed":
                payload["agency_ids"] = data["agencies"]
            payload.update({key: data[key] for key in ("level", "due_at", "other_number")
                            if key in data})
            if fact.type == "comment":
                payload.update(comment_id=data["comment_id"], body=data["body"])
            unit.emit(event_type, payload, correlation_id=case.id)

    # -- reads ---------------------------------------------------------------------------------

    def _find(self, session, case_id):
        case = session.get(Case, case_id)
        if case is None and isinstance(case_id, str):
            case = session.scalar(select(Case).where(Case.tracking_number == case_id.upper()))
        return case

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def get_case(self, actor, case_id, lang="id"):
        with self.db.read() as session:
            case = self._find(session, case_id)
            domain.require_visible(actor, case)
            return case_view(case, utcnow(), lang)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def timeline(self, actor, case_id, lang="id"):
        with self.db.read() as session:
            case = self._find(session, case_id)
            domain.require_visible(actor, case)
            entries = session.scalars(select(TimelineEntry).where(
                TimelineEntry.case_id == case.id).order_by(TimelineEntry.seq)).all()
            return [{
                "at": iso(entry.at), "type": entry.type,
                "actor": {"role": entry.actor_role, "name": entry.actor_name},
                "summary": texts.summary(entry.type, entry.data, lang),
                "data": entry.data,
            } for entry in entries]

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def list_cases(self, actor, filters, lang="id"):
        """Cases in the caller's jurisdiction, newest first, filtered and paged."""
        now = utcnow()
        page, per_page = filters.get("page", 1), min(filters.get("per_page", 20), MAX_PER_PAGE)
        conditions = [visible_to(actor)]
        for name, column in (("status", Case.status), ("category", Case.category),
                             ("village", Case.village_code), ("district", Case.district_code),
                             ("regency", Case.regency_code)):
            if filters.get(name):
                conditions.append(column == filters[name])
        if filters.get("agency"):
            conditions.append(exists().where(Task.case_id == Case.id,
                                             Task.agency_id == filters["agency"]))
        if filters.get("escalation_level"):
            level = {name: n for n, name in ladder.LEVEL_NAMES.items()}[filters["escalation_level"]]
            conditions.append(Case.escalation_level >= level)
        if filters.get("overdue") is not None:
            overdue = overdue_condition(now) & Case.status.not_in(domain.FINAL_STATUSES)
            conditions.append(overdue if filters["overdue"] else ~overdue)
        with self.db.read() as session:
            total = session.scalar(select(func.count()).select_from(Case).where(*conditions))
            cases = session.scalars(
                select(Case).where(*conditions)
                .order_by(*SORTS[filters.get("sort") or "newest"](), Case.id)
                .limit(per_page).offset((page - 1) * per_page)).all()
            items = [case_summary(case, now, lang) for case in cases]
        return {"items": items, "total": total, "page": page, "per_page": per_page}

    # -- commands ------------------------------------------------------------------------------

    @staticmethod
    def _retrying(work):
        """Run `work()` (one transaction); a lost race with another writer is run again."""
        for _attempt in range(COMMAND_ATTEMPTS):
            try:
                return work()
            except StaleDataError:
                continue
        raise Conflict(text("Kasus sedang diubah pihak lain; coba lagi.",
                            "The case is being changed by someone else; try again."))

    def _command(self, actor, case_id, lang, action):
        """Run `action(case, now) -> facts` on the current case; returns the case."""
        def work():
            with self.db.transaction() as unit:
                case = self._find(unit.session, case_id)
                if actor is not domain.SYSTEM:
                    domain.require_visible(actor, case)
                now = utcnow()
                self._record(unit, case, action(case, now))
                return case_view(case, now, lang)

        return self._retrying(work)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def task_action(self, actor, case_id, task_id, action, body, lang="id"):
        """accept | decline | progress | complete on one task; returns the task."""
        if action not in TASK_ACTIONS:
            raise ValidationFailed(text("Tindakan tidak dikenal.", "Unknown action."),
                                   {"action": [text("Tidak dikenal.", "Unknown.")]})
        change, schema, field = TASK_ACTIONS[action]
        value = commands.load(schema, body)[field]

        def act(case, now):
            task = domain.own_task(actor, case, task_id)
            return change(case, task, actor_ref(actor), now, value)

        view = self._command(actor, case_id, lang, act)
        return next(task for task in view["tasks"] if task["id"] == task_id)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def supervise_task(self, actor, case_id, task_id, action, body, lang="id"):
        """withdraw | lead: a coordinator changes who works on a case; returns the case."""
        if action not in SUPERVISOR_TASK_ACTIONS:
            raise ValidationFailed(text("Tindakan tidak dikenal.", "Unknown action."),
                                   {"action": [text("Tidak dikenal.", "Unknown.")]})
        reason = commands.load(commands.ReasonInput, body)["reason"]

        def act(case, now):
            task = next((t for t in case.tasks if t.id == task_id), None)
            if task is None:
                raise NotFound(text("Tugas tidak ditemukan.", "Task not found."))
            return SUPERVISOR_TASK_ACTIONS[action](case, task, actor_ref(actor), now, reason)

        return self._command(actor, case_id, lang, act)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def confirm(self, actor, case_id, body, lang="id"):
        note = commands.load(commands.NoteInput, body)["note"]

        def act(case, now):
            domain.require_village_of(actor, case)
            return domain.confirm(case, actor_ref(actor), now, note)

        return self._command(actor, case_id, lang, act)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def reopen(self, actor, case_id, body, lang="id"):
        reason = commands.load(commands.ReasonInput, body)["reason"]

        def act(case, now):
            domain.require_village_of(actor, case)

            def due_after(task):
                """The same deadlines again, counted from now in working days (or hours)."""
                shift = now - task.assigned_at
                task.assigned_at = now

                def again(spec, old):
                    if spec:
                        return workdays.due(now, spec, case.village_code)
                    return old and old + shift

                return (again(task.accept_within, task.accept_due_at),
                        again(task.resolve_within, task.due_at))

            return domain.reopen(case, actor_ref(actor), now, reason, due_after)

        return self._command(actor, case_id, lang, act)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def add_comment(self, actor, case_id, body, lang="id"):
        text_body = commands.load(commands.CommentInput, body)["body"]
        comment_id = str(uuid.uuid4())
        self._command(actor, case_id, lang, lambda case, now: domain.comment(
            case, actor_ref(actor), now, text_body, comment_id))
        return {"id": comment_id, "body": text_body, "author": {"role": actor["role"],
                                                                 "name": actor["name"]}}

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def case_context(self, actor, case_id):
        """What routing needs to plan a manual route of a case the caller may supervise."""
        with self.db.read() as session:
            case = self._find(session, case_id)
            domain.require_supervisor(actor, case)
            return {"id": case.id, "regency_code": case.regency_code,
                    "district_code": case.district_code, "village_code": case.village_code,
                    "category": case.category, "severity": case.severity}

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def route(self, actor, case_id, plan, lang="id"):
        """Route by hand: `plan` is routing's answer to plan_manual_route."""
        try:
            tasks = events.PlannedTask(many=True).load(plan["tasks"])
        except ValidationError as exc:
            raise ValidationFailed(text("Rencana rute tidak sah.", "Invalid routing plan."),
                                   {"agencies": exc.messages}) from None

        def act(case, now):
            domain.require_supervisor(actor, case)
            return domain.route(case, tasks, actor_ref(actor), now, self._task_factory(case),
                                rule_id=None, explanation=plan["explanation"], note=plan["note"])

        return self._command(actor, case_id, lang, act)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def escalate(self, actor, case_id, body, lang="id"):
        """A district coordinator sends a case up to the regency office."""
        reason = commands.load(commands.ReasonInput, body)["reason"]
        return self._command(actor, case_id, lang, lambda case, now: ladder.escalate_by_hand(
            case, actor_ref(actor), now, reason))

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def merge(self, actor, case_id, body, lang="id"):
        """The coordinator merges this case into another one; returns the case kept."""
        request = commands.load(commands.MergeInput, body)

        def work():
            with self.db.transaction() as unit:
                source = self._find(unit.session, case_id)
                target = self._find(unit.session, request["into"])
                domain.require_visible(actor, source)
                if target is None or not domain.can_see(actor, target):
                    raise ValidationFailed(
                        text("Kasus tujuan tidak ditemukan.", "No such case to merge into."),
                        {"into": [text("Tidak ditemukan.", "Not found.")]})
                now = utcnow()
                into, merged_from = domain.merge(source, target, actor_ref(actor), now,
                                                 request["reason"])
                self._record(unit, source, into)
                self._record(unit, target, merged_from)
                return case_view(target, now, lang)

        return self._retrying(work)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def cancel(self, actor, case_id, body, lang="id"):
        reason = commands.load(commands.ReasonInput, body)["reason"]
        return self._command(actor, case_id, lang, lambda case, now: domain.cancel(
            case, actor_ref(actor), now, reason))

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def summary(self, actor, lang="id"):
        """The coordinator's board in numbers: cases per status, per agency, per village."""
        now = utcnow()
        mine = visible_to(actor)
        open_case = Case.status.not_in(domain.FINAL_STATUSES)
        with self.db.read() as session:
            by_status = dict(session.execute(
                select(Case.status, func.count()).where(mine).group_by(Case.status)).all())
            villages = session.execute(
                select(Case.village_code, Case.village_name, func.count())
                .where(mine, open_case).group_by(Case.village_code, Case.village_name)).all()
            agencies = session.execute(
                select(Task.agency_id, Task.agency_name, func.count(func.distinct(Case.id)))
                .join(Case, Task.case_id == Case.id)
                .where(mine, open_case, Task.status.in_(domain.ACTIVE_TASK_STATUSES))
                .group_by(Task.agency_id, Task.agency_name)).all()
            overdue = session.scalar(select(func.count()).select_from(Case).where(
                mine, open_case, overdue_condition(now)))
            escalated = session.scalar(select(func.count()).select_from(Case).where(
                mine, open_case, Case.escalation_level > 0))
        return {
            "total": sum(by_status.values()),
            "open": sum(n for status, n in by_status.items() if status not in domain.FINAL_STATUSES),
            "overdue": overdue, "escalated": escalated,
            "by_status": {status: by_status.get(status, 0) for status in domain.CASE_STATUSES},
            "by_agency": [{"id": a, "name": name, "open": n} for a, name, n in agencies],
            "by_village": [{"code": c, "name": name, "open": n} for c, name, n in villages],
        }

    # -- the clock ---------------------------------------------------------------------------

    @timer(interval=config.scheduler_seconds())
    def watch_deadlines(self):
        """Climb the escalation ladder and close unanswered cases; one replica at a time."""
        if not self.db.lease("deadlines", seconds=max(60, 3 * config.scheduler_seconds())).acquire():
            return
        now = utcnow()
        climbing = exists().where(Task.case_id == Case.id, Task.ladder_step < ladder.LAST_STEP,
                                  or_((Task.status == domain.PENDING) & (Task.accept_due_at < now),
                                      (Task.status == domain.ACCEPTED) & (Task.due_at < now)))
        # Eight working days are at least eight calendar days: nothing to do before that.
        unanswered = (Case.status == domain.RESOLVED) & (
            Case.resolved_at < now - timedelta(days=8))
        query = (select(Case.id).where(Case.status.not_in(domain.FINAL_STATUSES),
                                       or_(climbing, unanswered)).order_by(Case.id))
        with self.db.read() as session:
            due = session.scalars(query).all()
        for case_id in due:
            try:
                self._command(domain.SYSTEM, case_id, "id", ladder.watch)
            except Exception:  # one case's trouble must not stop the others
                log.exception("requests: watching the deadlines of case %s failed", case_id)

    @rpc
    def health(self):
        return self.db.health()

