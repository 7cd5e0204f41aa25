"""The SQL of the requests service: which cases each read selects, filters, sorts and counts.

Where a rule has a Python form (domain.py, ladder.py, shared/policy.py) the SQL here is its
twin, next to a comment naming the rule: the Python form decides for one case in hand, the SQL
for a list or a count. tests/unit/test_sql_twins.py checks that each pair agrees on generated
cases.
"""
from statistics import median

from sqlalchemy import case as sql_case
from sqlalchemy import bindparam, exists, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from services.requests import domain, facts, ladder, musrenbang, transparency
from services.requests.models import (
    AgencyCase, Case, CaseCount, MusrenbangProposal, Task, TimelineEntry,
)
from shared import policy
from shared.regions import area_level


def case_by_id(session, case_id):
    """The case with this id, its tasks read with it (one statement), or None."""
    return session.get(Case, case_id, options=[joinedload(Case.tasks)])


def find_case(session, case_id):
    """The case with this id, or this tracking number (in any case); None when there is none."""
    case = case_by_id(session, case_id)
    if case is None and isinstance(case_id, str):
        case = session.scalar(select(Case).where(Case.tracking_number == case_id.upper()))
    return case


def visible_to(actor):
    """The SQL condition that keeps a query inside the caller's jurisdiction (the access
    policy's own twin: shared.policy.case_visible of shared.policy.sees_case).

    For an agency, also: the case is of the agency's regency. Every case an agency has a task
    on is (the routing rules are a regency's own and name its own agencies; a case is routed
    by hand to the agencies of its regency only), so this changes no answer; it lets the
    database look for the agency's cases among its regency's (an index range) instead of
    fetching each of them by id."""
    visible = policy.case_visible(actor, Case, Task)
    if actor.get("role") == policy.AGENCY:
        return visible & (Case.regency_code == actor.get("regency"))
    return visible


# -- deadlines ---------------------------------------------------------------------------------

def current_deadline():
    """The SQL twin of ladder.current_deadline: the deadline a task works against now — to
    accept while it is pending, to complete once accepted, none (NULL) otherwise.

    The one spelling of it in SQL: the next deadline board.py keeps on a case (what the
    `deadline` sort orders by), the overdue filter and count, and the watcher's window all use
    it.
    """
    return sql_case((Task.status == domain.PENDING, Task.accept_due_at),
                    (Task.status == domain.ACCEPTED, Task.due_at), else_=None)


def overdue(now, rows=Case):
    """The SQL twin of ladder.is_overdue: an open case with a task past its current deadline.
    (`rows`: the cases, or an agency's rows of them, models.AgencyCase.)

    (Only a task being worked on has a current deadline: saying so lets the index of those
    tasks, ix_tasks_active, answer.)"""
    return rows.status.not_in(domain.FINAL_STATUSES) & exists().where(
        Task.case_id == rows.id, Task.status.in_(domain.ACTIVE_TASK_STATUSES),
        current_deadline() < now)


def cases_to_watch(session, now):
    """The ids of the cases in the deadline watcher's window, in order.

    The SQL twin of ladder.in_watch_window: an open case with a task past its current deadline
    and steps of the ladder left, or resolved more than eight calendar days ago (eight working
    days are at least eight calendar days).
    """
    climbing = exists().where(Task.case_id == Case.id, Task.ladder_step < ladder.LAST_STEP,
                              Task.status.in_(domain.ACTIVE_TASK_STATUSES),
                              current_deadline() < now)
    unanswered = ((Case.status == domain.RESOLVED)
                  & (Case.resolved_at < now - ladder.UNANSWERED_WATCHED_AFTER))
    return session.scalars(select(Case.id).where(Case.status.not_in(domain.FINAL_STATUSES),
                                                 or_(climbing, unanswered))
                           .order_by(Case.id)).all()


# -- what the public sees -------------------------------------------------------------------------

