"""Killing the routing service after reports are accepted: each case is still routed once."""
import signal

from tests.e2e.helpers import PUNTEN, case_when, clean_water_report, inbox_types, report
from tests.broker import eventually


def routed_once(system, village, case_id):
    case = case_when(village, case_id, "routed", timeout=30)
    assert sorted(t["agency"]["id"] for t in case["tasks"]) == ["pdam-batu", "pupr-batu"]
    assert system.count("routing", "decisions", case_id=case_id) == 1
    assert system.count("requests", "tasks", case_id=case_id) == 2
    assert system.count("requests", "timeline", case_id=case_id, type="routed") == 1
    pdam = inbox_types(system.agency("pdam-batu"), case_id, ["case_routed"])
    assert [n["type"] for n in pdam].count("case_routed") == 1


def test_reports_accepted_while_routing_is_down_are_routed_once_it_is_back(system):
    village = system.village(PUNTEN)
    system.kill("routing", signal.SIGKILL)

    accepted = [report(village, clean_water_report(title=f"Air mati di RT 0{n}"))
                for n in range(1, 4)]
    for case in accepted:
        case_when(village, case["case_id"], "reported")
    eventually(lambda: system.vhost.messages_in("jembatan.routing.events") == 3,
               timeout=20, interval=0.2)

    system.run("routing")
    for case in accepted:
        routed_once(system, village, case["case_id"])


def test_routing_killed_right_after_a_report_routes_it_exactly_once(system):
    village = system.village(PUNTEN)
    for attempt in range(3):
        accepted = report(village, clean_water_report(title=f"Air mati lagi ({attempt})"))
        system.kill("routing", signal.SIGKILL)
        system.run("routing")
        routed_once(system, village, accepted["case_id"])
    assert system.count("routing", "decisions") == system.count("requests", "cases", status="routed")
