"""The life of a case and its tasks (services/requests/domain.py), one rule per test.

Plain Python: stand-ins for the case and task rows (tests/unit/standins.py), no broker, no
database.
"""
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from services.requests import domain
from services.requests.domain import (
    ACCEPTED, CANCELLED, CASE_STATUSES, CLOSED, COMPLETED, DECLINED, IN_PROGRESS, NEEDS_TRIAGE,
    PENDING, REOPENED, REPORTED, RESOLVED, ROUTED, SYSTEM, WITHDRAWN, Fact, accept_task, comment,
    complete_task, confirm, decline_task, needs_triage, reopen, report_progress, route,
)
from services.requests import ladder
from services.requests.ladder import is_overdue
from services.requests.texts import TIMELINE
from tests.unit.standins import T0, Case, Task
from shared import policy
from shared.errors import Conflict, Forbidden, JembatanError, NotFound, ValidationFailed

# -- Kota Batu, its agencies and its people ------------------------------------------------------

BATU_CITY, BUMIAJI, PUNTEN = "35.79", "35.79.02", "35.79.02.2001"
BATU_DISTRICT, SUMBEREJO = "35.79.01", "35.79.01.2005"
AGENCY_NAMES = {"pdam-batu": "PDAM", "pupr-batu": "Dinas PUPR", "bpbd-batu": "BPBD",
                "dlh-batu": "DLH"}

NOW = T0 + timedelta(hours=2)

VILLAGE = {"id": "u-punten", "role": "village", "name": "Sekdes Punten", "scope": PUNTEN}
OTHER_VILLAGE = {"id": "u-sumberejo", "role": "village", "name": "Sekdes Sumberejo",
                 "scope": SUMBEREJO}
COORDINATOR = {"id": "u-bumiaji", "role": "coordinator", "name": "Kasi Bumiaji", "scope": BUMIAJI}
OTHER_COORDINATOR = {"id": "u-batu", "role": "coordinator", "name": "Kasi Batu",
                     "scope": BATU_DISTRICT}
REGENCY = {"id": "u-pemkot", "role": "regency", "name": "Kantor Walikota", "scope": BATU_CITY}
OTHER_REGENCY = {"id": "u-malang", "role": "regency", "name": "Kantor Bupati Malang",
                 "scope": "35.07"}
ADMIN = {"id": "u-admin", "role": "admin", "name": "Admin", "scope": None}
ROUTING = {"id": "routing", "role": "system", "name": "Jembatan", "scope": None}  # the rule engine


def agency(agency_id):
    return {"id": f"officer-{agency_id}", "role": "agency",
            "name": f"Petugas {AGENCY_NAMES[agency_id]}", "scope": agency_id}


PDAM, PUPR, BPBD = agency("pdam-batu"), agency("pupr-batu"), agency("bpbd-batu")


# -- stand-ins -----------------------------------------------------------------------------------

class TaskFactory:
    """The `new_task(**fields)` the service gives route(): numbered task ids."""

    def __init__(self):
        self.made = 0

    def __call__(self, **fields):
        self.made += 1
        return Task(id=f"task-{self.made}", **fields)


def plan(agency_id, role="lead", accept_hours=4, resolve_hours=48, at=T0):
    return {"agency_id": agency_id, "agency_name": AGENCY_NAMES[agency_id], "role": role,
            "accept_due_at": at + timedelta(hours=accept_hours),
            "due_at": at + timedelta(hours=resolve_hours)}


def task(agency_id, role="lead", status=PENDING, due_at=T0 + timedelta(hours=48),
         accept_due_at=T0 + timedelta(hours=4)):
    return Task(id=f"task-{agency_id}", agency_id=agency_id, agency_name=AGENCY_NAMES[agency_id],
                role=role, status=status, assigned_at=T0,
                accept_due_at=accept_due_at, due_at=due_at)


def case_with(status, *tasks):
    return Case(status=status, tasks=list(tasks))


def routed_case(lead="pdam-batu", *supports):
    """A new case routed by the rule engine: the lead, then the supports, all pending."""
    case = Case()
    route(case, [plan(lead, "lead")] + [plan(s, "support") for s in supports], ROUTING, T0,
          TaskFactory(), rule_id="batu-air", explanation={"id": "x", "en": "x"})
    return case


def task_of(case, agency_id):
    [found] = [t for t in case.tasks if t.agency_id == agency_id]
    return found


def types(facts):
    return [fact.type for fact in facts]


def refused(error_class, action, *args, **kwargs):
    """Run an action that must be refused with exactly this error class (a bilingual message)."""
    with pytest.raises(JembatanError) as caught:
        action(*args, **kwargs)
    assert type(caught.value) is error_class, caught.value
    assert set(caught.value.message) == {"id", "en"}
    return caught.value


def snapshot(case):
    return (case.status, case.updated_at, case.rule_id, case.explanation,
            [dict(vars(t)) for t in case.tasks])


# -- route ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("start", [REPORTED, NEEDS_TRIAGE])
def test_routing_a_new_or_untriaged_case_makes_it_routed(start):
    case = Case(status=start)
    explanation = {"id": "Aturan ...", "en": "Rule ..."}
    facts = route(case, [plan("pdam-batu", "lead"), plan("pupr-batu", "support")], COORDINATOR,
                  NOW, TaskFactory(), rule_id="batu-air", explanation=explanation, note="segera")
    assert case.status == ROUTED
    assert case.updated_at == NOW
    assert case.rule_id == "batu-air" and case.explanation == explanation
    assert [(t.id, t.agency_id, t.agency_name, t.role, t.status, t.assigned_at)
            for t in case.tasks] == [
        ("task-1", "pdam-batu", "PDAM", "lead", PENDING, NOW),
        ("task-2", "pupr-batu", "Dinas PUPR", "support", PENDING, NOW)]
    assert case.tasks[0].accept_due_at == T0 + timedelta(hours=4)
    assert case.tasks[0].due_at == T0 + timedelta(hours=48)
    assert facts == [Fact("routed", COORDINATOR, {
        "rule_id": "batu-air", "explanation": explanation, "note": "segera",
        "agencies": ["pdam-batu", "pupr-batu"], "from": start, "to": ROUTED})]


@pytest.mark.parametrize("start", [ROUTED, IN_PROGRESS, REOPENED])
def test_routing_a_case_already_with_agencies_keeps_its_status(start):
    case = case_with(start, task("pdam-batu", "lead", ACCEPTED if start == IN_PROGRESS else PENDING))
    facts = route(case, [plan("bpbd-batu", "support")], COORDINATOR, NOW, TaskFactory())
    assert case.status == start
    assert [t.agency_id for t in case.tasks] == ["pdam-batu", "bpbd-batu"]
    assert types(facts) == ["routed"]
    assert facts[0].data["from"] == start and facts[0].data["to"] == start
    assert facts[0].data["agencies"] == ["bpbd-batu"]


@pytest.mark.parametrize("start", [RESOLVED, CLOSED, CANCELLED])
def test_a_resolved_closed_or_cancelled_case_cannot_be_routed(start):
    case = case_with(start, task("pdam-batu", "lead", COMPLETED))
    before = snapshot(case)
    refused(Conflict, route, case, [plan("pupr-batu", "lead")], COORDINATOR, NOW, TaskFactory())
    assert snapshot(case) == before


def test_routing_only_to_agencies_already_at_work_is_refused():
    case = case_with(IN_PROGRESS, task("pdam-batu", "lead", ACCEPTED),
                     task("pupr-batu", "support", PENDING))
    before = snapshot(case)
    error = refused(Conflict, route, case, [plan("pdam-batu", "lead"), plan("pupr-batu", "support")],
                    COORDINATOR, NOW, TaskFactory())
    assert error.message["en"] == "Every one of those agencies already works on this case."
    assert snapshot(case) == before


