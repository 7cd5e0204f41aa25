"""Deadlines and the escalation ladder (services/requests/ladder.py), with a moving clock."""
from datetime import datetime, timedelta, timezone

import pytest

from services.notifications.domain import recipients
from services.requests import domain, ladder
from shared import events
from shared.errors import Conflict, Forbidden, NotFound
from tests.unit.standins import Case, Task

UTC = timezone.utc
WIB = timezone(timedelta(hours=7))
PDAM_OFFICER = {"id": "o-pdam", "role": "agency", "name": "Petugas PDAM", "scope": "pdam-batu"}
COORDINATOR = {"id": "c", "role": "coordinator", "name": "Koordinator Bumiaji", "scope": "35.79.02"}
VILLAGE = {"id": "v", "role": "village", "name": "Operator Desa Punten", "scope": "35.79.02.2001"}
REGENCY = {"id": "r", "role": "regency", "name": "Kantor Walikota Batu", "scope": "35.79"}
ADMIN = {"id": "a", "role": "admin", "name": "Admin", "scope": None}
OTHER_COORDINATOR = {"id": "c2", "role": "coordinator", "name": "Koordinator Batu",
                     "scope": "35.79.01"}


def routed_case(**fields):
    """A routed medium case of Desa Punten (one working day between the ladder's steps)."""
    return Case(**{"status": domain.ROUTED, "severity": "medium", **fields})


def wib(day, hour, minute=0):
    return datetime(2026, 8, day, hour, minute, tzinfo=WIB)


def told(fact, case):
    """Who hears of a ladder fact (the notifications service's rule)."""
    event_type = {"deadline_missed": events.DEADLINE_MISSED,
                  "escalated": events.CASE_ESCALATED}[fact.type]
    payload = {
        "case": {"village": {"code": case.village_code}, "district": {"code": case.district_code},
                 "regency": {"code": case.regency_code},
                 "tasks": [{"agency_id": t.agency_id, "status": t.status} for t in case.tasks]},
        "actor": fact.actor, "level": fact.data.get("level"),
        "task": {"agency_id": fact.task.agency_id} if fact.task else None,
    }
    return sorted(recipient for recipient, _audience in recipients(event_type, payload))


def test_the_whole_ladder_across_a_weekend_and_independence_day():
    # PDAM must accept by Thursday 13 August 2026, 16:00 WIB. A medium case: one working day
    # between the steps. Friday 14 is a working day; Monday 17 August is Independence Day.
    task = Task(accept_due_at=wib(13, 16), due_at=wib(20, 16))
    case = routed_case(tasks=[task])

    assert ladder.watch(case, wib(13, 15, 59)) == []
    [reminder] = ladder.watch(case, wib(13, 16, 1))
    assert (reminder.type, reminder.data["deadline"]) == ("deadline_missed", "accept")
    assert told(reminder, case) == ["agency:pdam-batu"]
    assert ladder.is_overdue(case, wib(13, 16, 1))

    assert ladder.watch(case, wib(14, 15, 59)) == []
    [to_district] = ladder.watch(case, wib(14, 16, 1))
    assert (to_district.type, to_district.data["level"]) == ("escalated", "district")
    assert case.escalation_level == ladder.DISTRICT
    assert told(to_district, case) == ["agency:pdam-batu", "coordinator:35.79.02"]

    # Saturday, Sunday and the national holiday do not count.
    for moment in (wib(15, 12), wib(16, 12), wib(17, 23, 59), wib(18, 15, 59)):
        assert ladder.watch(case, moment) == []
    [to_regency] = ladder.watch(case, wib(18, 16, 1))
    assert (to_regency.type, to_regency.data["level"]) == ("escalated", "regency")
    assert case.escalation_level == ladder.REGENCY
    assert told(to_regency, case) == ["agency:pdam-batu", "coordinator:35.79.02", "regency:35.79"]

    assert ladder.watch(case, wib(31, 12)) == []  # the top of the ladder: nothing more


def test_a_restart_that_missed_several_steps_takes_them_all_at_once():
    case = routed_case(tasks=[Task(accept_due_at=wib(13, 16))])
    facts = ladder.watch(case, wib(25, 9))
    assert [(f.type, f.data.get("level")) for f in facts] == [
        ("deadline_missed", None), ("escalated", "district"), ("escalated", "regency")]
    assert ladder.watch(case, wib(25, 9)) == []


def test_accepting_late_starts_the_ladder_again_for_the_completion_deadline():
    task = Task(accept_due_at=wib(13, 16), due_at=wib(20, 16))
    case = routed_case(tasks=[task])
    ladder.watch(case, wib(13, 17))
    domain.accept_task(case, task, PDAM_OFFICER, wib(13, 18))
    assert task.ladder_step == 0 and not ladder.is_overdue(case, wib(14, 9))
    assert ladder.watch(case, wib(20, 15)) == []
    [reminder] = ladder.watch(case, wib(20, 16, 1))
    assert reminder.data["deadline"] == "complete"


