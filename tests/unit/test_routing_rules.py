"""The routing rules of services/routing/domain.py, each test written as the rule it checks.

Plain Python: small stand-in rules and agencies, a real Situation, the real Kota Batu codes.
"""
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import permutations

import pytest

from services.routing.domain import (
    DEFAULT_DEADLINES, Situation, applies, choose_rule, deadlines_for, explain, explain_manual,
    explain_referral, next_fallback, plan_tasks, scope_level, specificity,
)

# -- Kota Batu ---------------------------------------------------------------------------------

BATU_CITY = {"code": "35.79", "name": "Kota Batu"}
BUMIAJI = {"code": "35.79.02", "name": "Bumiaji"}
PUNTEN = {"code": "35.79.02.2001", "name": "Punten"}
BATU_DISTRICT = {"code": "35.79.01", "name": "Batu"}
SUMBEREJO = {"code": "35.79.01.2005", "name": "Sumberejo"}
EAST_JAVA = "35"
MALANG_REGENCY = "35.07"           # another kabupaten of the same province
MALANG_DISTRICT = "35.07.01"

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


@dataclass(frozen=True)
class DeadlineRule:
    id: str
    scope_code: str
    deadlines: dict


@dataclass(frozen=True)
class Rule:
    """A stand-in for the routing rule row: just the attributes the domain reads."""

    id: str
    scope_code: str
    category: str = "air-bersih"
    min_severity: str | None = None
    min_affected_people: int | None = None
    name: str = ""

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", f"Aturan {self.id}")


@dataclass(frozen=True)
class Agency:
    id: str
    name: str


PDAM = Agency("pdam-batu", "PDAM")
PUPR = Agency("pupr-batu", "Dinas PUPR")
BPBD = Agency("bpbd-batu", "BPBD")


def in_punten(category="air-bersih", severity="high", affected_people=320):
    return Situation(village=PUNTEN, district=BUMIAJI, regency=BATU_CITY, category=category,
                     severity=severity, affected_people=affected_people)


def in_sumberejo(category="air-bersih", severity="high", affected_people=320):
    return Situation(village=SUMBEREJO, district=BATU_DISTRICT, regency=BATU_CITY,
                     category=category, severity=severity, affected_people=affected_people)


def chosen_id(rules, situation):
    rule, _matching = choose_rule(rules, situation)
    return rule.id if rule else None


# -- scope ------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, level", [
    ("35", "province"),
    ("35.79", "regency"),
    ("35.79.02", "district"),
    ("35.79.02.2001", "village"),
])
def test_scope_level_follows_the_number_of_code_segments(code, level):
    assert scope_level(code) == level


def test_scope_level_of_a_code_with_too_many_segments_is_unknown():
    assert scope_level("35.79.02.2001.9") is None


def test_situation_codes_are_village_district_regency_province():
    assert in_punten().codes == ("35.79.02.2001", "35.79.02", "35.79", "35")


def test_situation_place_names_an_area_of_the_report_and_falls_back_to_the_code():
    situation = in_punten()
    assert situation.place("35.79.02") == BUMIAJI
    assert situation.place("35.79") == BATU_CITY
    assert situation.place("35") == {"code": "35", "name": "35"}


# -- the most specific rule wins -----------------------------------------------------------------

def test_village_scope_beats_district_and_regency():
    rules = [Rule("regency", "35.79"), Rule("district", "35.79.02"),
             Rule("village", "35.79.02.2001")]
    for order in permutations(rules):
        assert chosen_id(list(order), in_punten()) == "village"


def test_district_scope_beats_regency():
    rules = [Rule("regency", "35.79"), Rule("district", "35.79.02")]
    for order in permutations(rules):
        assert chosen_id(list(order), in_punten()) == "district"


def test_regency_scope_beats_province():
    rules = [Rule("province", EAST_JAVA), Rule("regency", "35.79")]
    assert chosen_id(rules, in_punten()) == "regency"


def test_a_province_rule_applies_when_nothing_narrower_exists():
    assert chosen_id([Rule("province", EAST_JAVA)], in_punten()) == "province"


def test_narrower_scope_beats_a_wider_rule_with_more_conditions():
    wide_but_strict = Rule("regency-strict", "35.79", min_severity="high",
                           min_affected_people=100)
    narrow = Rule("village-plain", "35.79.02.2001")
    assert chosen_id([wide_but_strict, narrow], in_punten()) == "village-plain"