def test_routing_adds_only_the_agencies_not_already_at_work():
    case = case_with(ROUTED, task("pdam-batu", "lead"))
    facts = route(case, [plan("pdam-batu", "lead"), plan("bpbd-batu", "support")], COORDINATOR,
                  NOW, TaskFactory())
    assert [t.agency_id for t in case.tasks] == ["pdam-batu", "bpbd-batu"]
    assert types(facts) == ["routed"]
    assert facts[0].data["agencies"] == ["bpbd-batu"]
    # Naming the current lead again keeps it the lead (it is not demoted to support).
    assert {t.agency_id: t.role for t in case.tasks} == {
        "pdam-batu": "lead", "bpbd-batu": "support"}
    assert case.status == ROUTED and facts[0].data["to"] == ROUTED


def test_an_agency_that_declined_can_be_given_the_case_again():
    case = case_with(NEEDS_TRIAGE, task("pdam-batu", "lead", DECLINED))
    route(case, [plan("pdam-batu", "lead")], COORDINATOR, NOW, TaskFactory())
    assert [(t.agency_id, t.status) for t in case.tasks] == [
        ("pdam-batu", DECLINED), ("pdam-batu", PENDING)]
    assert case.status == ROUTED


def test_a_new_lead_demotes_the_existing_lead_to_support():
    case = case_with(IN_PROGRESS, task("pdam-batu", "lead", ACCEPTED),
                     task("pupr-batu", "support", PENDING))
    route(case, [plan("bpbd-batu", "lead")], REGENCY, NOW, TaskFactory())
    assert {t.agency_id: t.role for t in case.tasks} == {
        "pdam-batu": "support", "pupr-batu": "support", "bpbd-batu": "lead"}


def test_adding_a_support_keeps_the_existing_lead():
    case = case_with(ROUTED, task("pdam-batu", "lead"))
    route(case, [plan("bpbd-batu", "support")], REGENCY, NOW, TaskFactory())
    assert {t.agency_id: t.role for t in case.tasks} == {"pdam-batu": "lead", "bpbd-batu": "support"}


def test_a_case_never_has_two_active_leads_after_a_new_lead_and_a_reopen():
    case = routed_case("pdam-batu", "pupr-batu")
    accept_task(case, task_of(case, "pdam-batu"), PDAM, NOW)
    complete_task(case, task_of(case, "pdam-batu"), PDAM, NOW, "pipa diganti")
    route(case, [plan("bpbd-batu", "lead")], COORDINATOR, NOW, TaskFactory())   # new lead
    for officer, agency_id in ((PUPR, "pupr-batu"), (BPBD, "bpbd-batu")):
        accept_task(case, task_of(case, agency_id), officer, NOW)
        complete_task(case, task_of(case, agency_id), officer, NOW, "selesai")
    assert case.status == RESOLVED
    reopen(case, VILLAGE, NOW, "air masih keruh", lambda t: (t.accept_due_at, t.due_at))
    leads = [t.agency_id for t in domain.active_tasks(case) if t.role == "lead"]
    assert leads == ["bpbd-batu"]


# -- needs triage --------------------------------------------------------------------------------

def test_a_new_case_without_a_rule_goes_to_triage():
    case = Case()
    explanation = {"id": "Tidak ada aturan", "en": "No rule"}
    facts = needs_triage(case, explanation, NOW)
    assert case.status == NEEDS_TRIAGE
    assert case.explanation == explanation
    assert case.updated_at == NOW
    assert facts == [Fact("needs_triage", SYSTEM,
                          {"from": REPORTED, "to": NEEDS_TRIAGE, "reason": explanation})]


@pytest.mark.parametrize("start", [s for s in CASE_STATUSES if s != REPORTED])
def test_only_a_new_case_goes_to_triage_automatically(start):
    case = Case(status=start)
    refused(Conflict, needs_triage, case, {"id": "x", "en": "x"}, NOW)
    assert case.status == start and case.explanation is None


# -- accept --------------------------------------------------------------------------------------

def test_accepting_a_pending_task_records_it_and_the_first_accept_starts_the_work():
    case = routed_case("pdam-batu", "pupr-batu")
    lead = task_of(case, "pdam-batu")
    facts = accept_task(case, lead, PDAM, NOW, note="tim berangkat")
    assert (lead.status, lead.accepted_at, lead.last_note) == (ACCEPTED, NOW, "tim berangkat")
    assert case.status == IN_PROGRESS and case.updated_at == NOW
    assert types(facts) == ["task_accepted", "in_progress"]
    assert facts[0] == Fact("task_accepted", PDAM, {"note": "tim berangkat"}, lead)
    assert facts[1].actor == SYSTEM
    assert facts[1].data == {"from": ROUTED, "to": IN_PROGRESS}


def test_a_second_accept_does_not_start_the_work_again():
    case = routed_case("pdam-batu", "pupr-batu")
    accept_task(case, task_of(case, "pdam-batu"), PDAM, NOW)
    facts = accept_task(case, task_of(case, "pupr-batu"), PUPR, NOW)
    assert types(facts) == ["task_accepted"]
    assert case.status == IN_PROGRESS


def test_accepting_after_a_reopen_puts_the_case_back_in_progress():
    case = case_with(REOPENED, task("pdam-batu", "lead", PENDING))
    facts = accept_task(case, case.tasks[0], PDAM, NOW)
    assert types(facts) == ["task_accepted", "in_progress"]
    assert case.status == IN_PROGRESS


@pytest.mark.parametrize("status, error", [
    (ACCEPTED, Conflict), (COMPLETED, Conflict),
    (DECLINED, NotFound),   # its only task declined: PDAM no longer sees the case
])
def test_only_a_pending_task_can_be_accepted(status, error):
    case = case_with(IN_PROGRESS, task("pdam-batu", "lead", status),
                     task("pupr-batu", "support", PENDING))
    before = snapshot(case)
    refused(error, accept_task, case, case.tasks[0], PDAM, NOW)
    assert snapshot(case) == before


@pytest.mark.parametrize("final", [CLOSED, CANCELLED])
def test_no_task_is_accepted_on_a_closed_or_cancelled_case(final):
    case = case_with(final, task("pdam-batu", "lead", PENDING))
    error = refused(Conflict, accept_task, case, case.tasks[0], PDAM, NOW)
    assert case.tasks[0].status == PENDING and case.status == final
    assert error.message["en"].startswith("The case is already")


# -- decline -------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [PENDING, ACCEPTED])
def test_a_pending_or_accepted_task_can_be_declined(status):
    case = case_with(IN_PROGRESS, task("pdam-batu", "lead", status),
                     task("pupr-batu", "support", ACCEPTED))
    lead = case.tasks[0]
    facts = decline_task(case, lead, PDAM, NOW, "bukan wewenang kami")
    assert (lead.status, lead.declined_at, lead.last_note) == (DECLINED, NOW, "bukan wewenang kami")
    assert facts[0] == Fact("task_declined", PDAM, {"reason": "bukan wewenang kami"}, lead)
    # Changed on purpose: the lead declined while PUPR still works, so nobody leads any more and
    # the case goes to the coordinator's triage at once (it used to stay in progress).
    assert types(facts) == ["task_declined", "needs_triage"]
    assert case.status == NEEDS_TRIAGE


@pytest.mark.parametrize("status, error", [
    (COMPLETED, Conflict),
    (DECLINED, NotFound),   # its only task declined: PDAM no longer sees the case
])
def test_a_completed_or_declined_task_cannot_be_declined(status, error):
    case = case_with(IN_PROGRESS, task("pdam-batu", "lead", status),
                     task("pupr-batu", "support", ACCEPTED))
    before = snapshot(case)
    refused(error, decline_task, case, case.tasks[0], PDAM, NOW, "tidak")
    assert snapshot(case) == before


