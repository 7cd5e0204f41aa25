"""The types of fact: every kind of thing that can happen to a case.

A fact (domain.Fact) is one entry of the case's timeline and, most often, one event. Its type
names it everywhere: in domain.py and ladder.py, which produce the facts, in texts.TIMELINE,
which says each in words, and in FACT_EVENTS below, which names the event that announces it.

A change of the case's status is told by a fact named as the status the case moved to
(domain.move): ROUTED, NEEDS_TRIAGE, IN_PROGRESS, RESOLVED, CLOSED, REOPENED and CANCELLED are
both a status and a type of fact. tests/unit/test_type_tables.py checks that every table keyed
by these types covers every one.
"""
from shared import events

# The village reported the problem: the case opened.
REPORTED = "reported"
# The case moved to another status (named as the status).
ROUTED = "routed"
NEEDS_TRIAGE = "needs_triage"
IN_PROGRESS = "in_progress"
RESOLVED = "resolved"
CLOSED = "closed"
REOPENED = "reopened"
CANCELLED = "cancelled"
# What an agency did with its task, and what a coordinator changed in who works on the case.
TASK_ACCEPTED = "task_accepted"
TASK_DECLINED = "task_declined"
TASK_PROGRESSED = "task_progressed"
TASK_COMPLETED = "task_completed"
TASK_WITHDRAWN = "task_withdrawn"
LEAD_CHANGED = "lead_changed"
# A party wrote a comment, or added a photo.
COMMENT = "comment"
PHOTO_ADDED = "photo_added"
# Duplicates: a new case looks like an open one; a case merged into another, and the other
# one's side of it.
LIKELY_DUPLICATE = "likely_duplicate"
MERGED_INTO = "merged_into"
MERGED_FROM = "merged_from"
# The clock (ladder.py): a missed deadline, a step up the ladder, an unanswered resolved case.
DEADLINE_MISSED = "deadline_missed"
ESCALATED = "escalated"
CLOSING_SOON = "closing_soon"
CLOSED_UNANSWERED = "closed_unanswered"

STATUS_CHANGES = (ROUTED, NEEDS_TRIAGE, IN_PROGRESS, RESOLVED, CLOSED, REOPENED, CANCELLED)
FACT_TYPES = (
    REPORTED, *STATUS_CHANGES,
    TASK_ACCEPTED, TASK_DECLINED, TASK_PROGRESSED, TASK_COMPLETED, TASK_WITHDRAWN, LEAD_CHANGED,
    COMMENT, PHOTO_ADDED, LIKELY_DUPLICATE, MERGED_INTO, MERGED_FROM,
    DEADLINE_MISSED, ESCALATED, CLOSING_SOON, CLOSED_UNANSWERED,
)

# The event that announces each fact. Three facts have none of their own: REPORTED (the new
# case is announced as case_opened, with the reporter), IN_PROGRESS (the task_accepted that
# set the case in progress is announced) and PHOTO_ADDED (a photo is seen on the case).
FACT_EVENTS = {
    ROUTED: events.CASE_ROUTED,
    NEEDS_TRIAGE: events.CASE_NEEDS_TRIAGE,
    TASK_ACCEPTED: events.TASK_ACCEPTED,
    TASK_DECLINED: events.TASK_DECLINED,
    TASK_PROGRESSED: events.TASK_PROGRESSED,
    TASK_COMPLETED: events.TASK_COMPLETED,
    RESOLVED: events.CASE_RESOLVED,
    CLOSED: events.CASE_CLOSED,
    REOPENED: events.CASE_REOPENED,
    COMMENT: events.COMMENT_ADDED,
    DEADLINE_MISSED: events.DEADLINE_MISSED,
    ESCALATED: events.CASE_ESCALATED,
    CLOSING_SOON: events.CASE_CLOSING_SOON,
    CLOSED_UNANSWERED: events.CASE_CLOSED,
    CANCELLED: events.CASE_CANCELLED,
    TASK_WITHDRAWN: events.TASK_WITHDRAWN,
    LEAD_CHANGED: events.LEAD_CHANGED,
    LIKELY_DUPLICATE: events.LIKELY_DUPLICATE,
    MERGED_INTO: events.CASE_MERGED,
    MERGED_FROM: events.DUPLICATE_MERGED,
}
UNANNOUNCED = (REPORTED, IN_PROGRESS, PHOTO_ADDED)
