"""The requests service: cases, the tasks of each agency, and the timeline of every change.

Only the nameko entrypoints live here, each a few lines over the pieces that hold the rules:

  handlers.py  what happens when an event arrives (one handler per event), and `record`
  commands.py  what happens when someone acts on a case (one function per command)
  queries.py   which cases a read selects, filters, sorts and counts (SQL)
  views.py     what a read answers and what an event carries
  domain.py    the life of a case and its tasks: who may do what, and what follows
  ladder.py    deadlines, the escalation ladder and what the clock does
  facts.py     the types of fact (what can happen to a case)
  texts.py     what the timeline says of each fact
"""
import logging
import time
from datetime import datetime, timedelta
from functools import partial

from nameko.timer import timer
from sqlalchemy.exc import IntegrityError

from services.requests import (
    commands, domain, handlers, musrenbang, queries, transparency, views,
)
from services.requests.models import Base, MusrenbangChange, MusrenbangProposal
from shared import config, paging, policy, timezones
from shared.db import Database
from shared.commands import LONGEST_RECORD_DAYS, MUSRENBANG_YEARS, ProposalInput, load
from shared.categories import category_name
from shared.errors import DOMAIN_ERRORS, NotFound, ValidationFailed
from shared.events import iso, utcnow
from shared.i18n import text
from shared.regions import area_level
from shared.messaging import consume_events, rpc

log = logging.getLogger(__name__)


def musrenbang_district(actor, operation, district, year):
    """The district, if the caller may do `operation` on its Musrenbang input of `year`: 403
    for a role that may not, 404 for a district outside the caller's area, 400 for a year
    out of bounds."""
    policy.require_role(actor, operation)
    first, last = MUSRENBANG_YEARS
    if not first <= year <= last:
        raise ValidationFailed(text("Tahun tidak sah.", "Invalid year."), {"year": [text(
            f"{first} sampai {last}.", f"{first} to {last}.")]})
    if not policy.sees_place(actor, None, district, district[:5]):
        raise NotFound(text("Kecamatan tidak ditemukan.", "No such district."),
                       {"district": [text("Di luar wilayah Anda.", "Outside your area.")]})
    return district


def musrenbang_change(actor, proposal, action, note=None):
    """The record of a proposal made or withdrawn (models.MusrenbangChange)."""
    return MusrenbangChange(district_code=proposal.district_code, year=proposal.year,
                            category=proposal.category, action=action, note=note,
                            actor_id=actor["id"], actor_name=actor["name"], at=utcnow())


def proposal_view(proposal):
    return proposal and {"note": proposal.note, "by": proposal.proposed_by_name,
                         "at": iso(proposal.proposed_at)}


class Recent:
    """Answers kept a short while: the public reads are the same for every visitor, and need
    not be counted again for each one."""

    def __init__(self, seconds):
        self.seconds, self.kept = seconds, {}

    def get(self, key, compute):
        now = time.monotonic()
        kept = self.kept.get(key)
        if kept is None or kept[0] < now:
            if len(self.kept) > 1000:  # areas × periods asked for: keep it small
                self.kept.clear()
            kept = self.kept[key] = (now + self.seconds, compute())
        return kept[1]


RECENT = Recent(seconds=config.public_cache_seconds())