@pytest.mark.parametrize("final", [CLOSED, CANCELLED])
def test_no_task_is_declined_on_a_closed_or_cancelled_case(final):
    case = case_with(final, task("pdam-batu", "lead", ACCEPTED))
    refused(Conflict, decline_task, case, case.tasks[0], PDAM, NOW, "tidak")
    assert case.tasks[0].status == ACCEPTED


# -- progress ------------------------------------------------------------------------------------

def test_progress_is_posted_on_an_accepted_task():
    case = case_with(IN_PROGRESS, task("pdam-batu", "lead", ACCEPTED))
    facts = report_progress(case, case.tasks[0], PDAM, NOW, "pipa sedang diganti")
    assert case.tasks[0].last_note == "pipa sedang diganti"
    assert case.tasks[0].status == ACCEPTED and case.status == IN_PROGRESS
    assert case.updated_at == NOW
    assert facts == [Fact("task_progressed", PDAM, {"note": "pipa sedang diganti"},
                          case.tasks[0])]


@pytest.mark.parametrize("status, error", [
    (PENDING, Conflict), (COMPLETED, Conflict),
    (DECLINED, NotFound),   # its only task declined: PDAM no longer sees the case
])
def test_progress_only_on_an_accepted_task(status, error):
    case = case_with(IN_PROGRESS, task("pdam-batu", "lead", status),
                     task("pupr-batu", "support", ACCEPTED))
    before = snapshot(case)
    refused(error, report_progress, case, case.tasks[0], PDAM, NOW, "catatan")
    assert snapshot(case) == before


@pytest.mark.parametrize("final", [CLOSED, CANCELLED])
def test_no_progress_on_a_closed_or_cancelled_case(final):
    case = case_with(final, task("pdam-batu", "lead", ACCEPTED))
    refused(Conflict, report_progress, case, case.tasks[0], PDAM, NOW, "catatan")


# -- complete ------------------------------------------------------------------------------------

def test_completing_one_task_of_several_keeps_the_case_in_progress():
    case = case_with(IN_PROGRESS, task("pdam-batu", "lead", ACCEPTED),
                     task("pupr-batu", "support", PENDING))
    lead = case.tasks[0]
    facts = complete_task(case, lead, PDAM, NOW, "pipa diganti")
    assert (lead.status, lead.completed_at, lead.last_note) == (COMPLETED, NOW, "pipa diganti")
    assert facts == [Fact("task_completed", PDAM, {"note": "pipa diganti"}, lead)]
    assert case.status == IN_PROGRESS


@pytest.mark.parametrize("status, error", [
    (PENDING, Conflict), (COMPLETED, Conflict),
    (DECLINED, NotFound),   # its only task declined: PDAM no longer sees the case
])
def test_only_an_accepted_task_can_be_completed(status, error):
    case = case_with(IN_PROGRESS, task("pdam-batu", "lead", status),
                     task("pupr-batu", "support", ACCEPTED))
    before = snapshot(case)
    refused(error, complete_task, case, case.tasks[0], PDAM, NOW, "selesai")
    assert snapshot(case) == before


@pytest.mark.parametrize("final", [CLOSED, CANCELLED])
def test_no_task_is_completed_on_a_closed_or_cancelled_case(final):
    case = case_with(final, task("pdam-batu", "lead", ACCEPTED))
    refused(Conflict, complete_task, case, case.tasks[0], PDAM, NOW, "selesai")
    assert case.tasks[0].status == ACCEPTED


@pytest.mark.parametrize("action", [accept_task, decline_task, report_progress, complete_task])
def test_an_agency_given_the_case_again_still_cannot_act_on_its_declined_task(action):
    # PDAM sees the case through its new task; its old, declined one stays refused (Conflict).
    again = task("pdam-batu", "lead", ACCEPTED)
    again.id = "task-pdam-batu-2"
    case = case_with(IN_PROGRESS, task("pdam-batu", "support", DECLINED), again)
    before = snapshot(case)
    args = () if action is accept_task else ("catatan",)
    refused(Conflict, action, case, case.tasks[0], PDAM, NOW, *args)
    assert snapshot(case) == before


# -- settle: the case follows its tasks ------------------------------------------------------------

def test_the_case_is_resolved_when_every_task_not_declined_is_completed():
    case = routed_case("pdam-batu", "pupr-batu")
    for officer, agency_id in ((PDAM, "pdam-batu"), (PUPR, "pupr-batu")):
        accept_task(case, task_of(case, agency_id), officer, NOW)
    complete_task(case, task_of(case, "pdam-batu"), PDAM, NOW, "pipa diganti")
    assert case.status == IN_PROGRESS
    facts = complete_task(case, task_of(case, "pupr-batu"), PUPR, NOW, "jalan ditutup kembali")
    assert types(facts) == ["task_completed", "resolved"]
    assert facts[1] == Fact("resolved", SYSTEM, {"from": IN_PROGRESS, "to": RESOLVED})
    assert case.status == RESOLVED


def test_the_case_needs_triage_when_every_agency_declined():
    case = routed_case("pdam-batu", "pupr-batu")
    # The support declines first (the lead declining first sends the case to triage at once:
    # see test_the_lead_declining_while_a_support_works_sends_the_case_to_triage_at_once).
    first = decline_task(case, task_of(case, "pupr-batu"), PUPR, NOW, "bukan wewenang")
    assert types(first) == ["task_declined"] and case.status == ROUTED
    facts = decline_task(case, task_of(case, "pdam-batu"), PDAM, NOW, "bukan wewenang")
    assert types(facts) == ["task_declined", "needs_triage"]
    assert case.status == NEEDS_TRIAGE
    assert facts[1].actor == PDAM
    assert facts[1].data == {"from": ROUTED, "to": NEEDS_TRIAGE, "reason": {
        "id": "Tidak ada lagi instansi yang menangani.",
        "en": "No agency is working on it any more."}}


def test_a_declined_support_and_a_completed_lead_resolve_the_case():
    case = routed_case("pdam-batu", "pupr-batu")
    decline_task(case, task_of(case, "pupr-batu"), PUPR, NOW, "bukan wewenang")
    accept_task(case, task_of(case, "pdam-batu"), PDAM, NOW)
    facts = complete_task(case, task_of(case, "pdam-batu"), PDAM, NOW, "selesai")
    assert types(facts) == ["task_completed", "resolved"]
    assert case.status == RESOLVED


def test_a_support_declining_after_the_lead_completed_resolves_the_case():
    case = routed_case("pdam-batu", "pupr-batu")
    accept_task(case, task_of(case, "pdam-batu"), PDAM, NOW)
    complete_task(case, task_of(case, "pdam-batu"), PDAM, NOW, "selesai")
    assert case.status == IN_PROGRESS
    facts = decline_task(case, task_of(case, "pupr-batu"), PUPR, NOW, "tidak perlu")
    assert types(facts) == ["task_declined", "resolved"]
    assert case.status == RESOLVED


def test_the_first_accept_moves_a_routed_case_in_progress_via_settle():
    case = case_with(ROUTED, task("pdam-batu", "lead", ACCEPTED))
    facts = domain.settle(case, PDAM, NOW)
    assert types(facts) == ["in_progress"] and case.status == IN_PROGRESS
    assert domain.settle(case, PDAM, NOW) == []


# -- one lead, or the coordinator's triage -------------------------------------------------------

LEADS_NO_MORE = {"id": "Tidak ada lagi instansi pemimpin; koordinator kecamatan menentukan.",
                 "en": "No agency leads it any more; the district coordinator decides."}


