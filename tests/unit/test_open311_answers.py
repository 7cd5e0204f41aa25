"""What the Open311 endpoints answer, as plain functions (services/gateway/open311.py): the
defaults of GET requests, a posted form made a report, the XML the specification shows."""
from datetime import datetime, timedelta, timezone
from xml.etree.ElementTree import tostring

import pytest

from services.gateway import open311
from shared.errors import ValidationFailed

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)


def filters(**query):
    return open311.request_filters(query, NOW)


def test_the_requests_of_the_last_90_days_by_default():
    default = filters()
    assert (default["start"], default["end"]) == ((NOW - timedelta(days=90)).isoformat(),
                                                  NOW.isoformat())
    assert default["open"] is None and default["categories"] == [] and default["limit"] == 1000


def test_a_start_alone_reaches_90_days_on_and_an_end_alone_90_days_back():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert filters(start_date=start)["end"] == (start + timedelta(days=90)).isoformat()
    assert filters(end_date=start)["start"] == (start - timedelta(days=90)).isoformat()


def test_a_time_without_a_zone_is_utc():
    assert filters(start_date=datetime(2026, 1, 1))["start"] == "2026-01-01T00:00:00+00:00"


@pytest.mark.parametrize("query, field", [
    ({"start_date": datetime(2026, 1, 1, tzinfo=timezone.utc),
      "end_date": datetime(2026, 4, 2, tzinfo=timezone.utc)}, "end_date"),
    ({"start_date": NOW, "end_date": NOW - timedelta(seconds=1)}, "end_date"),
    ({"status": "open,done"}, "status"),
    ({"service_code": "air-bersih,parkir"}, "service_code"),
    ({"service_request_id": ",".join(f"JBT-{n}" for n in range(101))}, "service_request_id"),
])
def test_a_bad_filter_is_refused_naming_it(query, field):
    with pytest.raises(ValidationFailed) as refused:
        filters(**query)
    assert list(refused.value.details) == [field]


def test_both_statuses_are_every_status():
    assert filters(status="open,closed")["open"] is None
    assert filters(status="closed")["open"] is False


def test_a_posted_form_is_a_report_and_its_title_the_start_of_its_description():
    posted, report = open311.posted_report({
        "api_key": "k", "service_code": "air-bersih", "attribute[severity]": "high",
        "description": "Air mati sejak Kamis\nDusun Krajan dan Jeding",
        "lat": "-7.85", "long": "112.53", "attribute[confidential]": "true",
        "first_name": "Siti"})
    assert report["title"] == "Air mati sejak Kamis"
    assert report["location"] == {"lat": -7.85, "lon": 112.53}
    assert report["confidential"] is True and "first_name" not in report
    long_line = "kata " * 100
    assert len(open311.short_title(long_line)) <= 200


def test_a_bad_report_names_the_field_of_the_form():
    with pytest.raises(ValidationFailed) as refused:
        open311.posted_report({"api_key": "k", "service_code": "air-bersih",
                               "attribute[severity]": "high", "description": "x",
                               "attribute[title]": "t" * 201})
    assert list(refused.value.details) == ["attribute[title]"]


def test_xml_as_the_specification_writes_it():
    xml = tostring(open311.element("service_requests", [
        {"service_request_id": "JBT-1", "lat": None, "metadata": True,
         "attributes": [{"values": [{"key": "low"}]}]}], "request"), encoding="unicode")
    assert xml == ("<service_requests><request><service_request_id>JBT-1</service_request_id>"
                   "<lat /><metadata>true</metadata><attributes><attribute><values><value>"
                   "<key>low</key></value></values></attribute></attributes></request>"
                   "</service_requests>")
