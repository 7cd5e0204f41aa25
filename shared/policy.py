"""Who may do what: the one access policy of Jembatan.

Two questions decide every request, always in this order (the gateway asks the first before
a request reaches a service; the services ask both again):

1. **May the caller's role do this at all?** `OPERATIONS` names, for every operation of the API,
   the roles that may call it (`PUBLIC`: anyone, without a token). A role that may not answers
   403 whatever the resource, so the answer says nothing about what exists.
2. **Is the resource in the caller's jurisdiction?** A village sees its own village's cases, a
   coordinator its district's, the regency office its regency's, an admin every case, and an
   agency a case while it has a task on it that is neither declined nor withdrawn. Anything
   else answers 404, exactly as if it did not exist.

`sees_case` is the rule as a Python predicate (for one case in hand); `case_visible` is the
same rule as a SQL condition (for lists and counts). tests/unit/test_policy.py checks that the
two agree on generated cases. The gateway takes each endpoint's roles from here, the OpenAPI
document publishes them, and the services check their actor through `require_case` before
every read and action: nothing else decides access.
"""
from sqlalchemy import and_, exists, false, true
from sqlalchemy.orm import aliased

from shared.errors import Forbidden, NotFound
from shared.i18n import text

VILLAGE, AGENCY, COORDINATOR = "village", "agency", "coordinator"
REGENCY, ADMIN = "regency", "admin"
ROLES = (VILLAGE, AGENCY, COORDINATOR, REGENCY, ADMIN)
PUBLIC = None
SIGNED_IN = ROLES
SUPERVISORS = (COORDINATOR, REGENCY)          # decide who works on a case of their area
OVERSEERS = (COORDINATOR, REGENCY, ADMIN)     # read escalations and the rules in force
MANAGERS = (REGENCY, ADMIN)                   # manage actors (a regency office: its own)
PARTIES = (VILLAGE, AGENCY, COORDINATOR, REGENCY)  # take part in a case's conversation

# Operation -> the roles that may call it. The gateway's endpoints are named by these keys.
OPERATIONS = {
    "health": PUBLIC,
    "categories.list": PUBLIC,
    "openapi": PUBLIC,
    "public.record": PUBLIC,
    "public.record_csv": PUBLIC,
    "public.cases": PUBLIC,
    "public.cases_csv": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": SIGNED_IN,
    "me.read": SIGNED_IN,
    "me.password": SIGNED_IN,
    "me.channels": SIGNED_IN,
    "preferences.read": PARTIES,
    "preferences.update": PARTIES,
    "subscriptions.list": SUPERVISORS,
    "subscriptions.create": SUPERVISORS,
    "subscriptions.delete": SUPERVISORS,
    "webhooks.list": SIGNED_IN,
    "webhooks.create": PARTIES,
    "webhooks.delete": SIGNED_IN,
    "announcements.list": (VILLAGE,) + OVERSEERS,
    "announcements.create": SUPERVISORS,
    "announcements.read": (VILLAGE,) + OVERSEERS,
    "announcements.remind": SUPERVISORS,
    "deliveries.list": (ADMIN,),
    "deliveries.retry": (ADMIN,),
    "villages.list": SIGNED_IN,
    "reports.create": (VILLAGE,),
    "cases.list": SIGNED_IN,
    "cases.summary": SIGNED_IN,
    "cases.read": SIGNED_IN,
    "cases.timeline": SIGNED_IN,
    "cases.comment": PARTIES,
    "cases.attach": PARTIES,
    "attachments.read": SIGNED_IN,
    "attachments.thumbnail": SIGNED_IN,
    "cases.confirm": (VILLAGE,),
    "cases.reopen": (VILLAGE,),
    "cases.route": SUPERVISORS,
    "cases.escalate": (COORDINATOR,),
    "cases.cancel": SUPERVISORS,
    "cases.merge": SUPERVISORS,
    "tasks.accept": (AGENCY,),
    "tasks.decline": (AGENCY,),
    "tasks.progress": (AGENCY,),
    "tasks.complete": (AGENCY,),
    "tasks.withdraw": SUPERVISORS,
    "tasks.lead": SUPERVISORS,
    "escalations.list": OVERSEERS,
    "notifications.list": SIGNED_IN,
    "notifications.read": SIGNED_IN,
    "notifications.read_all": SIGNED_IN,
    "agencies.list": SIGNED_IN,
    "agencies.records": OVERSEERS,
    "agencies.records_csv": OVERSEERS,
    "musrenbang.read": OVERSEERS,
    "musrenbang.csv": OVERSEERS,
    "musrenbang.pdf": OVERSEERS,
    "musrenbang.propose": (COORDINATOR,),
    "musrenbang.withdraw": (COORDINATOR,),
    "routing.rules": OVERSEERS,
    "routing.preview": SIGNED_IN,
    "actors.list": MANAGERS,
    "actors.create": MANAGERS,
    "actors.read": MANAGERS,
    "actors.disable": MANAGERS,
    "actors.enable": MANAGERS,
    "actors.password": MANAGERS,
    "actors.token": MANAGERS,
    "actors.channels": MANAGERS,
    "tokens.revoke": MANAGERS,
    "audit.list": (ADMIN,),
}