def working_leads(case):
    return [t.agency_id for t in domain.working_tasks(case) if t.role == "lead"]


def test_the_lead_declining_while_a_support_works_sends_the_case_to_triage_at_once():
    case = routed_case("pdam-batu", "pupr-batu", "bpbd-batu")
    accept_task(case, task_of(case, "pupr-batu"), PUPR, NOW)
    assert case.status == IN_PROGRESS
    facts = decline_task(case, task_of(case, "pdam-batu"), PDAM, NOW, "bukan wewenang")
    assert types(facts) == ["task_declined", "needs_triage"]
    assert facts[1] == Fact("needs_triage", PDAM,
                            {"from": IN_PROGRESS, "to": NEEDS_TRIAGE, "reason": LEADS_NO_MORE})
    assert case.status == NEEDS_TRIAGE and working_leads(case) == []
    # The supports keep their tasks and keep working while the coordinator decides.
    assert [(t.agency_id, t.role, t.status) for t in domain.working_tasks(case)] == [
        ("pupr-batu", "support", ACCEPTED), ("bpbd-batu", "support", PENDING)]
    assert types(report_progress(case, task_of(case, "pupr-batu"), PUPR, NOW, "digali")) == [
        "task_progressed"]
    assert types(accept_task(case, task_of(case, "bpbd-batu"), BPBD, NOW)) == ["task_accepted"]
    assert case.status == NEEDS_TRIAGE
    # Already in triage: a support declining later adds no second triage fact.
    assert types(decline_task(case, task_of(case, "bpbd-batu"), BPBD, NOW, "tidak")) == [
        "task_declined"]


def test_the_lead_declining_after_every_support_completed_does_not_resolve_the_case():
    case = routed_case("pdam-batu", "pupr-batu")
    accept_task(case, task_of(case, "pupr-batu"), PUPR, NOW)
    complete_task(case, task_of(case, "pupr-batu"), PUPR, NOW, "jalan ditutup kembali")
    facts = decline_task(case, task_of(case, "pdam-batu"), PDAM, NOW, "bukan wewenang")
    # Every working task is completed, but none leads: triage, never resolved without a lead.
    assert types(facts) == ["task_declined", "needs_triage"]
    assert facts[1].data["reason"] == LEADS_NO_MORE
    assert case.status == NEEDS_TRIAGE and case.resolved_at is None
    # The rule's fallback is referred as the new lead: the case is worked on again.
    later = NOW + timedelta(hours=1)
    facts = route(case, [plan("bpbd-batu", "lead", at=later)], ROUTING, later, TaskFactory(),
                  rule_id="batu-air", explanation={"id": "rujuk", "en": "referred"})
    assert types(facts) == ["routed"]
    assert (facts[0].data["from"], facts[0].data["to"]) == (NEEDS_TRIAGE, IN_PROGRESS)
    assert case.status == IN_PROGRESS and case.resolved_at is None
    assert [(t.agency_id, t.role, t.status) for t in domain.working_tasks(case)] == [
        ("pupr-batu", "support", COMPLETED), ("bpbd-batu", "lead", PENDING)]


@pytest.mark.parametrize("support_status, status_fact", [
    (PENDING, ROUTED), (ACCEPTED, IN_PROGRESS), (COMPLETED, RESOLVED)])
def test_a_referral_naming_a_supporting_agency_as_lead_promotes_its_task(support_status,
                                                                        status_fact):
    case = case_with(NEEDS_TRIAGE, task("pdam-batu", "lead", DECLINED),
                     task("pupr-batu", "support", support_status))
    made = TaskFactory()
    why = {"id": "PUPR memimpin", "en": "PUPR leads"}
    facts = route(case, [plan("pupr-batu", "lead")], ROUTING, NOW, made, rule_id="batu-air",
                  explanation=why)
    pupr = task_of(case, "pupr-batu")
    assert made.made == 0 and len(case.tasks) == 2               # no new task
    assert (pupr.role, pupr.status) == ("lead", support_status)
    assert working_leads(case) == ["pupr-batu"]
    # The promotion, then the change of status it brings (recorded like settle's); back to
    # routed, the promotion itself tells it.
    if status_fact == ROUTED:
        assert facts == [Fact("lead_changed", ROUTING, {"reason": why, "from": NEEDS_TRIAGE,
                                                        "to": ROUTED}, pupr)]
    else:
        assert facts == [Fact("lead_changed", ROUTING, {"reason": why}, pupr),
                         Fact(status_fact, SYSTEM, {"from": NEEDS_TRIAGE, "to": status_fact})]
    assert case.status == status_fact
    assert case.resolved_at == (NOW if status_fact == RESOLVED else None)


def test_naming_a_supporting_agency_as_lead_demotes_the_working_lead():
    case = case_with(IN_PROGRESS, task("pdam-batu", "lead", ACCEPTED),
                     task("pupr-batu", "support", PENDING))
    facts = route(case, [plan("pupr-batu", "lead")], COORDINATOR, NOW, TaskFactory(),
                  explanation={"id": "x", "en": "x"})
    assert types(facts) == ["lead_changed"] and facts[0].task is task_of(case, "pupr-batu")
    assert working_leads(case) == ["pupr-batu"] and len(case.tasks) == 2
    assert case.status == IN_PROGRESS


@pytest.mark.parametrize("tasks", [
    [],                                                                # a new case
    [task("pdam-batu", "lead", DECLINED), task("pupr-batu", "support", ACCEPTED)],  # lead gone
], ids=["new", "lead-declined"])
def test_a_person_routing_only_supports_to_a_case_without_a_lead_is_refused(tasks):
    case = case_with(NEEDS_TRIAGE if tasks else REPORTED, *tasks)
    before = snapshot(case)
    error = refused(ValidationFailed, route, case, [plan("bpbd-batu", "support")], COORDINATOR,
                    NOW, TaskFactory())
    assert set(error.details) == {"agencies"}
    assert all(set(message) == {"id", "en"} for message in error.details["agencies"])
    assert snapshot(case) == before


def test_a_person_may_route_only_supports_to_a_case_with_a_working_lead():
    case = case_with(IN_PROGRESS, task("pdam-batu", "lead", ACCEPTED))
    facts = route(case, [plan("bpbd-batu", "support")], COORDINATOR, NOW, TaskFactory())
    assert types(facts) == ["routed"] and working_leads(case) == ["pdam-batu"]


def test_the_rule_engine_may_refer_a_support_to_a_case_in_triage_which_stays_there():
    # After a support declined in triage, its fallback support is referred: still no lead.
    case = case_with(NEEDS_TRIAGE, task("pdam-batu", "lead", DECLINED),
                     task("pupr-batu", "support", DECLINED))
    facts = route(case, [plan("bpbd-batu", "support")], ROUTING, NOW, TaskFactory())
    assert types(facts) == ["routed"]
    assert (facts[0].data["from"], facts[0].data["to"]) == (NEEDS_TRIAGE, NEEDS_TRIAGE)
    assert case.status == NEEDS_TRIAGE and working_leads(case) == []


def test_withdrawing_the_lead_sends_the_case_to_triage_and_making_a_support_lead_brings_it_back():
    case = routed_case("pdam-batu", "pupr-batu")
    accept_task(case, task_of(case, "pupr-batu"), PUPR, NOW)
    facts = domain.withdraw_task(case, task_of(case, "pdam-batu"), COORDINATOR, NOW, "lamban")
    assert types(facts) == ["task_withdrawn", "needs_triage"]
    assert facts[1] == Fact("needs_triage", COORDINATOR,
                            {"from": IN_PROGRESS, "to": NEEDS_TRIAGE, "reason": LEADS_NO_MORE})
    assert case.status == NEEDS_TRIAGE
    facts = domain.make_lead(case, task_of(case, "pupr-batu"), COORDINATOR, NOW, "PUPR memimpin")
    assert facts == [Fact("lead_changed", COORDINATOR, {"reason": "PUPR memimpin"},
                          task_of(case, "pupr-batu")),
                     Fact("in_progress", SYSTEM, {"from": NEEDS_TRIAGE, "to": IN_PROGRESS})]
    assert case.status == IN_PROGRESS and working_leads(case) == ["pupr-batu"]


