"""The requests service's handlers and commands against a real database (SQLite), no broker:
what each one changes, and which events it writes to the outbox."""
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from services.requests import commands, domain, facts, ladder
from services.requests.models import TimelineEntry
from shared import events
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.events import utcnow
from tests.service.requests_world import (
    BULUKERTO, COORDINATOR, OTHER_COORDINATOR, PDAM, PUNTEN, PUPR, REGENCY, VILLAGE, announced,
    case_row, decision, handle, issue, new_store, outbox, planned, task_id,
)


EXPLANATION_BY_HAND = {"id": "Dirutekan koordinator", "en": "Routed by the coordinator"}


@pytest.fixture
def store(tmp_path):
    store = new_store(tmp_path)
    yield store
    store.close()


def timeline_types(store, case_id):
    with store.read() as session:
        return list(session.scalars(select(TimelineEntry.type).where(
            TimelineEntry.case_id == case_id).order_by(TimelineEntry.seq)))


def run(store, command, *args, **kwargs):
    """(the event types the command announced, its answer)."""
    return announced(store, lambda: commands.run(store, command, *args, **kwargs))


def routed_case(store, case_id="case-0001", tasks=None, **issue_fields):
    """A case of Desa Punten routed to PDAM (lead) and Dinas PUPR (support)."""
    handle(store, events.ISSUE_REPORTED, issue(case_id, **issue_fields))
    handle(store, events.ROUTING_DECIDED, decision(case_id, tasks=tasks or [
        planned("pdam-batu"), planned("pupr-batu", role="support")]))
    return case_id


def resolved_case(store, case_id="case-0001", **planned_fields):
    handle(store, events.ISSUE_REPORTED, issue(case_id))
    handle(store, events.ROUTING_DECIDED, decision(case_id, tasks=[
        planned("pdam-batu", **planned_fields)]))
    pdam_task = task_id(store, case_id, "pdam-batu")
    commands.run(store, commands.task_action, PDAM, case_id, pdam_task, "accept", {})
    commands.run(store, commands.task_action, PDAM, case_id, pdam_task, "complete",
                 {"note": "Pipa diganti"})
    return case_id


# -- an issue is reported --------------------------------------------------------------------------

def test_an_issue_reported_opens_the_case_and_announces_it(store):
    handle(store, events.ISSUE_REPORTED, issue("case-0001"))
    case = case_row(store, "case-0001")
    assert (case.status, case.tracking_number, case.village_code, case.category) == (
        domain.REPORTED, "JBT-0001", PUNTEN["code"], "air-bersih")
    assert case.likely_duplicate_of is None
    assert timeline_types(store, "case-0001") == [facts.REPORTED]
    [(event_type, payload)] = outbox(store)
    assert event_type == events.CASE_OPENED
    assert (payload["case"]["tracking_number"], payload["actor"]["role"]) == ("JBT-0001", "village")


def test_the_same_issue_handled_twice_opens_one_case(store):
    handle(store, events.ISSUE_REPORTED, issue("case-0001"))
    handle(store, events.ISSUE_REPORTED, issue("case-0001"))
    assert timeline_types(store, "case-0001") == [facts.REPORTED]
    assert [t for t, _ in outbox(store)] == [events.CASE_OPENED]


def test_a_new_case_like_an_open_one_of_the_village_is_flagged_as_its_likely_duplicate(store):
    handle(store, events.ISSUE_REPORTED, issue("case-0001", days_ago=2))
    handle(store, events.ISSUE_REPORTED, issue("case-0002"))
    assert case_row(store, "case-0002").likely_duplicate_of == "case-0001"
    assert timeline_types(store, "case-0002") == [facts.REPORTED, facts.LIKELY_DUPLICATE]
    assert [(t, p.get("other_number")) for t, p in outbox(store)] == [
        (events.CASE_OPENED, None), (events.CASE_OPENED, None),
        (events.LIKELY_DUPLICATE, "JBT-0001")]


def test_a_case_of_another_village_or_category_or_like_a_cancelled_one_is_not_flagged(store):
    handle(store, events.ISSUE_REPORTED, issue("case-0001"))
    commands.run(store, commands.cancel, COORDINATOR, "case-0001", {"reason": "Salah lapor"})
    handle(store, events.ISSUE_REPORTED, issue("case-0002"))               # like a cancelled one
    handle(store, events.ISSUE_REPORTED, issue("case-0003", village=BULUKERTO))
    handle(store, events.ISSUE_REPORTED, issue("case-0004", category="jalan-jembatan"))
    assert case_row(store, "case-0003").likely_duplicate_of is None
    assert case_row(store, "case-0004").likely_duplicate_of is None
    assert case_row(store, "case-0002").likely_duplicate_of is None
    assert events.LIKELY_DUPLICATE not in [t for t, _ in outbox(store)]