class RequestsService:
    name = "requests"
    db = Database(Base.metadata)

    # -- events ------------------------------------------------------------------------------

    @consume_events("requests")
    def on_event(self, event):
        self.db.handle_once(event, lambda unit: handlers.EVENT_HANDLERS[event.type](
            unit, event.payload))

    # -- reads -------------------------------------------------------------------------------

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def get_case(self, actor, case_id, lang="id"):
        with self.db.read() as session:
            case = policy.require_case(actor, "cases.read", queries.find_case(session, case_id))
            return views.case_view(case, utcnow(), lang)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def timeline(self, actor, case_id, page, lang="id"):
        """One page of a case's timeline, oldest first."""
        number, per_page = paging.bounds(page)
        with self.db.read() as session:
            case = policy.require_case(actor, "cases.timeline",
                                       queries.find_case(session, case_id))
            total, entries = queries.timeline_page(session, case.id, number, per_page)
            items = [views.timeline_entry(entry, lang) for entry in entries]
        return paging.page(items, total, number, per_page)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def escalations(self, actor, page, lang="id"):
        """The open cases escalated to the caller's level."""
        return self.list_cases(actor, queries.escalations(actor, page), lang=lang)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def list_cases(self, actor, filters, lang="id"):
        """Cases in the caller's jurisdiction, newest first, filtered and paged."""
        now = utcnow()
        number, per_page = paging.bounds(filters)
        with self.db.read() as session:
            total, cases = queries.list_cases(session, actor, filters, now, number, per_page)
            items = [views.case_summary(case, now, lang) for case in cases]
        return paging.page(items, total, number, per_page)

    # -- what the public sees (no caller: Open311, the public pages) ---------------------------

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def public_cases(self, filters, lang="id"):
        """The cases anyone may see that match `filters` (queries.public_cases; `start` and
        `end` as ISO 8601 times)."""
        filters = {**filters, **{name: datetime.fromisoformat(filters[name])
                                 for name in ("start", "end") if filters.get(name)}}
        with self.db.read() as session:
            return [views.public_case(case, lang)
                    for case in queries.public_cases(session, filters)]

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def public_case_page(self, area, page, lang="id"):
        """One page of an area's public cases, newest first."""
        number, per_page = paging.bounds(page)
        filters = {"area": area, "limit": per_page, "offset": (number - 1) * per_page}
        with self.db.read() as session:
            total = queries.public_total(session, filters)
            items = [views.public_case(case, lang)
                     for case in queries.public_cases(session, filters)]
        return paging.page(items, total, number, per_page)

    @rpc
    def public_regencies(self):
        return RECENT.get(("regencies",), lambda: self._read(queries.public_areas))

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def public_record(self, area, months):
        """An area's public record over its last `months` months (transparency.record), and
        a regency's districts with public cases. The same for every visitor: counted again
        once RECENT_SECONDS have passed."""
        if not 1 <= months <= transparency.MOST_MONTHS:
            raise ValidationFailed(text("Periode tidak sah.", "Invalid period."), {"months": [
                text(f"1 sampai {transparency.MOST_MONTHS}.",
                     f"1 to {transparency.MOST_MONTHS}.")]})
        wanted = transparency.months_back(utcnow(), area, months)

        def count(session):
            rows = queries.public_record_rows(session, area,
                                              transparency.month_start(wanted[0], area))
            return {"months": wanted, **transparency.record(rows, area, wanted),
                    "districts": queries.public_areas(session, regency=area)
                    if area_level(area) == "regency" else []}

        return RECENT.get(("record", area, tuple(wanted)), lambda: self._read(count))

    def _read(self, query):
        with self.db.read() as session:
            return query(session)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def public_case(self, reference, lang="id"):
        """One case anyone may see, by id or tracking number; 404 for any other."""
        with self.db.read() as session:
            case = queries.find_case(session, reference)
            if case is None or not domain.is_public(case):
                raise policy.case_not_found()
            return views.public_case(case, lang)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def photo(self, actor, case_id, photo_id):
        """What the case records of one of its photos (the gateway serves the bytes)."""
        with self.db.read() as session:
            return commands.find_photo(session, actor, case_id, photo_id)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def summary(self, actor, lang="id"):
        """The coordinator's board in numbers: cases per status, per agency, per village."""
        with self.db.read() as session:
            return queries.summary(session, actor, utcnow())

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def agency_records(self, actor, days=30, first=None, last=None):
        """How each agency answered the caller's cases, for the tasks given from the day
        `first` to the day `last` (ISO dates, where the caller's area is): `days` days up to
        `last` (today by default), or from `first`."""
        now, area = utcnow(), actor.get("regency") or actor.get("scope") or ""
        today = timezones.today(now, area)
        if first and not last:
            first = timezones.as_date(first)
            last = max(first, min(first + timedelta(days=days - 1), today))
        last = timezones.as_date(last) if last else today
        first = timezones.as_date(first) if first else last - timedelta(days=days - 1)
        if not 0 <= (last - first).days < LONGEST_RECORD_DAYS:
            raise ValidationFailed(text("Periode tidak sah.", "Invalid period."), {"from": [text(
                f"Paling lama {LONGEST_RECORD_DAYS} hari sebelum to.",
                f"At most {LONGEST_RECORD_DAYS} days before to.")]})
        start, end = timezones.day_bounds(first, last, area)
        with self.db.read() as session:
            items = queries.agency_records(session, actor, now, start, end)
        return {"days": (last - first).days + 1, "from": first.isoformat(),
                "to": last.isoformat(), "items": items}

    # -- the Musrenbang input (musrenbang.py) -------------------------------------------------

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def musrenbang(self, actor, district, year, lang="id"):
        """What the villages of a district raised in a year, ranked, each item with the
        coordinator's proposal (usulan) if any."""
        musrenbang_district(actor, "musrenbang.read", district, year)
        start, end = timezones.year_bounds(year, district)
        now = utcnow()
        with self.db.read() as session:
            rows = queries.musrenbang_rows(session, district, start, end)
            proposals = queries.musrenbang_proposals(session, district, year)
        items = musrenbang.items(rows, now, partial(category_name, lang=lang))
        for item in items:
            item["proposal"] = proposal_view(proposals.get(item["category"]))
            for village in item["villages"]:
                for case in village["cases"]:
                    case["reported_at"] = iso(case["reported_at"])
        return {"district": district, "year": year, "items": items}

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def propose(self, actor, district, year, category, body):
        """The coordinator puts an item of its district forward to the year's Musrenbang,
        with a note (shared.commands.ProposalInput; again: the note changes); returns the
        proposal. Two at once: the second's note is the one kept."""
        musrenbang_district(actor, "musrenbang.propose", district, year)
        note = load(ProposalInput, body)["note"]
        try:
            return self._propose(actor, district, year, category, note)
        except IntegrityError:  # another proposal of the item was written meanwhile
            return self._propose(actor, district, year, category, note)

    def _propose(self, actor, district, year, category, note):
        start, end = timezones.year_bounds(year, district)
        with self.db.transaction() as unit:
            session = unit.session
            if not queries.musrenbang_raised(session, district, start, end, category):
                raise NotFound(text("Tidak ada masalah ini tahun itu.",
                                    "No such issue that year."), {"category": [text(
                                        "Tidak ada kasus kategori ini di kecamatan tahun itu.",
                                        "No case of this category in the district that year.")]})
            proposal = session.get(MusrenbangProposal, (district, year, category)) \
                or MusrenbangProposal(district_code=district, year=year, category=category)
            proposal.note, proposal.proposed_at = note, utcnow()
            proposal.proposed_by_id, proposal.proposed_by_name = actor["id"], actor["name"]
            session.add(proposal)
            session.add(musrenbang_change(actor, proposal, "proposed", note))
            session.flush()
            return proposal_view(proposal)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def withdraw_proposal(self, actor, district, year, category):
        """The coordinator takes an item back from the year's Musrenbang; whether it was."""
        musrenbang_district(actor, "musrenbang.withdraw", district, year)
        with self.db.transaction() as unit:
            proposal = unit.session.get(MusrenbangProposal, (district, year, category))
            if proposal is not None:
                unit.session.delete(proposal)
                unit.session.add(musrenbang_change(actor, proposal, "withdrawn"))
            return proposal is not None

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def case_context(self, actor, case_id):
        """What routing needs to plan a manual route of a case the caller may supervise."""
        with self.db.read() as session:
            return views.case_context(policy.require_case(
                actor, "cases.route", queries.find_case(session, case_id)))

    # -- commands ----------------------------------------------------------------------------

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def task_action(self, actor, case_id, task_id, action, body, lang="id"):
        """accept | decline | progress | complete on one task; returns the task."""
        return commands.run(self.db, commands.task_action, actor, case_id, task_id, action,
                            body, lang)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def supervise_task(self, actor, case_id, task_id, action, body, lang="id"):
        """withdraw | lead: a coordinator changes who works on a case; returns the case."""
        return commands.run(self.db, commands.supervise_task, actor, case_id, task_id, action,
                            body, lang)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def confirm(self, actor, case_id, body, lang="id"):
        return commands.run(self.db, commands.confirm, actor, case_id, body, lang)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def reopen(self, actor, case_id, body, lang="id"):
        return commands.run(self.db, commands.reopen, actor, case_id, body, lang)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def add_comment(self, actor, case_id, body, lang="id"):
        return commands.run(self.db, commands.add_comment, actor, case_id, body, lang)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def add_photo(self, actor, case_id, photo, lang="id"):
        return commands.run(self.db, commands.add_photo, actor, case_id, photo, lang)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def route(self, actor, case_id, plan, lang="id"):
        """Route by hand: `plan` is routing's answer to plan_manual_route."""
        return commands.run(self.db, commands.route, actor, case_id, plan, lang)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def escalate(self, actor, case_id, body, lang="id"):
        """A district coordinator sends a case up to the regency office."""
        return commands.run(self.db, commands.escalate, actor, case_id, body, lang)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def merge(self, actor, case_id, body, lang="id"):
        """The coordinator merges this case into another one; returns the case kept."""
        return commands.run(self.db, commands.merge, actor, case_id, body, lang)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def cancel(self, actor, case_id, body, lang="id"):
        return commands.run(self.db, commands.cancel, actor, case_id, body, lang)

    # -- the clock ---------------------------------------------------------------------------

    @timer(interval=config.scheduler_seconds())
    def watch_deadlines(self):
        """Climb the escalation ladder and close unanswered cases (the cases in the watcher's
        window, ladder.in_watch_window); one replica at a time."""
        if not self.db.lease("deadlines", seconds=max(60, 3 * config.scheduler_seconds())).acquire():
            return
        with self.db.read() as session:
            due = queries.cases_to_watch(session, utcnow())
        for case_id in due:
            try:
                commands.run(self.db, commands.watch_case, case_id)
            except Exception:  # one case's trouble must not stop the others
                log.exception("requests: watching the deadlines of case %s failed", case_id)

    @rpc
    def health(self):
        return self.db.health()