def test_making_a_completed_support_lead_of_a_case_in_triage_resolves_it():
    case = case_with(NEEDS_TRIAGE, task("pdam-batu", "lead", WITHDRAWN),
                     task("pupr-batu", "support", COMPLETED))
    facts = domain.make_lead(case, task_of(case, "pupr-batu"), REGENCY, NOW, "sudah beres")
    assert types(facts) == ["lead_changed", "resolved"]
    assert (case.status, case.resolved_at) == (RESOLVED, NOW)


@pytest.mark.parametrize("status", [DECLINED, WITHDRAWN])
def test_an_ended_task_cannot_be_made_lead(status):
    case = case_with(NEEDS_TRIAGE, task("pdam-batu", "lead", DECLINED),
                     task("pupr-batu", "support", status), task("bpbd-batu", "support", PENDING))
    before = snapshot(case)
    refused(Conflict, domain.make_lead, case, task_of(case, "pupr-batu"), COORDINATOR, NOW, "x")
    assert snapshot(case) == before


def test_cancelling_records_the_agencies_it_released():
    case = routed_case("pdam-batu", "pupr-batu", "bpbd-batu", "dlh-batu")
    accept_task(case, task_of(case, "pdam-batu"), PDAM, NOW)
    accept_task(case, task_of(case, "pupr-batu"), PUPR, NOW)
    complete_task(case, task_of(case, "pupr-batu"), PUPR, NOW, "selesai")
    decline_task(case, task_of(case, "bpbd-batu"), BPBD, NOW, "bukan wewenang")
    facts = domain.cancel(case, COORDINATOR, NOW, "laporan ganda")
    # Only the tasks still on (PDAM accepted, DLH pending) are withdrawn, and named.
    assert facts == [Fact("cancelled", COORDINATOR, {
        "from": IN_PROGRESS, "to": CANCELLED, "reason": "laporan ganda",
        "agencies": ["pdam-batu", "dlh-batu"]})]
    assert {t.agency_id: t.status for t in case.tasks} == {
        "pdam-batu": WITHDRAWN, "pupr-batu": COMPLETED, "bpbd-batu": DECLINED,
        "dlh-batu": WITHDRAWN}


# -- confirm and reopen ----------------------------------------------------------------------------

def test_the_village_confirms_a_resolved_case_and_it_closes():
    case = case_with(RESOLVED, task("pdam-batu", "lead", COMPLETED))
    facts = confirm(case, VILLAGE, NOW, note="air mengalir lagi")
    assert case.status == CLOSED and case.updated_at == NOW
    assert facts == [Fact("closed", VILLAGE,
                          {"from": RESOLVED, "to": CLOSED, "note": "air mengalir lagi"})]


@pytest.mark.parametrize("start", [s for s in CASE_STATUSES if s != RESOLVED])
def test_only_a_resolved_case_can_be_confirmed(start):
    case = Case(status=start)
    refused(Conflict, confirm, case, VILLAGE, NOW)
    assert case.status == start


def test_reopening_gives_completed_tasks_back_with_new_deadlines():
    lead = task("pdam-batu", "lead", COMPLETED)
    lead.accepted_at, lead.completed_at = T0, T0 + timedelta(hours=1)
    support = task("pupr-batu", "support", DECLINED)
    support.declined_at = T0
    case = case_with(RESOLVED, lead, support)
    given_back = []

    def due_after(t):
        given_back.append(t.agency_id)
        return NOW + timedelta(hours=4), NOW + timedelta(hours=48)

    facts = reopen(case, VILLAGE, NOW, "air masih keruh", due_after)
    assert case.status == REOPENED and case.updated_at == NOW
    assert facts == [Fact("reopened", VILLAGE,
                          {"from": RESOLVED, "to": REOPENED, "reason": "air masih keruh"})]
    assert given_back == ["pdam-batu"]
    assert (lead.status, lead.accepted_at, lead.completed_at) == (PENDING, None, None)
    assert (lead.accept_due_at, lead.due_at) == (NOW + timedelta(hours=4),
                                                NOW + timedelta(hours=48))
    assert (support.status, support.declined_at) == (DECLINED, T0)


@pytest.mark.parametrize("start", [s for s in CASE_STATUSES if s != RESOLVED])
def test_only_a_resolved_case_can_be_reopened(start):
    case = case_with(start, task("pdam-batu", "lead", COMPLETED))
    before = snapshot(case)
    refused(Conflict, reopen, case, VILLAGE, NOW, "belum", lambda t: (None, None))
    assert snapshot(case) == before


def test_a_reopened_case_runs_again_to_resolved_and_closed():
    case = routed_case("pdam-batu")
    accept_task(case, case.tasks[0], PDAM, NOW)
    complete_task(case, case.tasks[0], PDAM, NOW, "selesai")
    reopen(case, VILLAGE, NOW, "belum", lambda t: (t.accept_due_at, t.due_at))
    assert (case.status, case.tasks[0].status) == (REOPENED, PENDING)
    assert types(accept_task(case, case.tasks[0], PDAM, NOW)) == ["task_accepted", "in_progress"]
    assert types(complete_task(case, case.tasks[0], PDAM, NOW, "ok")) == [
        "task_completed", "resolved"]
    assert types(confirm(case, VILLAGE, NOW)) == ["closed"]
    assert case.status == CLOSED


# -- comment -----------------------------------------------------------------------------------

def test_a_party_who_sees_the_case_may_comment():
    case = routed_case("pdam-batu")
    facts = comment(case, PDAM, NOW, "kami cek besok", "c-1")
    assert facts == [Fact("comment", PDAM, {"body": "kami cek besok", "comment_id": "c-1"})]
    assert case.updated_at == NOW
    refused(NotFound, comment, case, OTHER_VILLAGE, NOW, "halo", "c-2")
    refused(Forbidden, comment, case, ADMIN, NOW, "halo", "c-3")   # changed: admin only reads


@pytest.mark.parametrize("final", [CLOSED, CANCELLED])
@pytest.mark.parametrize("actor", [VILLAGE, COORDINATOR, REGENCY])
def test_a_closed_or_cancelled_case_takes_no_comment(final, actor):
    case = case_with(final, task("pdam-batu", "lead", COMPLETED))
    before = snapshot(case)
    error = refused(Conflict, comment, case, actor, NOW, "halo", "c-1")
    assert error.message["en"].startswith("The case is already")
    assert snapshot(case) == before


def test_an_open_case_takes_comments_in_every_status():
    for status in set(CASE_STATUSES) - set(domain.FINAL_STATUSES):
        case = case_with(status, task("pdam-batu", "lead", COMPLETED))
        assert types(comment(case, VILLAGE, NOW, "halo", "c-1")) == ["comment"]


# -- the facts are what the service records -----------------------------------------------------------

def test_every_fact_type_has_a_timeline_line():
    expected = {"routed", "needs_triage", "in_progress", "task_accepted", "task_declined",
                "task_progressed", "task_completed", "resolved", "closed", "reopened", "comment"}
    assert expected <= set(TIMELINE)