PUBLIC = Case.confidential.is_(False)  # domain.is_public
PUBLIC_OPEN = Case.status.not_in(domain.CLOSED_TO_THE_PUBLIC)  # domain.is_open_to_the_public


def in_area(code):
    """The cases of a regency (35.79) or a district (35.79.02)."""
    return (Case.regency_code if area_level(code) == "regency" else Case.district_code) == code


def public_cases(session, filters):
    """The cases the public may see that match `filters`, newest first: at most `limit`,
    after `offset`.

    `references` (ids or tracking numbers) if given, else: `area` (a regency or a district),
    `categories`, `open` (True: open to the public, False: closed, None: both), reported from
    `start` to `end`."""
    return session.scalars(select(Case).where(*public_conditions(filters))
                           .order_by(Case.created_at.desc(), Case.id)
                           .offset(filters.get("offset", 0)).limit(filters["limit"])).all()


def public_total(session, filters):
    return session.scalar(select(func.count()).select_from(Case)
                          .where(*public_conditions(filters)))


def public_conditions(filters):
    conditions = [PUBLIC]
    if filters.get("area"):
        conditions.append(in_area(filters["area"]))
    if filters.get("references"):
        wanted = list(filters["references"])
        conditions.append(or_(Case.id.in_(wanted),
                              Case.tracking_number.in_([w.upper() for w in wanted])))
    else:
        if filters.get("categories"):
            conditions.append(Case.category.in_(filters["categories"]))
        if filters.get("open") is not None:
            conditions.append(PUBLIC_OPEN if filters["open"] else ~PUBLIC_OPEN)
        if filters.get("start") is not None:
            conditions.append(Case.created_at >= filters["start"])
        if filters.get("end") is not None:
            conditions.append(Case.created_at <= filters["end"])
    return conditions


def public_areas(session, regency=None):
    """The regencies with public cases, or the districts of `regency` with public cases, by
    name: [{code, name, cases}]."""
    code, name, where = ((Case.regency_code, Case.regency_name, [PUBLIC]) if regency is None
                         else (Case.district_code, Case.district_name,
                               [PUBLIC, Case.regency_code == regency]))
    return [{"code": code, "name": name, "cases": cases} for code, name, cases in session.execute(
        select(code, name, func.count()).where(*where).group_by(code, name).order_by(name))]


def public_record_rows(session, area, since):
    """The public cases of an area reported or resolved since `since`, as the transparency
    rules read them (transparency.CaseRow)."""
    chosen = (PUBLIC, in_area(area), or_(Case.created_at >= since, Case.resolved_at >= since))
    ids = select(Case.id).where(*chosen)
    rows = {case_id: transparency.CaseRow(
                category, created_at, None if status == domain.CANCELLED else resolved_at)
            for case_id, category, created_at, resolved_at, status in session.execute(
                select(Case.id, Case.category, Case.created_at, Case.resolved_at, Case.status)
                .where(*chosen))}
    for case_id, agency_id, name, status in session.execute(
            select(Task.case_id, Task.agency_id, Task.agency_name, Task.status)
            .where(Task.case_id.in_(ids))):
        rows[case_id].agencies[agency_id] = name
        if status not in domain.ENDED_TASK_STATUSES:
            rows[case_id].working.add(agency_id)
    for case_id, data in session.execute(
            select(TimelineEntry.case_id, TimelineEntry.data).where(
                TimelineEntry.case_id.in_(ids), TimelineEntry.type == facts.DEADLINE_MISSED)):
        rows[case_id].missed_by.add((data or {}).get("agency_id"))
    return list(rows.values())


# -- the Musrenbang input -------------------------------------------------------------------------

def musrenbang_cases(district, start, end):
    """The cases of a district's Musrenbang input: public, reported from `start` to `end`,
    not cancelled (a mistake, or merged into another case)."""
    return (PUBLIC, Case.district_code == district, Case.created_at >= start,
            Case.created_at < end, Case.status != domain.CANCELLED)


