"""The likely-duplicate rule (services/requests/domain.py): a new case of the same village and
category as an open case is flagged, for the coordinator to merge if it is the same problem."""
from dataclasses import dataclass
from datetime import timedelta

import pytest

from services.requests import domain, facts
from tests.unit.standins import T0

PUNTEN, SUMBEREJO = "35.79.02.2001", "35.79.01.2005"


@dataclass
class Report:
    """The attributes of a case the rule reads."""

    id: str
    village_code: str = PUNTEN
    category: str = "air-bersih"
    status: str = domain.ROUTED
    created_at: object = T0
    tracking_number: str = "JBT-0001"
    likely_duplicate_of: str | None = None
    confidential: bool = False


NEW = Report("new", status=domain.REPORTED, created_at=T0 + timedelta(days=3))


def test_a_new_case_of_the_same_village_and_category_as_an_open_case_is_its_likely_duplicate():
    assert domain.is_likely_duplicate(NEW, Report("open"))


def test_a_case_of_another_village_is_not_a_duplicate():
    assert not domain.is_likely_duplicate(NEW, Report("elsewhere", village_code=SUMBEREJO))


def test_a_case_of_another_category_is_not_a_duplicate():
    assert not domain.is_likely_duplicate(NEW, Report("roads", category="jalan-jembatan"))


@pytest.mark.parametrize("status", domain.FINAL_STATUSES)
def test_a_closed_or_cancelled_case_is_not_duplicated(status):
    assert not domain.is_likely_duplicate(NEW, Report("over", status=status))


@pytest.mark.parametrize("status", sorted(set(domain.CASE_STATUSES) - set(domain.FINAL_STATUSES)))
def test_any_case_still_open_is_duplicated(status):
    assert domain.is_likely_duplicate(NEW, Report("open", status=status))


def test_a_public_case_is_never_hinted_at_a_confidential_one_nor_the_other_way():
    assert not domain.is_likely_duplicate(NEW, Report("complaint", confidential=True))
    secret = Report("new-complaint", status=domain.REPORTED, confidential=True)
    assert not domain.is_likely_duplicate(secret, Report("open"))
    assert domain.is_likely_duplicate(secret, Report("complaint", confidential=True))


def test_a_case_is_not_its_own_duplicate():
    assert not domain.is_likely_duplicate(NEW, NEW)


def test_the_newest_open_case_the_rule_names_is_the_likely_original():
    older = Report("older", created_at=T0)
    newer = Report("newer", created_at=T0 + timedelta(days=1))
    closed = Report("closed", status=domain.CLOSED, created_at=T0 + timedelta(days=2))
    assert domain.likely_original(NEW, [older, newer, closed, NEW]) is newer
    assert domain.likely_original(NEW, [closed, NEW]) is None


def test_flagging_links_the_new_case_and_tells_the_coordinator_which_case_it_resembles():
    original = Report("open", tracking_number="JBT-0042")
    case = Report("new", status=domain.REPORTED)
    [fact] = domain.flag_likely_duplicate(case, original)
    assert case.likely_duplicate_of == "open"
    assert (fact.type, fact.actor, fact.data) == (
        facts.LIKELY_DUPLICATE, domain.SYSTEM, {"other_id": "open", "other_number": "JBT-0042"})
