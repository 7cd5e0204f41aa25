"""Tables of the requests service: cases, their tasks per agency, the timeline, comments."""
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, synonym

from services.requests.domain import ACTIVE_TASK_STATUSES, FINAL_STATUSES
from shared.db import UTCDateTime, messaging_tables
from shared.lease import lease_table


class Base(DeclarativeBase):
    pass


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(20), unique=True)
    # (active_history: a change of status always knows the status it leaves, for board.py's
    # counts per status)
    status: Mapped[str] = mapped_column(String(20), index=True, active_history=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(10))
    affected_people: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    village_code: Mapped[str] = mapped_column(String(13))
    village_name: Mapped[str] = mapped_column(String(100))
    district_code: Mapped[str] = mapped_column(String(8))
    district_name: Mapped[str] = mapped_column(String(100))
    regency_code: Mapped[str] = mapped_column(String(5))
    regency_name: Mapped[str] = mapped_column(String(100))
    reporter_id: Mapped[str] = mapped_column(String(36))
    reporter_name: Mapped[str] = mapped_column(String(200))
    rule_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    explanation = mapped_column(JSON, nullable=True)
    created_at = mapped_column(UTCDateTime, nullable=False, index=True)
    updated_at = mapped_column(UTCDateTime, nullable=False)
    # 0: none, 1: the district coordinator, 2: the regency office (Kantor Bupati/Walikota)
    escalation_level: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                                  server_default="0", index=True)
    resolved_at = mapped_column(UTCDateTime, nullable=True)
    closing_warned_at = mapped_column(UTCDateTime, nullable=True)
    # An open case of the same village and category when this one came in; the case this one
    # was merged into.
    likely_duplicate_of: Mapped[str | None] = mapped_column(String(36), nullable=True)
    merged_into: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # A complaint about an official (commands.ReportInput): never public.
    confidential: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                               server_default=false())
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # The earliest current deadline of its tasks (ladder.current_deadline), or none: what the
    # `deadline` sort orders by. Kept by board.py, never set by hand.
    next_deadline_at = mapped_column(UTCDateTime, nullable=True)

    tasks = relationship("Task", order_by="Task.assigned_at", lazy="selectin",
                         back_populates="case")
    # Read only where a case is shown whole (views.case_view), so loaded when first used.
    photos = relationship("Photo", order_by="Photo.added_at", lazy="select")

    __mapper_args__ = {"version_id_col": version}


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    agency_id: Mapped[str] = mapped_column(String(64))
    agency_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), index=True)
    assigned_at = mapped_column(UTCDateTime, nullable=False)
    accept_due_at = mapped_column(UTCDateTime, nullable=True)
    due_at = mapped_column(UTCDateTime, nullable=True, index=True)
    accepted_at = mapped_column(UTCDateTime, nullable=True)
    completed_at = mapped_column(UTCDateTime, nullable=True)
    declined_at = mapped_column(UTCDateTime, nullable=True)
    last_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Steps of the escalation ladder taken for the task's current deadline (0 to 3).
    ladder_step: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                             server_default="0")
    # The deadlines as routing's policy wrote them ("3wd", "6h"), set again on a reopen.
    accept_within: Mapped[str | None] = mapped_column(String(8), nullable=True)
    resolve_within: Mapped[str | None] = mapped_column(String(8), nullable=True)

    case = relationship("Case", back_populates="tasks")


class AgencyCase(Base):
    """A case as the lists of one agency read it: one row per agency that has (or had) a task
    on the case, with whether it sees the case, which agencies have (or had) a task on it, and
    the case's columns the board filters and sorts by. Kept by board.py, in
    the transaction that changes the case or its tasks, from them alone: never written by
    hand. It lets an agency's cases (and the `agency` filter) be found, counted and paged in
    each sort's order from an index of the agency's own rows, instead of matching its tasks
    against every case of its regency."""

    __tablename__ = "agency_cases"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                         primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The agency sees the case (shared.policy.sees_case): it has a task on it not ended.
    sees: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # Every agency that has (or had) a task on the case, ",a,b,": the `agency` filter of an
    # agency's own list, without meeting the other agency's rows.
    agencies: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(40))
    village_code: Mapped[str] = mapped_column(String(13))
    village_name: Mapped[str] = mapped_column(String(100))
    district_code: Mapped[str] = mapped_column(String(8))
    regency_code: Mapped[str] = mapped_column(String(5))
    escalation_level: Mapped[int] = mapped_column(Integer, nullable=False)
    likely_duplicate_of: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at = mapped_column(UTCDateTime, nullable=False)
    updated_at = mapped_column(UTCDateTime, nullable=False)
    next_deadline_at = mapped_column(UTCDateTime, nullable=True)

    id = synonym("case_id")  # the case's: a query reads these rows as it reads cases


class CaseCount(Base):
    """How many cases an area, a district or a regency, has in each status: what the board's
    totals and the summary's counts per status read instead of counting the cases of a
    regency one by one. Kept by board.py, in the transaction that opens a case or changes its
    status; never written by hand."""

    __tablename__ = "case_counts"

    area: Mapped[str] = mapped_column(String(8), primary_key=True)  # a district or regency code
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, nullable=False)


# The columns of a case an agency's row copies (board.py).
AGENCY_CASE_COLUMNS = ("status", "category", "village_code", "village_name", "district_code",
                       "regency_code", "escalation_level", "likely_duplicate_of", "created_at",
                       "updated_at", "next_deadline_at")