# -- routing decided -------------------------------------------------------------------------------

def test_a_routed_decision_gives_the_case_its_agencies(store):
    routed_case(store)
    case = case_row(store, "case-0001")
    assert case.status == domain.ROUTED and case.rule_id == "bumiaji-air"
    assert sorted((t.agency_id, t.role, t.status) for t in case.tasks) == [
        ("pdam-batu", "lead", "pending"), ("pupr-batu", "support", "pending")]
    assert timeline_types(store, "case-0001") == [facts.REPORTED, facts.ROUTED]
    [_opened, (event_type, payload)] = outbox(store)
    assert event_type == events.CASE_ROUTED
    assert payload["agency_ids"] == ["pdam-batu", "pupr-batu"]
    assert payload["explanation"]["en"] == "Bumiaji clean water rule"


def test_a_needs_triage_decision_sends_the_case_to_the_coordinator(store):
    handle(store, events.ISSUE_REPORTED, issue("case-0001"))
    handle(store, events.ROUTING_DECIDED, decision("case-0001", events.OUTCOME_NEEDS_TRIAGE))
    assert case_row(store, "case-0001").status == domain.NEEDS_TRIAGE
    [_opened, (event_type, payload)] = outbox(store)
    assert event_type == events.CASE_NEEDS_TRIAGE and payload["explanation"]["id"]


def test_a_second_routing_of_a_case_already_routed_is_ignored(store):
    routed_case(store)
    before = outbox(store)
    handle(store, events.ROUTING_DECIDED, decision("case-0001", tasks=[planned("bpbd-batu")]))
    assert outbox(store) == before
    assert len(case_row(store, "case-0001").tasks) == 2


def test_routing_for_a_case_never_opened_fails_to_be_tried_again(store):
    with pytest.raises(LookupError):
        handle(store, events.ROUTING_DECIDED, decision("case-9999"))


def test_a_referral_gives_the_case_to_the_next_agency_the_rule_names(store):
    routed_case(store, tasks=[planned("pdam-batu")])
    pdam_task = task_id(store, "case-0001", "pdam-batu")
    commands.run(store, commands.task_action, PDAM, "case-0001", pdam_task, "decline",
                 {"reason": "Bukan wewenang kami"})
    assert case_row(store, "case-0001").status == domain.NEEDS_TRIAGE
    types, _ = announced(store, lambda: handle(store, events.ROUTING_DECIDED, decision(
        "case-0001", events.OUTCOME_REFERRED, tasks=[planned("bpbd-batu")])))
    assert types == [events.CASE_ROUTED]
    case = case_row(store, "case-0001")
    assert case.status == domain.ROUTED
    assert [(t.agency_id, t.role, t.status) for t in case.tasks] == [
        ("pdam-batu", "lead", "declined"), ("bpbd-batu", "lead", "pending")]


def test_a_referral_to_an_agency_already_supporting_makes_it_the_lead(store):
    routed_case(store)
    pdam_task = task_id(store, "case-0001", "pdam-batu")
    commands.run(store, commands.task_action, PDAM, "case-0001", pdam_task, "decline",
                 {"reason": "Bukan wewenang kami"})
    types, _ = announced(store, lambda: handle(store, events.ROUTING_DECIDED, decision(
        "case-0001", events.OUTCOME_REFERRED, tasks=[planned("pupr-batu")])))
    assert types == [events.LEAD_CHANGED]
    case = case_row(store, "case-0001")
    assert case.status == domain.ROUTED
    assert {t.agency_id: t.role for t in case.tasks if t.status == "pending"} == {
        "pupr-batu": "lead"}
    assert timeline_types(store, "case-0001")[-1] == facts.LEAD_CHANGED


def test_a_referral_the_case_can_no_longer_take_is_dropped(store):
    routed_case(store, tasks=[planned("pdam-batu")])
    commands.run(store, commands.cancel, COORDINATOR, "case-0001", {"reason": "Sudah teratasi"})
    types, _ = announced(store, lambda: handle(store, events.ROUTING_DECIDED, decision(
        "case-0001", events.OUTCOME_REFERRED, tasks=[planned("bpbd-batu")])))
    assert types == []
    assert case_row(store, "case-0001").status == domain.CANCELLED