def musrenbang_raised(session, district, start, end, category):
    """Whether the district's Musrenbang input has an item of `category`."""
    return session.scalar(select(exists().where(
        *musrenbang_cases(district, start, end), Case.category == category)))


def musrenbang_rows(session, district, start, end):
    """The district's Musrenbang cases (musrenbang_cases), as musrenbang.py reads them:
    recurring when reopened, or when the work on an earlier public case of the same village
    and category was done (its timeline says so, whatever became of it since) before it was
    reported."""
    earlier, done = aliased(Case), aliased(TimelineEntry)
    resolved_before = exists().where(
        earlier.village_code == Case.village_code, earlier.category == Case.category,
        earlier.confidential.is_(False), earlier.id != Case.id,
        done.case_id == earlier.id, done.type == facts.RESOLVED, done.at < Case.created_at)
    reopened = exists().where(TimelineEntry.case_id == Case.id,
                              TimelineEntry.type == facts.REOPENED)
    return [musrenbang.CaseRow(*row[:-1], recurring=bool(row[-1])) for row in session.execute(
        select(Case.tracking_number, Case.village_code, Case.village_name, Case.category,
               Case.title, Case.status, Case.affected_people, Case.created_at, Case.resolved_at,
               or_(resolved_before, reopened))
        .where(*musrenbang_cases(district, start, end)))]


def musrenbang_proposals(session, district, year):
    """{category: its proposal} of a district's Musrenbang of a year."""
    return {proposal.category: proposal for proposal in session.scalars(
        select(MusrenbangProposal).where(MusrenbangProposal.district_code == district,
                                         MusrenbangProposal.year == year))}


# -- duplicates ----------------------------------------------------------------------------------

def likely_original(session, case):
    """The case a new case likely duplicates (its id and tracking number), or None.

    The SQL twin of the likely-duplicate rule (domain.is_likely_duplicate, domain.likely_original):
    the newest case of the same village and category, other than this one, still open.
    """
    return session.execute(LIKELY_ORIGINAL, {"village_code": case.village_code,
                                             "category": case.category, "id": case.id,
                                             "confidential": bool(case.confidential)}).first()


LIKELY_ORIGINAL = (  # every new case runs it: built once
    select(Case.id, Case.tracking_number)
    .where(Case.village_code == bindparam("village_code"), Case.category == bindparam("category"),
           Case.id != bindparam("id"), Case.status.not_in(domain.FINAL_STATUSES),
           Case.confidential == bindparam("confidential"))
    .order_by(Case.created_at.desc()).limit(1))


# -- the list of cases ---------------------------------------------------------------------------

SORTS = {  # GET /cases?sort=… (of the cases, or an agency's rows of them), then by id
    "newest": lambda rows: (rows.created_at.desc(),),
    "oldest": lambda rows: (rows.created_at.asc(),),
    "updated": lambda rows: (rows.updated_at.desc(),),
    "escalation": lambda rows: (rows.escalation_level.desc(), rows.created_at.asc()),
    # the earliest next deadline first, the cases with nothing due last
    "deadline": lambda rows: (rows.next_deadline_at.asc().nulls_last(),),
}
LEVELS = {name: level for level, name in ladder.LEVEL_NAMES.items()}