def test_a_full_story_produces_the_facts_the_service_records_in_order():
    case = Case()
    produced = route(case, [plan("pdam-batu"), plan("pupr-batu", "support")], COORDINATOR, NOW,
                     TaskFactory())
    produced += accept_task(case, task_of(case, "pdam-batu"), PDAM, NOW)
    produced += report_progress(case, task_of(case, "pdam-batu"), PDAM, NOW, "dikerjakan")
    produced += decline_task(case, task_of(case, "pupr-batu"), PUPR, NOW, "tidak perlu")
    produced += complete_task(case, task_of(case, "pdam-batu"), PDAM, NOW, "selesai")
    produced += reopen(case, VILLAGE, NOW, "belum", lambda t: (t.accept_due_at, t.due_at))
    produced += accept_task(case, task_of(case, "pdam-batu"), PDAM, NOW)
    produced += complete_task(case, task_of(case, "pdam-batu"), PDAM, NOW, "selesai")
    produced += confirm(case, VILLAGE, NOW)
    assert types(produced) == [
        "routed", "task_accepted", "in_progress", "task_progressed", "task_declined",
        "task_completed", "resolved", "reopened", "task_accepted", "in_progress",
        "task_completed", "resolved", "closed"]
    assert all(fact.type in TIMELINE for fact in produced)
    task_facts = [f for f in produced if f.type.startswith("task_")]
    assert all(f.task is not None for f in task_facts)
    assert all(f.task is None for f in produced if not f.type.startswith("task_"))


# -- who sees what, and who may do what (shared/policy.py) -------------------------------------

@pytest.mark.parametrize("actor, sees", [
    (ADMIN, True),
    (VILLAGE, True),
    (OTHER_VILLAGE, False),
    (COORDINATOR, True),
    (OTHER_COORDINATOR, False),
    (REGENCY, True),
    (OTHER_REGENCY, False),
    (PDAM, True),                                   # has a task
    (PUPR, False),                                  # changed: its task is declined, so no more
    (BPBD, False),                                  # no task on this case
    ({"id": "x", "role": "citizen", "name": "Warga", "scope": PUNTEN}, False),
    ({"id": "x", "role": "system", "name": "Jembatan", "scope": None}, False),
    ({"id": "x", "name": "No role", "scope": PUNTEN}, False),
])
def test_sees_case_follows_the_callers_jurisdiction(actor, sees):
    case = case_with(ROUTED, task("pdam-batu", "lead"), task("pupr-batu", "support", DECLINED))
    assert policy.sees_case(actor, case) is sees


def test_a_missing_or_invisible_case_is_not_found():
    refused(NotFound, policy.require_case, VILLAGE, "cases.read", None)
    refused(NotFound, policy.require_case, OTHER_VILLAGE, "cases.read", Case())
    case = Case()
    assert policy.require_case(VILLAGE, "cases.read", case) is case


def test_task_of_finds_a_task_of_the_case_by_id():
    case = case_with(ROUTED, task("pdam-batu", "lead"), task("pupr-batu", "support"))
    assert domain.task_of(case, "task-pupr-batu") is case.tasks[1]
    error = refused(NotFound, domain.task_of, case, "task-nope")
    assert error.message["en"] == "Task not found."


def test_an_agency_acts_only_on_its_own_task():
    case = case_with(ROUTED, task("pdam-batu", "lead"), task("pupr-batu", "support"))
    before = snapshot(case)
    error = refused(NotFound, accept_task, case, task_of(case, "pupr-batu"), PDAM, NOW)
    assert error.message["en"] == "Task not found."
    assert snapshot(case) == before


def test_an_agency_without_a_task_on_the_case_does_not_find_it():
    case = case_with(ROUTED, task("pdam-batu", "lead"))
    error = refused(NotFound, accept_task, case, case.tasks[0], BPBD, NOW)
    assert error.message["en"] == "Case not found."


@pytest.mark.parametrize("how", ["declined", "withdrawn"])
def test_an_agency_whose_task_was_declined_or_withdrawn_no_longer_sees_the_case(how):
    case = routed_case("pdam-batu", "pupr-batu")
    accept_task(case, task_of(case, "pupr-batu"), PUPR, NOW)
    assert policy.sees_case(PUPR, case)
    if how == "declined":
        decline_task(case, task_of(case, "pupr-batu"), PUPR, NOW, "bukan wewenang")
    else:
        domain.withdraw_task(case, task_of(case, "pupr-batu"), COORDINATOR, NOW, "tidak perlu")
    assert policy.sees_case(PUPR, case) is False
    assert policy.sees_case(PDAM, case) is True                  # the lead still works on it
    own, before = task_of(case, "pupr-batu"), snapshot(case)
    for attempt in (lambda: comment(case, PUPR, NOW, "halo", "c-1"),
                    lambda: report_progress(case, own, PUPR, NOW, "catatan"),
                    lambda: complete_task(case, own, PUPR, NOW, "catatan")):
        assert refused(NotFound, attempt).message["en"] == "Case not found."
    assert snapshot(case) == before


def test_the_roles_of_the_case_operations():
    """The rules the domain enforces below, pinned: admin only reads; supervisors decide."""
    supervisors = ("coordinator", "regency")
    expected = {
        "cases.read": policy.ROLES, "cases.comment": ("village", "agency") + supervisors,
        "cases.confirm": ("village",), "cases.reopen": ("village",),
        "cases.route": supervisors, "cases.cancel": supervisors, "cases.merge": supervisors,
        "tasks.withdraw": supervisors, "tasks.lead": supervisors,
        "cases.escalate": ("coordinator",),
        "tasks.accept": ("agency",), "tasks.decline": ("agency",),
        "tasks.progress": ("agency",), "tasks.complete": ("agency",),
    }
    assert {op: set(policy.OPERATIONS[op]) for op in expected} == {
        op: set(roles) for op, roles in expected.items()}


# Each domain action: its operation, and a case the actors below see on which it succeeds.
# (domain.route is not here: the rule engine routes as "system"; the service checks a person.)

def _merge(case, actor):
    target = case_with(IN_PROGRESS, task("pupr-batu", "lead", ACCEPTED))
    target.id, target.tracking_number = "case-2", "JBT-AAAA-AAAA"
    case.tracking_number = "JBT-BBBB-BBBB"
    return domain.merge(case, target, actor, NOW, "sama")[0]


def _pending():
    return case_with(ROUTED, task("pdam-batu"))


def _accepted():
    return case_with(IN_PROGRESS, task("pdam-batu", "lead", ACCEPTED))


def _resolved():
    return case_with(RESOLVED, task("pdam-batu", "lead", COMPLETED))


def _with_support():
    return case_with(ROUTED, task("pdam-batu"), task("pupr-batu", "support"))


DOMAIN_ACTIONS = {  # name: (operation, a case, the action on it by an actor)
    "accept_task": ("tasks.accept", _pending,
                    lambda case, actor: accept_task(case, case.tasks[0], actor, NOW)),
    "decline_task": ("tasks.decline", _pending,
                     lambda case, actor: decline_task(case, case.tasks[0], actor, NOW, "tidak")),
    "report_progress": ("tasks.progress", _accepted,
                        lambda case, actor: report_progress(case, case.tasks[0], actor, NOW, "ok")),
    "complete_task": ("tasks.complete", _accepted,
                      lambda case, actor: complete_task(case, case.tasks[0], actor, NOW, "ok")),
    "confirm": ("cases.confirm", _resolved, lambda case, actor: confirm(case, actor, NOW)),
    "reopen": ("cases.reopen", _resolved,
               lambda case, actor: reopen(case, actor, NOW, "belum", lambda t: (NOW, NOW))),
    "withdraw_task": ("tasks.withdraw", _with_support,
                      lambda case, actor: domain.withdraw_task(case, case.tasks[1], actor, NOW,
                                                               "x")),
    "make_lead": ("tasks.lead", _with_support,
                  lambda case, actor: domain.make_lead(case, case.tasks[1], actor, NOW, "x")),
    "cancel": ("cases.cancel", _pending,
               lambda case, actor: domain.cancel(case, actor, NOW, "ganda")),
    "merge": ("cases.merge", _pending, _merge),
    "comment": ("cases.comment", _pending,
                lambda case, actor: comment(case, actor, NOW, "halo", "c-1")),
    "escalate_by_hand": ("cases.escalate", _pending,
                         lambda case, actor: ladder.escalate_by_hand(case, actor, NOW, "mendesak")),
}
# Per role: one actor who sees the case above (PDAM has its task), one who does not (admin
# sees every case).
INSIDE = {"village": VILLAGE, "agency": PDAM, "coordinator": COORDINATOR, "regency": REGENCY,
          "admin": ADMIN}