def test_with_equal_scope_more_conditions_beat_fewer():
    none = Rule("r-none", "35.79.02")
    one = Rule("r-one", "35.79.02", min_severity="medium")
    two = Rule("r-two", "35.79.02", min_severity="low", min_affected_people=10)
    for order in permutations([none, one, two]):
        assert chosen_id(list(order), in_punten()) == "r-two"
    assert chosen_id([none, one], in_punten()) == "r-one"


def test_with_equal_scope_and_conditions_the_stricter_severity_wins():
    medium = Rule("r-a", "35.79", min_severity="medium")
    high = Rule("r-b", "35.79", min_severity="high")
    low = Rule("r-c", "35.79", min_severity="low")
    for order in permutations([medium, high, low]):
        assert chosen_id(list(order), in_punten(severity="critical")) == "r-b"


def test_with_equal_scope_and_conditions_the_higher_people_threshold_wins():
    fifty = Rule("r-z", "35.79.02", min_affected_people=50)
    three_hundred = Rule("r-a", "35.79.02", min_affected_people=300)
    assert chosen_id([fifty, three_hundred], in_punten(affected_people=320)) == "r-a"
    assert chosen_id([three_hundred, fifty], in_punten(affected_people=320)) == "r-a"


def test_a_zero_people_threshold_still_counts_as_a_condition():
    zero = Rule("r-a", "35.79", min_affected_people=0)
    plain = Rule("r-z", "35.79")
    assert chosen_id([plain, zero], in_punten()) == "r-a"


def test_a_tie_is_broken_by_rule_id_the_same_way_whatever_the_order():
    # Same scope, same conditions: the rule id decides; the lowest id wins, always.
    rules = [Rule("batu-air-b", "35.79"), Rule("batu-air-c", "35.79"),
             Rule("batu-air-a", "35.79")]
    winners = {chosen_id(list(order), in_punten()) for order in permutations(rules)}
    assert winners == {"batu-air-a"}


def test_matching_lists_every_applying_rule_most_specific_first():
    rules = [Rule("regency", "35.79"), Rule("village", "35.79.02.2001"),
             Rule("district", "35.79.02"), Rule("other-district", "35.79.01"),
             Rule("district-strict", "35.79.02", min_severity="critical")]
    rule, matching = choose_rule(rules, in_punten(severity="high"))
    assert rule.id == "village"
    assert [r.id for r in matching] == ["village", "district", "regency"]


def test_specificity_orders_scope_then_count_then_strictness():
    assert specificity(Rule("a", "35.79.02.2001")) == (4, 0, -1, 0)
    assert specificity(Rule("a", "35.79", min_severity="high", min_affected_people=20)) == (
        2, 2, 2, 20)
    assert specificity(Rule("a", "35.79.02", min_affected_people=7)) == (3, 1, -1, 7)


# -- conditions --------------------------------------------------------------------------------

@pytest.mark.parametrize("severity, expected", [
    ("low", False), ("medium", False), ("high", True), ("critical", True),
])
def test_min_severity_applies_at_or_above_it(severity, expected):
    rule = Rule("r", "35.79", min_severity="high")
    assert applies(rule, in_punten(severity=severity)) is expected


def test_without_min_severity_any_severity_applies():
    rule = Rule("r", "35.79")
    assert all(applies(rule, in_punten(severity=s)) for s in ("low", "medium", "high", "critical"))


@pytest.mark.parametrize("people, expected", [
    (None, False), (0, False), (99, False), (100, True), (101, True), (5000, True),
])
def test_min_affected_people_applies_at_or_above_it(people, expected):
    rule = Rule("r", "35.79", min_affected_people=100)
    assert applies(rule, in_punten(affected_people=people)) is expected


def test_without_min_affected_people_an_unknown_count_applies():
    assert applies(Rule("r", "35.79"), in_punten(affected_people=None)) is True


def test_both_conditions_must_hold():
    rule = Rule("r", "35.79", min_severity="high", min_affected_people=100)
    assert applies(rule, in_punten(severity="high", affected_people=100)) is True
    assert applies(rule, in_punten(severity="medium", affected_people=1000)) is False
    assert applies(rule, in_punten(severity="critical", affected_people=99)) is False


def test_a_stricter_rule_that_does_not_hold_falls_back_to_a_looser_one():
    loose = Rule("loose", "35.79.02")
    strict = Rule("strict", "35.79.02", min_severity="critical")
    assert chosen_id([loose, strict], in_punten(severity="critical")) == "strict"
    assert chosen_id([loose, strict], in_punten(severity="high")) == "loose"


# -- place and category ------------------------------------------------------------------------

def test_the_category_must_match():
    rule = Rule("roads", "35.79.02.2001", category="jalan-jembatan")
    assert applies(rule, in_punten(category="air-bersih")) is False
    assert applies(rule, in_punten(category="jalan-jembatan")) is True