# -- commands: what each records -------------------------------------------------------------------

def test_accepting_announces_the_acceptance_and_puts_the_case_in_progress(store):
    routed_case(store)
    types, task = run(store, commands.task_action, PDAM, "case-0001",
                      task_id(store, "case-0001", "pdam-batu"), "accept", {"note": "Meluncur"})
    assert types == [events.TASK_ACCEPTED]  # in progress is told by the acceptance itself
    assert (task["status"], task["note"]) == ("accepted", "Meluncur")
    assert case_row(store, "case-0001").status == domain.IN_PROGRESS
    assert timeline_types(store, "case-0001")[-2:] == [facts.TASK_ACCEPTED, facts.IN_PROGRESS]


def test_the_lead_declining_sends_the_case_to_triage(store):
    routed_case(store)
    types, task = run(store, commands.task_action, PDAM, "case-0001",
                      task_id(store, "case-0001", "pdam-batu"), "decline", {"reason": "Bukan kami"})
    assert types == [events.TASK_DECLINED, events.CASE_NEEDS_TRIAGE]
    assert task["status"] == "declined"


def test_progress_then_completion_by_every_agency_resolves_the_case(store):
    routed_case(store)
    pdam, pupr = (task_id(store, "case-0001", a) for a in ("pdam-batu", "pupr-batu"))
    run(store, commands.task_action, PDAM, "case-0001", pdam, "accept", {})
    run(store, commands.task_action, PUPR, "case-0001", pupr, "accept", {})
    assert run(store, commands.task_action, PDAM, "case-0001", pdam, "progress",
               {"note": "Pipa diganti"})[0] == [events.TASK_PROGRESSED]
    assert run(store, commands.task_action, PUPR, "case-0001", pupr, "complete",
               {"note": "Jalan ditutup"})[0] == [events.TASK_COMPLETED]
    assert run(store, commands.task_action, PDAM, "case-0001", pdam, "complete",
               {"note": "Air mengalir"})[0] == [events.TASK_COMPLETED, events.CASE_RESOLVED]
    assert case_row(store, "case-0001").status == domain.RESOLVED


def test_confirming_closes_the_case(store):
    resolved_case(store)
    types, view = run(store, commands.confirm, VILLAGE, "case-0001", {"note": "Terima kasih"})
    assert types == [events.CASE_CLOSED] and view["status"] == domain.CLOSED


def test_reopening_gives_the_task_back_with_its_deadlines_counted_again(store):
    resolved_case(store, accept_within="6h", resolve_within="48h")
    before = utcnow()
    types, view = run(store, commands.reopen, VILLAGE, "case-0001", {"reason": "Keruh lagi"})
    after = utcnow()
    assert types == [events.CASE_REOPENED] and view["status"] == domain.REOPENED
    [task] = case_row(store, "case-0001").tasks
    assert (task.status, task.ladder_step) == (domain.PENDING, 0)
    assert before + timedelta(hours=6) <= task.accept_due_at <= after + timedelta(hours=6)
    assert before + timedelta(hours=48) <= task.due_at <= after + timedelta(hours=48)


def test_commenting_announces_the_comment_and_answers_it(store):
    routed_case(store)
    types, comment = run(store, commands.add_comment, PDAM, "case-0001", {"body": "Besok pagi"})
    assert types == [events.COMMENT_ADDED]
    assert (comment["body"], comment["author"]) == (
        "Besok pagi", {"role": "agency", "name": "Petugas PDAM"})
    [(_, payload)] = outbox(store)[-1:]
    assert (payload["comment_id"], payload["body"]) == (comment["id"], "Besok pagi")


def test_routing_by_hand_gives_a_case_in_triage_its_agencies(store):
    handle(store, events.ISSUE_REPORTED, issue("case-0001"))
    handle(store, events.ROUTING_DECIDED, decision("case-0001", events.OUTCOME_NEEDS_TRIAGE))
    plan = {"tasks": [planned("bpbd-batu")], "explanation": EXPLANATION_BY_HAND,
            "note": "BPBD punya tangki"}
    types, view = run(store, commands.route, COORDINATOR, "case-0001", plan)
    assert types == [events.CASE_ROUTED]
    assert view["status"] == domain.ROUTED and view["routing"]["rule_id"] is None


def test_an_invalid_plan_is_refused_before_anything_changes(store):
    routed_case(store)
    with pytest.raises(ValidationFailed):
        commands.run(store, commands.route, COORDINATOR, "case-0001",
                     {"tasks": [{"agency_id": "bpbd-batu"}], "explanation": None, "note": None})