def board_rows(actor, agency=None):
    """(what a read of the board selects from, the conditions of the caller's jurisdiction and
    of the `agency` filter on it).

    The cases themselves; but an agency's own reads, and the `agency` filter, read the rows of
    that agency (models.AgencyCase, one per case it has or had a task on, with the case's
    columns the board filters and sorts by, kept in step by board.py): an agency sees a case
    while it has a task on it not ended (`sees`, shared.policy.sees_case), the filter keeps
    the cases the agency has or had a task on (every row of it; in an agency's own list, its
    rows that name the other agency among theirs, `agencies`). Either way the same cases,
    found from an index of that agency's rows in the order of the sort."""
    if actor.get("role") == policy.AGENCY:
        rows = aliased(AgencyCase)
        conditions = [rows.agency_id == actor.get("scope"), rows.sees]
        if agency:
            conditions.append(rows.agencies.contains(f",{agency},", autoescape=True))
        return rows, conditions
    if agency:
        rows = aliased(AgencyCase)
        return rows, [rows.agency_id == agency, policy.case_visible(actor, rows, Task)]
    return Case, [visible_to(actor)]


def case_filters(actor, filters, now):
    """(what GET /cases selects from: board_rows, its conditions): the caller's jurisdiction,
    and each filter given.

    status, category, village, district, regency: equal; agency: it has (or had) a task on the
    case; escalation_level: escalated that far or further; open: not closed or cancelled;
    overdue: true or false (ladder.is_overdue); likely_duplicate: flagged as likely the same as
    another case, and still open; no_lead: open, and no working task leads it.
    """
    rows, conditions = board_rows(actor, filters.get("agency"))
    for name, column in (("status", rows.status), ("category", rows.category),
                         ("village", rows.village_code), ("district", rows.district_code),
                         ("regency", rows.regency_code)):
        if filters.get(name):
            conditions.append(column == filters[name])
    if filters.get("escalation_level"):
        conditions.append(rows.escalation_level >= LEVELS[filters["escalation_level"]])
    open_case = rows.status.not_in(domain.FINAL_STATUSES)
    if filters.get("open"):
        conditions.append(open_case)
    if filters.get("overdue") is not None:
        conditions.append(overdue(now, rows) if filters["overdue"] else ~overdue(now, rows))
    if filters.get("likely_duplicate") is not None:
        flagged = open_case & rows.likely_duplicate_of.is_not(None)
        conditions.append(flagged if filters["likely_duplicate"] else ~flagged)
    if filters.get("no_lead") is not None:
        leaderless = open_case & ~exists().where(
            Task.case_id == rows.id, Task.role == "lead",
            Task.status.not_in(domain.ENDED_TASK_STATUSES))
        conditions.append(leaderless if filters["no_lead"] else ~leaderless)
    return rows, conditions


def list_cases(session, actor, filters, now, page, per_page):
    """(how many cases match, the cases of the page) of GET /cases, sorted by
    `filters["sort"]` (newest first by default), then by id.

    The page's ids come first, from the indexes alone; then only those cases are read (a
    later page skips the rows before it in an index, not in the table). The total counts
    `created_at`, which the board's indexes hold: PostgreSQL counts on one of them, never on
    an index of ids (in their random order, it reads the table's visibility map all over)."""
    rows, conditions = case_filters(actor, filters, now)
    area = counted_area(actor, filters)
    if area is None:
        total = session.scalar(select(func.count(rows.created_at)).where(*conditions))
    else:
        counts = kept_counts(session, area)
        total = counts.get(filters["status"], 0) if filters.get("status") else sum(counts.values())
    sort = filters.get("sort") or "newest"
    ids = session.scalars(select(rows.id).where(*conditions)
                          .order_by(*SORTS[sort](rows), rows.id)
                          .limit(per_page).offset((page - 1) * per_page)).all()
    cases = {case.id: case for case in session.scalars(select(Case).where(Case.id.in_(ids)))}
    return total, [cases[case_id] for case_id in ids]


# The filters the counts board.py keeps per area and status can answer (the others only
# choose the page).
COUNTED_FILTERS = {"status", "district", "regency"}
PAGING = {"sort", "page", "per_page"}
CODE_LENGTHS = {"regency": len("35.79"), "district": len("35.79.02")}
EVERYWHERE = "*"  # counted_area: every regency's counts, summed