# A task that is declined or withdrawn no longer counts: its agency no longer sees the case.
ENDED_TASK_STATUSES = ("declined", "withdrawn")


def roles_of(operation):
    """The roles that may call `operation` (None: anyone, without a token)."""
    return OPERATIONS[operation]


def role_may(role, operation):
    roles = OPERATIONS[operation]
    return roles is PUBLIC or role in roles


def forbidden():
    return Forbidden(text("Peran Anda tidak boleh melakukan ini.", "Your role may not do this."))


def case_not_found():
    return NotFound(text("Kasus tidak ditemukan.", "Case not found."))


def require_role(actor, operation):
    if not role_may(actor.get("role"), operation):
        raise forbidden()


# -- jurisdiction ---------------------------------------------------------------------------

def sees_place(actor, village_code, district_code, regency_code):
    """Whether a place is in the caller's area: its village, district or regency (an agency:
    the regency it serves; an admin: everywhere)."""
    role, scope = actor.get("role"), actor.get("scope")
    if role == ADMIN:
        return True
    if role == AGENCY:
        return actor.get("regency") is not None and actor.get("regency") == regency_code
    return {VILLAGE: village_code, COORDINATOR: district_code,
            REGENCY: regency_code}.get(role, object()) == scope


def sees_case(actor, case):
    """Whether the caller sees `case` (any object with the codes of its place and its tasks)."""
    if actor.get("role") == AGENCY:
        return any(task.agency_id == actor.get("scope")
                   and task.status not in ENDED_TASK_STATUSES for task in case.tasks)
    return sees_place(actor, case.village_code, case.district_code, case.regency_code)


def case_visible(actor, case_table, task_table):
    """`sees_case` as a SQL condition on a case table (and the table of its tasks)."""
    role, scope = actor.get("role"), actor.get("scope")
    if role == ADMIN:
        return true()
    if role == AGENCY:  # its own alias of the tasks: the query may join the tasks too
        task = aliased(task_table)
        return exists().where(and_(task.case_id == case_table.id, task.agency_id == scope,
                                   task.status.not_in(ENDED_TASK_STATUSES)))
    column = {VILLAGE: case_table.village_code, COORDINATOR: case_table.district_code,
              REGENCY: case_table.regency_code}.get(role)
    return false() if column is None else column == scope


def require_case(actor, operation, case):
    """The case, if the caller may do `operation` on it: 404 when it does not exist or is
    outside the caller's jurisdiction, 403 when the caller's role may not do it."""
    if case is None or not sees_case(actor, case):
        raise case_not_found()
    require_role(actor, operation)
    return case


def party(role, scope):
    """A party, `role:scope` (`village:35.79.02.2001`, `agency:pdam-batu`): whom a
    notification is sent to."""
    return f"{role}:{scope}"


def party_of(actor):
    """The party whose notifications an actor reads: its own role and scope."""
    return party(actor["role"], actor.get("scope") or "*")


def manages_actor(manager, actor_regency, actor_role):
    """Whether a manager may see and change an actor: an admin every one; a regency office the
    actors of its own regency, never an admin."""
    if manager.get("role") == ADMIN:
        return True
    return (manager.get("role") == REGENCY and actor_role != ADMIN
            and actor_regency is not None and actor_regency == manager.get("scope"))


def actors_managed(manager, actor_table):
    """`manages_actor` as a SQL condition on the actors table."""
    if manager.get("role") == ADMIN:
        return true()
    if manager.get("role") != REGENCY:
        return false()
    return and_(actor_table.regency_code == manager.get("scope"), actor_table.role != ADMIN)


NO_REGENCY = "-"  # matches no regency code


def rules_regency(actor):
    """Whose routing rules the caller reads: its regency's (None: an admin reads them all; an
    actor of no regency, none)."""
    return None if actor.get("role") == ADMIN else actor.get("regency") or NO_REGENCY