OUTSIDE = {"village": OTHER_VILLAGE, "agency": BPBD, "coordinator": OTHER_COORDINATOR,
           "regency": OTHER_REGENCY, "admin": None}


@pytest.mark.parametrize("role", policy.ROLES)
@pytest.mark.parametrize("name", sorted(DOMAIN_ACTIONS))
def test_every_action_follows_its_operations_role_rule(name, role):
    operation, make_case, act = DOMAIN_ACTIONS[name]
    case = make_case()
    assert policy.sees_case(INSIDE[role], case)
    if policy.role_may(role, operation):
        assert act(case, INSIDE[role]), f"{role} may {operation}: it succeeds"
    else:
        before = snapshot(case)
        refused(Forbidden, act, case, INSIDE[role])
        assert snapshot(case) == before
    if OUTSIDE[role] is not None:
        case = make_case()
        assert not policy.sees_case(OUTSIDE[role], case)
        before = snapshot(case)
        error = refused(NotFound, act, case, OUTSIDE[role])
        assert error.message["en"] == "Case not found."
        assert snapshot(case) == before


# -- overdue ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("case_status, task_status, due_in_hours, overdue", [
    (ROUTED, PENDING, -1, True),
    (IN_PROGRESS, ACCEPTED, -1, True),
    (IN_PROGRESS, ACCEPTED, 1, False),
    (IN_PROGRESS, ACCEPTED, 0, False),             # due exactly now is not yet overdue
    (IN_PROGRESS, COMPLETED, -1, False),           # done tasks never make a case overdue
    (NEEDS_TRIAGE, DECLINED, -1, False),
    (CLOSED, PENDING, -1, False),                  # a final case is never overdue
    (CANCELLED, ACCEPTED, -1, False),
    (ROUTED, PENDING, None, False),                # no deadline
])
def test_is_overdue_when_an_active_task_missed_its_deadline(case_status, task_status,
                                                           due_in_hours, overdue):
    due = None if due_in_hours is None else NOW + timedelta(hours=due_in_hours)
    case = case_with(case_status, task("pdam-batu", "lead", task_status, due_at=due,
                                       accept_due_at=due))
    assert is_overdue(case, NOW) is overdue


def test_is_overdue_when_any_one_active_task_is_late():
    case = case_with(IN_PROGRESS,
                     task("pdam-batu", "lead", ACCEPTED, due_at=NOW + timedelta(hours=5)),
                     task("pupr-batu", "support", PENDING, due_at=NOW + timedelta(days=3),
                          accept_due_at=NOW - timedelta(minutes=1)))
    assert is_overdue(case, NOW) is True


# -- random stories keep the invariants ----------------------------------------------------------------

AGENCIES = sorted(AGENCY_NAMES)
OFFICERS = {agency_id: agency(agency_id) for agency_id in AGENCIES}


def lead_of(tasks):
    """The working lead among task snapshots (dicts) or tasks, or None."""
    leads = [t["agency_id"] for t in tasks
             if t["role"] == "lead" and t["status"] not in domain.ENDED_TASK_STATUSES]
    return leads[0] if len(leads) == 1 else tuple(leads) or None