def test_a_more_specific_rule_of_another_category_is_ignored():
    rules = [Rule("water", "35.79"), Rule("roads-punten", "35.79.02.2001", category="jalan-jembatan")]
    assert chosen_id(rules, in_punten(category="air-bersih")) == "water"


def test_a_rule_of_another_district_never_applies():
    rules = [Rule("batu-district", "35.79.01"), Rule("sumberejo", "35.79.01.2005")]
    assert choose_rule(rules, in_punten()) == (None, [])
    assert chosen_id(rules, in_sumberejo()) == "sumberejo"


def test_a_rule_of_another_regency_never_applies():
    rules = [Rule("malang", MALANG_REGENCY), Rule("malang-district", MALANG_DISTRICT)]
    assert choose_rule(rules, in_punten()) == (None, [])


def test_a_rule_of_another_village_in_the_same_district_never_applies():
    assert applies(Rule("other-village", "35.79.02.2002"), in_punten()) is False


def test_a_prefix_that_is_not_a_whole_code_never_applies():
    # "35.7" is not Kota Batu's regency even though "35.79" starts with it.
    assert applies(Rule("prefix", "35.7"), in_punten()) is False


# -- explanation ------------------------------------------------------------------------------

def test_no_match_gives_no_rule_and_says_the_coordinator_must_route():
    situation = in_punten()
    rule, matching = choose_rule([Rule("roads", "35.79", category="jalan-jembatan")], situation)
    assert rule is None and matching == []
    why = explain(rule, matching, situation, None, [])
    assert set(why) == {"id", "en"}
    assert why["id"] == (
        "Tidak ada aturan rute untuk kategori Air Bersih di Desa Punten, "
        "Kecamatan Bumiaji, Kota Batu. Koordinator kecamatan perlu merutekan kasus ini.")
    assert why["en"] == (
        "No routing rule covers category Clean Water in Punten, Bumiaji district, Kota Batu. "
        "The district coordinator must route this case.")


def test_a_single_match_is_explained_as_the_only_rule_with_its_id():
    situation = in_punten(severity="high", affected_people=320)
    rule = Rule("batu-air-bumiaji", "35.79.02", min_severity="high", name="Air Bumiaji")
    chosen, matching = choose_rule([rule], situation)
    why = explain(chosen, matching, situation, PDAM, [PUPR])
    assert set(why) == {"id", "en"}
    assert why["id"] == (
        "Aturan «Air Bumiaji» (batu-air-bumiaji) dipakai: berlaku untuk kecamatan Bumiaji, "
        "kategori Air Bersih, keparahan minimal tinggi. Laporan ini: keparahan tinggi, "
        "320 warga terdampak. Dipilih karena satu-satunya aturan yang cocok. Pemimpin: PDAM. "
        "Pendukung: Dinas PUPR.")
    assert why["en"] == (
        "Rule «Air Bumiaji» (batu-air-bumiaji) applies to district Bumiaji, "
        "category Clean Water, severity high or more. This report: severity high, "
        "320 people affected. Chosen as the only rule that applies. Lead: PDAM. "
        "Support: Dinas PUPR.")
    assert "paling spesifik" not in why["id"]


def test_several_matches_are_explained_as_the_most_specific_of_them():
    situation = in_punten(severity="critical", affected_people=500)
    rules = [Rule("batu-air", "35.79", name="Air Kota Batu"),
             Rule("bumiaji-air", "35.79.02", name="Air Bumiaji"),
             Rule("punten-air-besar", "35.79.02.2001", min_affected_people=200,
                  name="Air Punten besar")]
    chosen, matching = choose_rule(rules, situation)
    why = explain(chosen, matching, situation, PDAM, [PUPR, BPBD])
    assert "(punten-air-besar)" in why["id"] and "(punten-air-besar)" in why["en"]
    assert "paling spesifik di antara 3 aturan yang cocok" in why["id"]
    assert "satu-satunya" not in why["id"]
    assert "the most specific of 3 rules that apply" in why["en"]
    assert "desa/kelurahan Punten" in why["id"] and "village Punten" in why["en"]
    assert "minimal 200 warga terdampak" in why["id"]
    assert "at least 200 people affected" in why["en"]
    assert why["id"].endswith("Pemimpin: PDAM. Pendukung: Dinas PUPR, BPBD.")
    assert why["en"].endswith("Lead: PDAM. Support: Dinas PUPR, BPBD.")