def test_critical_cases_climb_in_hours():
    case = routed_case(severity="critical", tasks=[Task(accept_due_at=wib(15, 10))])  # a Saturday
    assert [f.type for f in ladder.watch(case, wib(15, 10, 1))] == ["deadline_missed"]
    assert [f.data["level"] for f in ladder.watch(case, wib(15, 11, 1))] == ["district"]
    assert [f.data["level"] for f in ladder.watch(case, wib(15, 12, 1))] == ["regency"]


def test_a_coordinator_escalates_by_hand_with_a_reason_once():
    case = routed_case(tasks=[Task(accept_due_at=wib(20, 16))])
    [fact] = ladder.escalate_by_hand(case, COORDINATOR, wib(14, 9), "Warga sudah 5 hari tanpa air")
    assert (fact.type, fact.data["level"], fact.actor) == ("escalated", "regency", COORDINATOR)
    assert case.escalation_level == ladder.REGENCY
    with pytest.raises(Conflict):
        ladder.escalate_by_hand(case, COORDINATOR, wib(14, 10), "lagi")
    with pytest.raises(Forbidden):
        ladder.escalate_by_hand(routed_case(tasks=[Task()]), VILLAGE, wib(14, 9), "x")
    # The ladder then has nothing higher to escalate to, but still reminds the agency.
    assert [f.type for f in ladder.watch(case, wib(31, 9))] == ["deadline_missed"]


@pytest.mark.parametrize("actor", [VILLAGE, PDAM_OFFICER, REGENCY, ADMIN])
def test_only_a_coordinator_escalates_by_hand(actor):
    # Changed on purpose: the regency office and admin see the case but may not escalate it.
    case = routed_case(tasks=[Task(accept_due_at=wib(20, 16))])
    with pytest.raises(Forbidden):
        ladder.escalate_by_hand(case, actor, wib(14, 9), "x")
    assert case.escalation_level == ladder.NONE


def test_a_coordinator_of_another_district_does_not_find_the_case_to_escalate():
    case = routed_case(tasks=[Task(accept_due_at=wib(20, 16))])
    with pytest.raises(NotFound):
        ladder.escalate_by_hand(case, OTHER_COORDINATOR, wib(14, 9), "x")
    assert case.escalation_level == ladder.NONE


@pytest.mark.parametrize("final", domain.FINAL_STATUSES)
def test_a_closed_or_cancelled_case_is_not_escalated_by_hand(final):
    case = routed_case(status=final, tasks=[Task(status=domain.COMPLETED)])
    with pytest.raises(Conflict):
        ladder.escalate_by_hand(case, COORDINATOR, wib(14, 9), "x")
    assert case.escalation_level == ladder.NONE


def test_an_unanswered_resolved_case_warns_the_village_then_closes_itself():
    resolved = wib(3, 10)  # Monday 3 August 2026
    case = routed_case(status=domain.RESOLVED, resolved_at=resolved)
    assert ladder.watch(case, wib(12, 16, 1)) == []              # 7 working days
    [warning] = ladder.watch(case, wib(13, 16, 1))              # 8 working days
    assert warning.type == "closing_soon"
    assert ladder.watch(case, wib(14, 16, 1)) == []              # warned once only
    [closed] = ladder.watch(case, wib(18, 16, 1))               # 10 working days (17th a holiday)
    assert (closed.type, case.status) == ("closed_unanswered", domain.CLOSED)


def test_a_case_is_overdue_by_the_deadline_each_task_works_against():
    pending = Task(accept_due_at=wib(13, 16), due_at=wib(20, 16))
    case = routed_case(tasks=[pending])
    assert not ladder.is_overdue(case, wib(13, 15))
    assert ladder.is_overdue(case, wib(13, 17))
    pending.status = domain.COMPLETED
    assert not ladder.is_overdue(case, wib(25, 0))


def test_a_reminder_tells_the_agency_the_deadline_it_missed():
    from services.notifications import templates

    task = {"id": "t", "agency_id": "pdam-batu", "agency_name": "PDAM", "role": "lead",
            "status": "pending", "accept_due_at": wib(13, 16), "due_at": wib(20, 16)}
    place = {"code": "35.79.02.2001", "name": "Punten"}
    payload = {"case": {"id": "c", "tracking_number": "JBT-AAAA-AAAA", "title": "Air mati",
                        "category": "air-bersih", "severity": "medium", "village": place,
                        "district": {"code": "35.79.02", "name": "Bumiaji"},
                        "regency": {"code": "35.79", "name": "Kota Batu"}, "tasks": [task]},
               "actor": domain.SYSTEM, "task": task, "due_at": wib(13, 16)}
    values = templates.params(events.DEADLINE_MISSED, payload, "agency:pdam-batu")
    values["template"] = templates.template_key(events.DEADLINE_MISSED, "agency", payload)
    _title, body = templates.render(values["template"], values, "id")
    assert "13-08-2026 16:00 WIB" in body and "menerima" in body
