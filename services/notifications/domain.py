"""Who hears of what happened to a case, in plain Python.

A recipient is a party, written `role:scope`: `village:35.79.02.2001`, `agency:pdam-batu`,
`coordinator:35.79.02`, `regency:35.79`. Each gets the message meant for its part in the case.
"""
from shared import events
from shared.policy import COORDINATOR, ENDED_TASK_STATUSES, REGENCY, party, party_of

ALWAYS_TOLD = {  # event type -> parties told, besides the agencies chosen below
    events.CASE_OPENED: ("village", "coordinator"),
    events.CASE_ROUTED: ("village", "coordinator"),
    events.CASE_NEEDS_TRIAGE: ("village", "coordinator"),
    events.TASK_ACCEPTED: ("village", "coordinator"),
    events.TASK_DECLINED: ("coordinator",),
    events.TASK_PROGRESSED: ("village", "coordinator"),
    events.TASK_COMPLETED: ("village", "coordinator"),
    events.CASE_RESOLVED: ("village", "coordinator"),
    events.CASE_REOPENED: ("coordinator",),
    events.CASE_CLOSED: ("village", "coordinator"),
    events.COMMENT_ADDED: ("village", "coordinator"),
    events.DEADLINE_MISSED: (),
    events.CASE_ESCALATED: ("coordinator",),
    events.CASE_CLOSING_SOON: ("village",),
    events.CASE_CANCELLED: ("village", "coordinator"),
    events.TASK_WITHDRAWN: ("village",),
    events.LEAD_CHANGED: ("village",),
    events.LIKELY_DUPLICATE: ("coordinator",),
    events.CASE_MERGED: ("village",),
    events.DUPLICATE_MERGED: ("village",),
}


def agencies_told(event_type, payload):
    """The agencies that hear of this event: those still working on the case (a declined or
    withdrawn task ends what its agency hears), and those this very event released."""
    tasks = payload["case"]["tasks"]
    working = [t["agency_id"] for t in tasks if t["status"] not in ENDED_TASK_STATUSES]
    if event_type in (events.CASE_ROUTED, events.CASE_CANCELLED, events.CASE_MERGED):
        return list(payload["agency_ids"])  # given the case, or released by its end
    if event_type in (events.CASE_RESOLVED, events.CASE_CLOSED):
        return [t["agency_id"] for t in tasks if t["status"] == "completed"]
    if event_type == events.CASE_REOPENED:
        return [t["agency_id"] for t in tasks if t["status"] == "pending"]
    if event_type in (events.COMMENT_ADDED, events.LEAD_CHANGED):
        return working
    if event_type in (events.DEADLINE_MISSED, events.CASE_ESCALATED, events.TASK_WITHDRAWN) \
            and payload.get("task"):
        return [payload["task"]["agency_id"]]
    return []


def recipients(event_type, payload):
    """[(party, audience)] for one case event; the party that acted is not told of its own act."""
    case = payload["case"]
    scopes = {"village": case["village"]["code"], "coordinator": case["district"]["code"],
              "regency": case["regency"]["code"]}
    roles = ALWAYS_TOLD.get(event_type, ())
    if event_type == events.CASE_ESCALATED and payload.get("level") == "regency":
        roles = roles + ("regency",)
    told = [(party(role, scopes[role]), role) for role in roles]
    told += [(party("agency", agency_id), "agency")
             for agency_id in dict.fromkeys(agencies_told(event_type, payload))]
    if event_type == events.CASE_OPENED:  # the village gets its receipt with the number
        return told
    author = party_of(payload["actor"]) if payload["actor"]["role"] != "system" else None
    return [(recipient, audience) for recipient, audience in told if recipient != author]


def may_announce(actor, area_code):
    """Whether the caller may send an announcement to every village of an area: a coordinator
    to its district; the regency office to its regency, or to one of its districts."""
    scope = actor.get("scope") or ""
    if actor.get("role") == COORDINATOR:
        return area_code == scope
    if actor.get("role") == REGENCY:
        return area_code == scope or (len(area_code) == 8 and area_code[:5] == scope)
    return False


def inboxes_of(actor):
    """The recipients whose notifications an actor reads: its party's, and its own (what it
    follows beyond its office's news)."""
    return (party_of(actor), f"actor:{actor['id']}")