def counted_area(actor, filters):
    """The area (a district or a regency) whose kept counts (models.CaseCount) say how many
    of the caller's cases the filters match; EVERYWHERE for the administrator's cases with no
    area asked for; "" when none can match (a district of another regency); None when the
    kept counts cannot say (another filter; a caller whose cases are not an area's: a village,
    an agency; a district or regency filter that is not a code of that level).

    The caller's area and the district or regency asked for are each within the other or the
    filters match nothing: the narrowest of them is the area."""
    given = {name for name, value in filters.items() if value not in (None, "")} - PAGING
    role = actor.get("role")
    if given - COUNTED_FILTERS or role not in (policy.COORDINATOR, policy.REGENCY, policy.ADMIN):
        return None
    if any(len(filters[name]) != length for name, length in CODE_LENGTHS.items()
           if name in given):  # not a code of that level: counting finds none
        return None
    codes = [filters[name] for name in ("regency", "district") if name in given]
    if role != policy.ADMIN:  # the administrator sees every case
        codes.append(actor.get("scope") or "")
    if not codes:
        return EVERYWHERE
    area = max(codes, key=len)
    return area if all(area == code or area.startswith(code + ".") for code in codes) else ""


def kept_counts(session, area):
    """{status: cases} of an area (of every regency: EVERYWHERE), as board.py keeps them."""
    if area == EVERYWHERE:
        return dict(session.execute(
            select(CaseCount.status, func.sum(CaseCount.cases))
            .where(func.length(CaseCount.area) == CODE_LENGTHS["regency"])
            .group_by(CaseCount.status)).all())
    return dict(session.execute(select(CaseCount.status, CaseCount.cases)
                                .where(CaseCount.area == area)).all())


def escalations(actor, page):
    """The filters of the escalations list: the open cases escalated to the caller's level
    (the regency office: to it; the others: to the district coordinator or further)."""
    level = "regency" if actor.get("role") == policy.REGENCY else "district"
    return {**page, "escalation_level": level, "open": True}


def summary(session, actor, now):
    """The coordinator's board in numbers: the caller's cases per status; the open ones
    overdue, escalated, per agency still working on them and per village (from the cases, or
    an agency's rows of them: board_rows)."""
    rows, mine = board_rows(actor)
    open_case = rows.status.not_in(domain.FINAL_STATUSES)
    area = counted_area(actor, {})
    by_status = kept_counts(session, area) if area is not None else dict(session.execute(
        select(rows.status, func.count()).where(*mine).group_by(rows.status)).all())
    villages = session.execute(
        select(rows.village_code, rows.village_name, func.count())
        .where(*mine, open_case).group_by(rows.village_code, rows.village_name)).all()
    agencies = session.execute(
        select(Task.agency_id, Task.agency_name, func.count(func.distinct(rows.id)))
        .join(rows, Task.case_id == rows.id)
        .where(*mine, open_case, Task.status.in_(domain.ACTIVE_TASK_STATUSES))
        .group_by(Task.agency_id, Task.agency_name)).all()
    overdue_count = session.scalar(select(func.count()).select_from(rows).where(
        *mine, overdue(now, rows)))
    escalated = session.scalar(select(func.count()).select_from(rows).where(
        *mine, open_case, rows.escalation_level > 0))
    return {
        "total": sum(by_status.values()),
        "open": sum(n for status, n in by_status.items()
                    if status not in domain.FINAL_STATUSES),
        "overdue": overdue_count, "escalated": escalated,
        "by_status": {status: by_status.get(status, 0) for status in domain.CASE_STATUSES},
        "by_agency": [{"id": a, "name": name, "open": n} for a, name, n in agencies],
        "by_village": [{"code": c, "name": name, "open": n} for c, name, n in villages],
    }


# -- the agencies' record -----------------------------------------------------------------------