def test_explanation_without_supports_names_only_the_lead():
    situation = in_punten(affected_people=None, severity="low")
    chosen, matching = choose_rule([Rule("batu-air", "35.79", name="Air Kota Batu")], situation)
    why = explain(chosen, matching, situation, PDAM, [])
    assert why["id"].endswith("Laporan ini: keparahan rendah. Dipilih karena satu-satunya "
                              "aturan yang cocok. Pemimpin: PDAM.")
    assert why["en"].endswith("This report: severity low. Chosen as the only rule that "
                              "applies. Lead: PDAM.")
    assert "berlaku untuk Kota Batu" in why["id"]
    assert "Pendukung" not in why["id"] and "Support" not in why["en"]


def test_manual_explanation_names_the_actor_the_agencies_and_the_note():
    why = explain_manual("Camat Bumiaji", "PDAM sedang perbaikan", PDAM, [PUPR])
    assert why == {
        "id": "Dirutekan manual oleh Camat Bumiaji ke PDAM, Dinas PUPR. "
              "Catatan: PDAM sedang perbaikan",
        "en": "Routed by hand by Camat Bumiaji to PDAM, Dinas PUPR. "
              "Note: PDAM sedang perbaikan",
    }


# -- tasks -------------------------------------------------------------------------------------

def test_plan_tasks_gives_the_lead_first_then_the_supports_with_deadlines():
    # Tuesday 4 March 2025, 12:06 WIB: 4 hours to accept, 2 working days to resolve
    # (Thursday, when the offices close at 16:00 WIB).
    tasks = plan_tasks(PDAM, [PUPR, BPBD], NOW, {"accept": "4h", "resolve": "2wd"}, "35.79")
    assert tasks == [
        {"agency_id": "pdam-batu", "agency_name": "PDAM", "role": "lead",
         "accept_due_at": "2025-03-04T09:06:07.000Z", "due_at": "2025-03-06T09:00:00.000Z",
         "accept_within": "4h", "resolve_within": "2wd"},
        {"agency_id": "pupr-batu", "agency_name": "Dinas PUPR", "role": "support",
         "accept_due_at": "2025-03-04T09:06:07.000Z", "due_at": "2025-03-06T09:00:00.000Z",
         "accept_within": "4h", "resolve_within": "2wd"},
        {"agency_id": "bpbd-batu", "agency_name": "BPBD", "role": "support",
         "accept_due_at": "2025-03-04T09:06:07.000Z", "due_at": "2025-03-06T09:00:00.000Z",
         "accept_within": "4h", "resolve_within": "2wd"},
    ]


def test_working_day_deadlines_skip_the_weekend_and_national_holidays():
    # Friday 28 March 2025, 10:00 WIB. Monday 31 March and Tuesday 1 April are Idul Fitri.
    friday = datetime(2025, 3, 28, 3, 0, tzinfo=timezone.utc)
    [task] = plan_tasks(PDAM, [], friday, {"accept": "1wd", "resolve": "3wd"}, "35.79")
    assert task["accept_due_at"] == "2025-04-02T09:00:00.000Z"   # Wednesday, 16:00 WIB
    assert task["due_at"] == "2025-04-04T09:00:00.000Z"          # Friday, 16:00 WIB


def test_a_rule_overrides_the_default_deadlines_of_a_severity():
    assert deadlines_for("medium") == DEFAULT_DEADLINES["medium"] == {"accept": "3wd",
                                                                      "resolve": "5wd"}
    assert deadlines_for("critical")["accept"].endswith("h")
    custom = DeadlineRule("r", "35.79", deadlines={"high": {"accept": "6h"}})
    assert deadlines_for("high", custom) == {"accept": "6h", "resolve": "3wd"}
    assert deadlines_for("low", custom) == DEFAULT_DEADLINES["low"]


def test_plan_tasks_without_a_lead_gives_only_supports():
    tasks = plan_tasks(None, [PUPR], NOW, DEFAULT_DEADLINES["low"], "35.79")
    assert [(t["agency_id"], t["role"]) for t in tasks] == [("pupr-batu", "support")]
    assert plan_tasks(None, [], NOW, DEFAULT_DEADLINES["low"], "35.79") == []


# -- referral --------------------------------------------------------------------------------

@dataclass(frozen=True)
class FallbackRule:
    id: str
    name: str
    fallback_agency_ids: tuple


FLOOD = FallbackRule("batu-banjir-bencana", "Banjir", ("satpolpp-batu", "dlh-batu", "pupr-batu"))


def on_case(*tasks):
    """The tasks of a case as routing gets them: (agency_id, role, status)."""
    return [{"agency_id": agency_id, "role": role, "status": status}
            for agency_id, role, status in tasks]


FLOOD_CASE = on_case(("bpbd-batu", "lead", "accepted"), ("pupr-batu", "support", "pending"),
                     ("dinsos-batu", "support", "declined"))