class CaseLife(RuleBasedStateMachine):
    """Anyone does anything, in any order; refusals are fine, broken invariants are not."""

    def __init__(self):
        super().__init__()
        self.case = Case()
        self.new_task = TaskFactory()
        self.clock = T0

    def act(self, action, *args):
        self.clock += timedelta(minutes=1)
        before = snapshot(self.case)
        try:
            facts = action(*args)
        except (Conflict, Forbidden, NotFound, ValidationFailed) as error:
            assert set(error.message) == {"id", "en"}
            assert snapshot(self.case) == before, "a refused action changed the case"
            return
        assert facts, f"{action.__name__} succeeded without a fact"
        assert all(isinstance(f, Fact) and f.type in TIMELINE for f in facts)
        self.check_recorded(before, facts)

    def check_recorded(self, before, facts):
        """Every change of status is one of the state machine's and left a timeline fact."""
        moves = [(f.data["from"], f.data["to"]) for f in facts
                 if "from" in f.data and f.data["from"] != f.data["to"]]
        for old, new in moves:
            assert new in domain.CASE_TRANSITIONS[old], f"{old} -> {new} is not allowed"
        if self.case.status != before[0]:
            assert moves and moves[-1][1] == self.case.status, "a status change left no fact"
        earlier = {task["id"]: task["status"] for task in before[4]}
        changed_tasks = {t.id for t in self.case.tasks
                         if t.id in earlier and t.status != earlier[t.id]}
        told = {f.task.id for f in facts if f.task is not None}
        for_every_task = any(f.type in ("reopened", "cancelled") for f in facts)
        assert for_every_task or changed_tasks <= told, "a task changed without a fact about it"
        if lead_of(before[4]) != lead_of([dict(vars(t)) for t in self.case.tasks]):
            assert {f.type for f in facts} & {
                "routed", "lead_changed", "task_declined", "task_withdrawn", "cancelled"}, \
                "the lead changed without a fact about it"

    @precondition(lambda self: self.case.tasks)
    @rule(data=st.data(), action=st.sampled_from(["withdraw", "lead"]),
          by=st.sampled_from([COORDINATOR, REGENCY, VILLAGE, ADMIN]))
    def coordinator_changes_the_agencies(self, data, action, by):
        chosen = data.draw(st.sampled_from(self.case.tasks))
        change = domain.withdraw_task if action == "withdraw" else domain.make_lead
        self.act(change, self.case, chosen, by, self.clock, "alasan")

    # Mostly refused (village, admin): a cancel ends the story, so it should not come early.
    @rule(by=st.sampled_from([VILLAGE, ADMIN, VILLAGE, ADMIN, COORDINATOR]))
    def coordinator_cancels(self, by):
        self.act(domain.cancel, self.case, by, self.clock, "ganda")

    @precondition(lambda self: self.case.tasks)
    @rule(by=st.sampled_from([COORDINATOR, REGENCY]))
    def coordinator_escalates(self, by):
        self.act(ladder.escalate_by_hand, self.case, by, self.clock, "mendesak")

    @rule(hours=st.integers(min_value=1, max_value=24 * 20))
    def time_passes(self, hours):
        self.clock += timedelta(hours=hours)
        before = snapshot(self.case)
        facts = ladder.watch(self.case, self.clock)
        assert all(isinstance(f, Fact) and f.type in TIMELINE for f in facts)
        self.check_recorded(before, facts)

    # A person routes with at most one lead (shared/commands.py RouteInput); so does the rule
    # engine, which also refers a fallback after a decline (as "system": no lead needed).
    @rule(plans=st.lists(st.tuples(st.sampled_from(AGENCIES), st.sampled_from(["lead", "support"])),
                         min_size=1, max_size=3, unique_by=lambda p: p[0])
          .filter(lambda plans: sum(role == "lead" for _, role in plans) <= 1),
          by=st.sampled_from([COORDINATOR, REGENCY, ROUTING]))
    def route_case(self, plans, by):
        planned = [plan(agency_id, role, at=self.clock) for agency_id, role in plans]
        self.act(route, self.case, planned, by, self.clock, self.new_task)

    @precondition(lambda self: self.case.status == REPORTED)  # refused later: tested above
    @rule()
    def no_rule_matched(self):
        self.act(needs_triage, self.case, {"id": "tidak ada", "en": "none"}, self.clock)

    def agency_acts(self, data, action, own, statuses, *args):
        """Mostly the task's own agency on a task the action suits; sometimes any task and any
        agency (refused: not its task, the case unseen, or the wrong status)."""
        suited = [t for t in self.case.tasks if t.status in statuses]
        chosen = data.draw(st.sampled_from(suited if own and suited else self.case.tasks))
        officer = OFFICERS[chosen.agency_id if own else data.draw(st.sampled_from(AGENCIES))]
        self.act(action, self.case, chosen, officer, self.clock, *args)

    # One rule per task action: the agencies' work is most of a case's life.
    @precondition(lambda self: self.case.tasks)
    @rule(data=st.data(), own=st.sampled_from([True, True, True, False]))
    def agency_accepts(self, data, own):
        self.agency_acts(data, accept_task, own, (PENDING,))

    @precondition(lambda self: self.case.tasks)
    @rule(data=st.data(), own=st.sampled_from([True, True, True, False]))
    def agency_declines(self, data, own):
        self.agency_acts(data, decline_task, own, (PENDING, ACCEPTED), "bukan wewenang")

    @precondition(lambda self: self.case.tasks)
    @rule(data=st.data(), own=st.sampled_from([True, True, True, False]))
    def agency_reports_progress(self, data, own):
        self.agency_acts(data, report_progress, own, (ACCEPTED,), "catatan")

    @precondition(lambda self: self.case.tasks)
    @rule(data=st.data(), own=st.sampled_from([True, True, True, False]))
    def agency_completes(self, data, own):
        self.agency_acts(data, complete_task, own, (ACCEPTED,), "selesai")

    @precondition(lambda self: self.case.tasks)
    @rule()
    def village_confirms(self):
        self.act(confirm, self.case, VILLAGE, self.clock)

    @precondition(lambda self: self.case.tasks)
    @rule()
    def village_reopens(self):
        clock = self.clock
        self.act(reopen, self.case, VILLAGE, clock, "belum beres",
                 lambda t: (clock + timedelta(hours=4), clock + timedelta(hours=48)))

    @rule(by=st.sampled_from([VILLAGE, COORDINATOR, ADMIN]))
    def someone_comments(self, by):
        self.act(comment, self.case, by, self.clock, "halo", "c")

    @invariant()
    def a_resolved_or_finished_case_has_no_work_left(self):
        if self.case.status in (RESOLVED, CLOSED, CANCELLED):
            assert not domain.active_tasks(self.case), [t.status for t in self.case.tasks]

    @invariant()
    def an_open_case_nobody_works_on_needs_triage(self):
        if (self.case.tasks and self.case.status not in domain.FINAL_STATUSES
                and all(t.status in domain.ENDED_TASK_STATUSES for t in self.case.tasks)):
            assert self.case.status == NEEDS_TRIAGE

    @invariant()
    def an_open_case_being_worked_on_has_exactly_one_lead_or_is_in_triage(self):
        if (self.case.status not in domain.FINAL_STATUSES + (NEEDS_TRIAGE,)
                and domain.working_tasks(self.case)):
            leads = [t for t in domain.working_tasks(self.case) if t.role == "lead"]
            assert len(leads) == 1, [(t.agency_id, t.role, t.status) for t in self.case.tasks]

    @invariant()
    def a_case_never_has_two_working_leads(self):
        assert len([t for t in domain.working_tasks(self.case) if t.role == "lead"]) <= 1

    @invariant()
    def an_open_case_with_tasks_is_in_the_status_its_tasks_call_for(self):
        if self.case.tasks and self.case.status not in domain.FINAL_STATUSES:
            assert domain.derived_status(self.case) == self.case.status

    @invariant()
    def a_resolved_case_has_a_completed_lead(self):
        if self.case.status == RESOLVED:
            assert [t.status for t in domain.working_tasks(self.case) if t.role == "lead"] == [
                COMPLETED]
            assert self.case.resolved_at is not None

    @invariant()
    def an_accepted_task_means_the_case_is_in_progress_or_in_triage(self):
        # Changed on purpose: a support may go on working while the case waits in triage.
        if any(t.status == ACCEPTED for t in self.case.tasks):
            assert self.case.status in (IN_PROGRESS, NEEDS_TRIAGE)

    @invariant()
    def statuses_are_known(self):
        assert self.case.status in CASE_STATUSES
        assert all(t.status in domain.TASK_STATUSES for t in self.case.tasks)


CaseLife.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow])
test_random_stories_keep_the_case_invariants = CaseLife.TestCase


def test_merging_ends_the_source_links_both_timelines_and_refuses_itself():
    source = case_with(ROUTED, task("pdam-batu"))
    source.id, source.tracking_number = "case-2", "JBT-BBBB-BBBB"
    target = case_with(IN_PROGRESS, task("pupr-batu", status=ACCEPTED))
    target.tracking_number = "JBT-AAAA-AAAA"
    into, merged_from = domain.merge(source, target, COORDINATOR, NOW, "sama")
    assert (source.status, source.merged_into) == (CANCELLED, target.id)
    assert [t.status for t in source.tasks] == [domain.WITHDRAWN]
    assert into[0].type == "merged_into" and into[0].data["other_number"] == "JBT-AAAA-AAAA"
    assert into[0].data["agencies"] == ["pdam-batu"]              # the agencies it released
    assert merged_from[0].type == "merged_from"
    assert merged_from[0].data["other_number"] == "JBT-BBBB-BBBB"
    assert target.status == IN_PROGRESS
    with pytest.raises(Conflict):
        domain.merge(target, target, COORDINATOR, NOW, "x")
    with pytest.raises(Forbidden):
        domain.merge(case_with(ROUTED), target, VILLAGE, NOW, "x")


def test_a_confidential_case_merges_only_with_a_confidential_case():
    complaint = case_with(ROUTED, task("pdam-batu"))
    complaint.id, complaint.confidential = "case-2", True
    complaint.tracking_number = "JBT-BBBB-BBBB"
    public = case_with(ROUTED, task("pupr-batu"))
    for source, target in ((complaint, public), (public, complaint)):
        with pytest.raises(Conflict):
            domain.merge(source, target, COORDINATOR, NOW, "sama")
    assert complaint.status == public.status == ROUTED
    other = case_with(ROUTED, task("pupr-batu"))
    other.confidential, other.tracking_number = True, "JBT-AAAA-AAAA"
    domain.merge(complaint, other, COORDINATOR, NOW, "sama")
    assert complaint.merged_into == other.id


def test_a_referral_for_the_lead_is_not_needed_once_a_coordinator_chose_one():
    case = routed_case("pdam-batu", "pupr-batu")
    decline_task(case, task_of(case, "pdam-batu"), PDAM, NOW, "bukan wewenang")
    assert domain.referral_still_needed(case, [plan("bpbd-batu", "lead")])
    route(case, [plan("dlh-batu", "lead")], COORDINATOR, NOW, TaskFactory())
    assert not domain.referral_still_needed(case, [plan("bpbd-batu", "lead")])
    assert domain.referral_still_needed(case, [plan("bpbd-batu", "support")])