def agency_records(session, actor, now, start, end):
    """How each agency answers the cases the caller sees, for the tasks given from `start` to
    `end`: received, accepted (and of those, in time), completed (in time), declined, and of
    those declined, referred (the case went on to another agency after); median hours from
    assignment to acceptance and to completion; and now: open tasks, and how many of them are
    past their current deadline. Agencies by name."""
    given = (visible_to(actor), Task.assigned_at >= start, Task.assigned_at < end)
    received = session.execute(
        select(Task.agency_id, Task.agency_name, Task.assigned_at, Task.accepted_at,
               Task.completed_at, Task.status, Task.accept_due_at, Task.due_at, Task.case_id,
               Task.declined_at)
        .join(Case, Task.case_id == Case.id).where(*given)).all()
    declined = (select(Task.case_id).join(Case, Task.case_id == Case.id)
                .where(*given, Task.status == domain.DECLINED))
    given_after = {}  # case -> [(agency, assigned_at)], of the cases with a task declined
    for case_id, agency_id, assigned_at in session.execute(
            select(Task.case_id, Task.agency_id, Task.assigned_at)
            .where(Task.case_id.in_(declined))):
        given_after.setdefault(case_id, []).append((agency_id, assigned_at))
    open_now = session.execute(
        select(Task.agency_id, Task.agency_name, func.count(),
               func.count(sql_case((current_deadline() < now, 1))))
        .join(Case, Task.case_id == Case.id)
        .where(visible_to(actor), Task.status.in_(domain.ACTIVE_TASK_STATUSES),
               Case.status.not_in(domain.FINAL_STATUSES))
        .group_by(Task.agency_id, Task.agency_name)).all()
    records = {}

    def record(agency_id, name):
        return records.setdefault(agency_id, {
            "agency": {"id": agency_id, "name": name}, "received": 0, "accepted": 0,
            "accepted_in_time": 0, "completed": 0, "completed_in_time": 0, "declined": 0,
            "referred": 0, "to_accept": [], "to_complete": [], "open": 0, "overdue": 0})

    for task in received:
        row = record(task.agency_id, task.agency_name)
        row["received"] += 1
        if task.status == domain.DECLINED:
            row["declined"] += 1
            row["referred"] += any(
                agency != task.agency_id and assigned >= task.declined_at
                for agency, assigned in given_after.get(task.case_id, ()))
        if task.accepted_at is not None:
            row["accepted"] += 1
            row["accepted_in_time"] += in_time(task.accepted_at, task.accept_due_at)
            row["to_accept"].append(hours(task.accepted_at - task.assigned_at))
        if task.completed_at is not None:
            row["completed"] += 1
            row["completed_in_time"] += in_time(task.completed_at, task.due_at)
            row["to_complete"].append(hours(task.completed_at - task.assigned_at))
    for agency_id, name, open_tasks, overdue_tasks in open_now:
        row = record(agency_id, name)
        row["open"], row["overdue"] = open_tasks, overdue_tasks
    for row in records.values():
        row["median_hours_to_accept"] = median_or_none(row.pop("to_accept"))
        row["median_hours_to_complete"] = median_or_none(row.pop("to_complete"))
        row["overdue_share"] = round(row["overdue"] / row["open"], 3) if row["open"] else 0.0
    return sorted(records.values(), key=lambda row: row["agency"]["name"])


def in_time(done_at, due_at):
    """Done by its deadline (a task given without one is always in time)."""
    return due_at is None or done_at <= due_at


def hours(delta):
    return delta.total_seconds() / 3600


def median_or_none(values):
    return round(median(values), 1) if values else None


# -- the timeline --------------------------------------------------------------------------------

def timeline_page(session, case_id, page, per_page):
    """(how many entries the case's timeline has, the entries of the page), oldest first."""
    of_case = TimelineEntry.case_id == case_id
    total = session.scalar(select(func.count()).select_from(TimelineEntry).where(of_case))
    entries = session.scalars(select(TimelineEntry).where(of_case).order_by(TimelineEntry.seq)
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return total, entries