def test_a_declined_support_goes_to_the_first_fallback_not_on_the_case():
    assert next_fallback(FLOOD, "support", FLOOD_CASE, []) == "satpolpp-batu"


@pytest.mark.parametrize("ended", ["declined", "withdrawn"])
def test_an_agency_whose_task_ended_never_gets_the_case_back_from_the_rules(ended):
    tasks = FLOOD_CASE + on_case(("satpolpp-batu", "support", ended))
    assert next_fallback(FLOOD, "support", tasks, []) == "dlh-batu"
    assert next_fallback(FLOOD, "lead", tasks, []) == "dlh-batu"


def test_an_agency_referred_before_is_not_referred_again():
    # Referred once (the referral may not have become a task, e.g. the case was closed).
    assert next_fallback(FLOOD, "support", FLOOD_CASE, ["satpolpp-batu"]) == "dlh-batu"
    assert next_fallback(FLOOD, "lead", FLOOD_CASE, ["satpolpp-batu", "dlh-batu"]) == "pupr-batu"


def test_a_declined_support_passes_over_an_agency_already_working_on_the_case():
    tasks = FLOOD_CASE + on_case(("satpolpp-batu", "support", "declined"),
                                 ("dlh-batu", "support", "completed"))
    # DLH (completed) and PUPR (pending) already work on the case: nobody left to refer.
    assert next_fallback(FLOOD, "support", tasks, []) is None


def test_a_declined_lead_is_taken_over_by_a_supporting_fallback():
    # Changed on purpose: when the lead declines, a fallback that already supports the case is
    # returned, to be promoted to lead (it used to be skipped as "involved").
    tasks = on_case(("bpbd-batu", "lead", "declined"), ("satpolpp-batu", "support", "accepted"),
                    ("pupr-batu", "support", "pending"))
    assert next_fallback(FLOOD, "lead", tasks, []) == "satpolpp-batu"
    assert next_fallback(FLOOD, "support", tasks, []) == "dlh-batu"


def test_no_fallback_left_leaves_the_decision_to_the_coordinator():
    tasks = FLOOD_CASE + on_case(("satpolpp-batu", "support", "declined"),
                                 ("dlh-batu", "support", "withdrawn"))
    assert next_fallback(FLOOD, "support", tasks, []) is None
    assert next_fallback(FLOOD, "lead", tasks, ["pupr-batu"]) is None
    assert next_fallback(FallbackRule("r", "r", ()), "lead", FLOOD_CASE, []) is None


def test_a_referral_names_the_agency_that_declined_and_the_fallback():
    why = explain_referral("BPBD", "bukan wewenang", FLOOD, Agency("satpolpp-batu", "Satpol PP"))
    assert why == {
        "id": "BPBD menolak tugasnya (bukan wewenang). Dirujuk ke Satpol PP, cadangan yang "
              "disebut aturan «Banjir» (batu-banjir-bencana).",
        "en": "BPBD declined its task (bukan wewenang). Referred to Satpol PP, the fallback "
              "named by rule «Banjir» (batu-banjir-bencana).",
    }


def test_a_referral_that_promotes_a_supporting_agency_says_it_now_leads():
    why = explain_referral("BPBD", "bukan wewenang", FLOOD, Agency("satpolpp-batu", "Satpol PP"),
                           promoted=True)
    assert why == {
        "id": "BPBD menolak tugasnya (bukan wewenang). Satpol PP, yang sudah mendukung, kini "
              "memimpin sebagai cadangan yang disebut aturan «Banjir» (batu-banjir-bencana).",
        "en": "BPBD declined its task (bukan wewenang). Satpol PP, already supporting, now leads "
              "as the fallback named by rule «Banjir» (batu-banjir-bencana).",
    }


def test_working_days_fall_due_at_16_00_where_the_case_is():
    # Tuesday 4 March 2025, 13:06 in Makassar (WITA, UTC+8) and 12:06 in Batu (WIB, UTC+7).
    deadlines = {"accept": "6h", "resolve": "2wd"}
    [makassar] = plan_tasks(PDAM, [], NOW, deadlines, "73.71.01.1001")
    [batu] = plan_tasks(PDAM, [], NOW, deadlines, "35.79.02.2001")
    assert makassar["due_at"] == "2025-03-06T08:00:00.000Z"   # Thursday, 16:00 WITA
    assert batu["due_at"] == "2025-03-06T09:00:00.000Z"       # Thursday, 16:00 WIB
    assert makassar["accept_due_at"] == batu["accept_due_at"] == "2025-03-04T11:06:07.000Z"