def test_escalating_by_hand_announces_the_escalation(store):
    routed_case(store)
    types, view = run(store, commands.escalate, COORDINATOR, "case-0001",
                      {"reason": "Lima hari tanpa air"})
    assert types == [events.CASE_ESCALATED] and view["escalation_level"] == "regency"


def test_cancelling_releases_the_agencies(store):
    routed_case(store)
    types, view = run(store, commands.cancel, REGENCY, "case-0001", {"reason": "Laporan ganda"})
    assert types == [events.CASE_CANCELLED] and view["status"] == domain.CANCELLED
    [(_, payload)] = outbox(store)[-1:]
    assert payload["agency_ids"] == ["pdam-batu", "pupr-batu"]


def test_merging_ends_the_duplicate_and_links_both_cases(store):
    handle(store, events.ISSUE_REPORTED, issue("case-0001", days_ago=1))
    handle(store, events.ISSUE_REPORTED, issue("case-0002"))
    types, kept = run(store, commands.merge, COORDINATOR, "case-0002",
                      {"into": "jbt-0001", "reason": "Masalah yang sama"})
    assert types == [events.CASE_MERGED, events.DUPLICATE_MERGED]
    assert kept["id"] == "case-0001"
    assert (case_row(store, "case-0002").status, case_row(store, "case-0002").merged_into) == (
        domain.CANCELLED, "case-0001")


def test_a_case_merged_into_one_the_coordinator_does_not_see_is_refused(store):
    handle(store, events.ISSUE_REPORTED, issue("case-0001"))
    with pytest.raises(NotFound):
        commands.run(store, commands.merge, COORDINATOR, "case-0001",
                     {"into": "case-9999", "reason": "Sama"})


def test_withdrawing_the_lead_sends_the_case_to_triage_and_making_a_lead_routes_it_again(store):
    routed_case(store)
    types, _ = run(store, commands.supervise_task, COORDINATOR, "case-0001",
                   task_id(store, "case-0001", "pdam-batu"), "withdraw", {"reason": "Tidak hadir"})
    assert types == [events.TASK_WITHDRAWN, events.CASE_NEEDS_TRIAGE]
    types, view = run(store, commands.supervise_task, COORDINATOR, "case-0001",
                      task_id(store, "case-0001", "pupr-batu"), "lead", {"reason": "PUPR siap"})
    assert types == [events.LEAD_CHANGED] and view["status"] == domain.ROUTED


def test_the_clock_reminds_then_escalates_a_case_whose_deadline_passed(store):
    # A high case: four hours between the steps of the ladder.
    routed_case(store, tasks=[planned("pdam-batu", accept_in=-timedelta(hours=9))])
    types, _ = run(store, commands.watch_case, "case-0001")
    assert types == [events.DEADLINE_MISSED, events.CASE_ESCALATED, events.CASE_ESCALATED]
    assert case_row(store, "case-0001").escalation_level == ladder.REGENCY
    assert run(store, commands.watch_case, "case-0001")[0] == []


# -- commands: refusals ----------------------------------------------------------------------------

def test_an_unknown_action_is_refused(store):
    routed_case(store)
    with pytest.raises(ValidationFailed):
        commands.run(store, commands.task_action, PDAM, "case-0001", "t", "finish", {})
    with pytest.raises(ValidationFailed):
        commands.run(store, commands.supervise_task, COORDINATOR, "case-0001", "t", "hide",
                     {"reason": "x"})


def test_the_policy_decides_who_may_act(store):
    routed_case(store)
    pdam_task = task_id(store, "case-0001", "pdam-batu")
    with pytest.raises(Forbidden):
        commands.run(store, commands.task_action, VILLAGE, "case-0001", pdam_task, "accept", {})
    with pytest.raises(NotFound):
        commands.run(store, commands.cancel, OTHER_COORDINATOR, "case-0001", {"reason": "x"})
    with pytest.raises(NotFound):
        commands.run(store, commands.confirm, VILLAGE, "case-9999", {})
    assert [t for t, _ in outbox(store)] == [events.CASE_OPENED, events.CASE_ROUTED]


def test_a_command_that_keeps_losing_the_race_gives_up_with_a_conflict(store):
    attempts = []

    def always_stale(unit):
        attempts.append(unit)
        raise StaleDataError("the case changed meanwhile")

    with pytest.raises(Conflict):
        commands.run(store, always_stale)
    assert len(attempts) == commands.COMMAND_ATTEMPTS