class MusrenbangProposal(Base):
    """An issue of a district (a category of its villages' cases) that its coordinator puts
    forward to the Musrenbang kecamatan of a year (usulan), with a note: musrenbang.py."""

    __tablename__ = "musrenbang_proposals"

    district_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    note: Mapped[str] = mapped_column(Text)
    proposed_by_id: Mapped[str] = mapped_column(String(36))
    proposed_by_name: Mapped[str] = mapped_column(String(200))
    proposed_at = mapped_column(UTCDateTime, nullable=False)


class MusrenbangChange(Base):
    """Each proposal of an issue to a year's Musrenbang, and each withdrawal: who, when, with
    which note; written in the transaction that changes musrenbang_proposals."""

    __tablename__ = "musrenbang_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    district_code: Mapped[str] = mapped_column(String(8), index=True)
    year: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(10))  # proposed, withdrawn
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor_id: Mapped[str] = mapped_column(String(36))
    actor_name: Mapped[str] = mapped_column(String(200))
    at = mapped_column(UTCDateTime, nullable=False)


class Photo(Base):
    """A photo of the case (its bytes are in the gateway's storage, under the same id)."""

    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    added_at = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_name: Mapped[str] = mapped_column(String(200))


class TimelineEntry(Base):
    __tablename__ = "timeline"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    at = mapped_column(UTCDateTime, nullable=False)
    type: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_name: Mapped[str] = mapped_column(String(200))
    data = mapped_column(JSON, nullable=False)


# The indexes of the coordinator's board (queries.py) for a history of a million cases
# (docs/decisions/0010): for the cases of a district (the coordinator's) and of a regency (the
# regency office's), one per filter and sort of the list, and their cases still open (what most
# of the board is about), each holding what its count and its page need (PostgreSQL answers
# from the index alone), the `deadline` sort's by the case's next deadline; the cases of a
# village; the tasks of a case, of an agency, being worked on; an agency's rows (AgencyCase) in
# the order of each sort.
def board_indexes(scope):
    cases = Case.__table__.c
    named = scope.removesuffix("_code")
    area = cases[scope]
    return [
        Index(f"ix_cases_{named}_created", area, cases.created_at, cases.id,
              postgresql_include=["regency_code"] if scope == "district_code" else []),
        Index(f"ix_cases_{named}_status", area, cases.status, cases.created_at, cases.id),
        Index(f"ix_cases_{named}_category", area, cases.category, cases.created_at, cases.id),
        Index(f"ix_cases_{named}_updated", area, cases.updated_at, cases.id),
        Index(f"ix_cases_{named}_escalation", area, cases.escalation_level.desc(),
              cases.created_at, cases.id),
        Index(f"ix_cases_{named}_deadline", area, cases.next_deadline_at, cases.id),
    ]


# An agency's rows (its own lists: `sees`; the `agency` filter: all), in the order of each sort,
# each holding what the filters need (PostgreSQL answers a count or a page from the index); and
# its rows of cases still open.
AGENCY_CASE_FILTERED = ["sees", "status", "category", "village_code", "district_code",
                        "regency_code", "escalation_level", "likely_duplicate_of", "agencies"]


def agency_case_indexes():
    rows = AgencyCase.__table__.c
    open_row = rows.status.not_in(FINAL_STATUSES)
    return [
        # its cases still open (the summary, the overdue, duplicate and leaderless filters)
        Index("ix_agency_cases_open", rows.agency_id, rows.village_code,
              postgresql_include=["case_id", "sees", "status", "category", "escalation_level",
                                  "created_at", "updated_at", "likely_duplicate_of",
                                  "village_name"],
              postgresql_where=open_row, sqlite_where=open_row),
        *(Index(f"ix_agency_cases_{named}", rows.agency_id, *columns, rows.case_id,
                postgresql_include=[c for c in AGENCY_CASE_FILTERED if c not in included])
          for named, columns, included in (
              ("created", (rows.created_at,), ()),
              ("updated", (rows.updated_at,), ()),
              ("escalation", (rows.escalation_level.desc(), rows.created_at),
               ("escalation_level",)),
              ("deadline", (rows.next_deadline_at,), ()),
          )),
    ]


OPEN = Case.status.not_in(FINAL_STATUSES)
WORKED_ON = Task.status.in_(ACTIVE_TASK_STATUSES)
BOARD_INDEXES = [
    *board_indexes("district_code"), *board_indexes("regency_code"),
    Index("ix_cases_village_created", Case.village_code, Case.created_at, Case.id,
          postgresql_include=["district_code", "regency_code"]),
    *(Index(f"ix_cases_open_{named}", *columns,
            postgresql_include=["id", "status", "category", "escalation_level", "created_at",
                                "updated_at", "likely_duplicate_of", "village_name"],
            postgresql_where=OPEN, sqlite_where=OPEN)
      for named, columns in (("regency", (Case.regency_code, Case.village_code)),
                             ("district", (Case.district_code, Case.village_code)))),
    Index("ix_tasks_case", Task.case_id, postgresql_include=["agency_id", "role", "status"]),
    Index("ix_tasks_agency_case", Task.agency_id, Task.case_id, postgresql_include=["status"]),
    Index("ix_tasks_active", Task.case_id,
          postgresql_include=["agency_id", "agency_name", "role", "status", "accept_due_at",
                              "due_at"],
          postgresql_where=WORKED_ON, sqlite_where=WORKED_ON),
    *agency_case_indexes(),
]

OUTBOX, PROCESSED_EVENTS = messaging_tables(Base.metadata)
LEASES = lease_table(Base.metadata)

# Keeps cases.next_deadline_at and agency_cases in step with the cases and tasks (after every
# flush of a session that wrote some): imported with the tables, so no session can miss it.
from services.requests import board  # noqa: E402,F401
