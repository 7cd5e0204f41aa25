"""Open311 GeoReport v2, read by a client we did not write (georeport, from PyPI) in JSON and
in XML, and posted to with plain HTTP as the specification describes; and confidential
reports, which appear nowhere but to those the case concerns.

One system on each database: a clean-water case of Punten (routed to PDAM), a confidential
complaint of Punten and a public report of the same category after it, a road case of another
village of Bumiaji (resolved), a case of Malang (another regency).
"""
import xml.etree.ElementTree as ET

import pytest
import requests
from georeport import GeoReport

from shared.categories import CATEGORIES
from tests.broker import eventually
from tests.e2e.helpers import (
    BATU, BUMIAJI, PUNTEN, case_when, clean_water_report, every, report, resolve,
)
from tests.e2e.system import Client

pytestmark = pytest.mark.e2e

GUNUNGSARI = "35.79.02.2002"   # another village of Bumiaji
MALANG_VILLAGE = "35.07.01.2001"
COMPLAINT = {"category": "adminduk", "title": "Pungutan liar oleh oknum perangkat",
             "description": "Warga dimintai uang untuk surat pengantar oleh oknum.",
             "severity": "medium", "confidential": True}
ROLES = (("village", PUNTEN), ("village", GUNUNGSARI), ("agency", "pdam-batu"),
         ("coordinator", BUMIAJI), ("regency", BATU), ("admin", None))


@pytest.fixture(scope="module")
def world(system):
    punten, gunungsari = system.village(PUNTEN), system.village(GUNUNGSARI)
    water = report(punten, clean_water_report(location={"lat": -7.85, "lon": 112.53}))
    complaint = report(punten, COMPLAINT)
    # the same village and category, public, after the complaint: never hinted at it
    after = case_when(system.admin(), report(punten, {
        **COMPLAINT, "title": "Antrean KTP panjang", "confidential": False,
        "description": "Antrean perekaman KTP elektronik sampai sore."})["case_id"], "routed")
    road = report(gunungsari, {"category": "jalan-jembatan", "title": "Jembatan dusun putus",
                              "description": "Jembatan bambu putus terbawa arus.",
                              "severity": "high"})
    # the same category in another village of the district: a duplicate hint is only ever of
    # the village's own cases
    other_complaint = report(gunungsari, {
        **COMPLAINT, "title": "Surat pengantar lambat", "confidential": False,
        "description": "Surat pengantar KTP baru selesai seminggu."})
    admin = system.admin()
    malang = report(Client(system.base, new_village_token(system, MALANG_VILLAGE)["token"]),
                    clean_water_report())
    cases = {"water": case_when(admin, water["case_id"], "routed"),
             "complaint": case_when(admin, complaint["case_id"], "routed"),
             "road": case_when(admin, road["case_id"], "routed"),
             "other_complaint": case_when(admin, other_complaint["case_id"], "routed"),
             "malang": case_when(admin, malang["case_id"], "needs_triage")}
    cases["road"] = resolve(system, cases["road"])  # done: closed to the public
    cases["after"] = after
    return system, cases


def new_village_token(system, code):
    """A token (its `id` and `token`) of a new operator of the village, issued by an admin."""
    admin = system.admin()
    operator = admin.post("/actors", {"role": "village", "scope": code,
                                      "name": "Operator Uji Open311"}).json()
    return admin.post(f"/actors/{operator['id']}/tokens", {"label": "open311"}).json()


def open311(system):
    return f"{system.root}/open311/v2"


def client(system, form, jurisdiction=BATU):
    return GeoReport(open311(system), jurisdiction=jurisdiction, output_format=form)


def listed(items):
    """georeport's XML answers: one element is a dict, several a list."""
    return items if isinstance(items, list) else [items]


@pytest.mark.parametrize("form", ["json", "xml"])
def test_georeport_reads_the_services_and_their_definitions(world, form):
    system, _ = world
    services = listed(client(system, form).get_service_list())
    assert [s["service_code"] for s in services] == [c.code for c in CATEGORIES]
    water = next(s for s in services if s["service_code"] == "air-bersih")
    assert water["service_name"] == "Air Bersih"
    assert str(water["metadata"]).lower() == "true"
    definition = client(system, form).get_service_definition("air-bersih")
    attributes = listed(definition["attributes"]["attribute"] if form == "xml"
                        else definition["attributes"])
    severity = next(a for a in attributes if a["code"] == "severity")
    assert str(severity["required"]).lower() == "true"
    values = listed(severity["values"]["value"] if form == "xml" else severity["values"])
    assert [v["key"] for v in values] == ["low", "medium", "high", "critical"]


@pytest.mark.parametrize("form", ["json", "xml"])
def test_georeport_reads_the_public_requests_of_a_jurisdiction(world, form):
    system, cases = world
    found = listed(client(system, form).get_service_requests())
    numbers = {r["service_request_id"] for r in found}
    assert cases["water"]["tracking_number"] in numbers
    assert cases["road"]["tracking_number"] in numbers
    assert cases["complaint"]["tracking_number"] not in numbers      # confidential
    assert cases["malang"]["tracking_number"] not in numbers         # another jurisdiction
    water = next(r for r in found if r["service_request_id"] == cases["water"]["tracking_number"])
    assert water["status"] == "open"
    assert water["service_code"] == "air-bersih"
    assert water["agency_responsible"] == "Perumda Air Minum Among Tirta Kota Batu (PDAM)"
    assert water["address_id"] == PUNTEN and "Punten" in water["address"]
    assert float(water["lat"]) == -7.85 and float(water["long"]) == 112.53
    assert water["expected_datetime"] and water["requested_datetime"]
    text = str(found)
    assert "Pungutan" not in text and "oknum" not in text
    for case in cases.values():  # nobody's name: a reporter is never public
        assert case["reporter"]["name"] not in text

    only_roads = listed(client(system, form).get_service_requests(service_code="jalan-jembatan"))
    assert {r["service_code"] for r in only_roads} == {"jalan-jembatan"}
    closed = listed(client(system, form).get_service_requests(status="closed"))
    assert [r["service_request_id"] for r in closed] == [cases["road"]["tracking_number"]]
    assert closed[0]["status"] == "closed" and not closed[0]["agency_responsible"]
    still_open = listed(client(system, form).get_service_requests(status="open"))
    assert cases["road"]["tracking_number"] not in {r["service_request_id"] for r in still_open}
    assert {r["status"] for r in still_open} == {"open"}


@pytest.mark.parametrize("form", ["json", "xml"])
def test_georeport_reads_one_request_and_never_a_confidential_one(world, form):
    system, cases = world
    one = client(system, form).get_service_request(cases["water"]["tracking_number"])
    assert one["service_request_id"] == cases["water"]["tracking_number"]
    assert one["agency_responsible"] == "Perumda Air Minum Among Tirta Kota Batu (PDAM)"
    for reference in (cases["complaint"]["tracking_number"], cases["complaint"]["id"]):
        with pytest.raises(requests.HTTPError) as refused:
            client(system, form).get_service_request(reference)
        assert refused.value.response.status_code == 404
    with pytest.raises(requests.HTTPError):  # a case of Malang is not of Batu's jurisdiction
        client(system, form).get_service_request(cases["malang"]["tracking_number"])


def test_a_request_posted_as_the_specification_describes_is_routed_like_any_report(world):
    system, _ = world
    token = system.actors[("village", PUNTEN)]["token"]
    answer = requests.post(f"{open311(system)}/requests.json", data={
        "api_key": token, "jurisdiction_id": BATU, "service_code": "air-bersih",
        "lat": "-7.851", "long": "112.531",
        "description": "Pipa PDAM bocor di depan balai desa, air tidak sampai ke Dusun Krajan.",
        "attribute[severity]": "high", "attribute[affected_people]": "150",
        "email": "warga@example.org", "first_name": "Siti", "phone": "081234567890"},
        timeout=10)
    assert answer.status_code == 201, answer.text
    (posted,) = answer.json()
    case = case_when(system.admin(), posted["token"], "routed")
    assert case["tracking_number"] == posted["service_request_id"]
    assert case["title"].startswith("Pipa PDAM bocor") and case["severity"] == "high"
    assert case["affected_people"] == 150 and case["village"]["code"] == PUNTEN
    assert {t["agency"]["id"] for t in case["tasks"]} >= {"pdam-batu"}
    # what the specification's personal fields carried is kept nowhere
    assert "Siti" not in str(case) and "081234567890" not in str(case)
    tokens = requests.get(f"{open311(system)}/tokens/{posted['token']}.json", timeout=10).json()
    assert tokens == [{"service_request_id": posted["service_request_id"],
                       "token": posted["token"]}]
    as_xml = requests.post(f"{open311(system)}/requests.xml", data={
        "api_key": token, "service_code": "penerangan-jalan",
        "description": "Lampu jalan di simpang tiga mati.", "attribute[severity]": "low"},
        timeout=10)
    assert as_xml.status_code == 201, as_xml.text
    root = ET.fromstring(as_xml.content)
    assert root.tag == "service_requests" and root.find("request/service_request_id").text


@pytest.mark.parametrize("fields, named", [
    ({"attribute[severity]": None}, "attribute[severity]"),
    ({"attribute[severity]": "dire"}, "attribute[severity]"),
    ({"service_code": "parkir"}, "service_code"),
    ({"description": "  "}, "description"),
    ({"lat": "-7.85"}, "long"),
    ({"attribute[affected_people]": "banyak"}, "attribute[affected_people]"),
    ({"jurisdiction_id": "35.07"}, "jurisdiction_id"),
    ({"address_id": GUNUNGSARI}, "address_id"),
    ({"long": "200", "lat": "-7.85"}, "long"),
    ({"lat": "95", "long": "112.5"}, "lat"),
    ({"attribute[title]": "x" * 201}, "attribute[title]"),
])
def test_a_bad_posted_request_is_refused_naming_its_field_and_nothing_is_reported(
        world, fields, named):
    system, _ = world
    before = system.count("villages", "reports")
    form = {"api_key": system.actors[("village", PUNTEN)]["token"], "service_code": "air-bersih",
            "description": "Air tidak mengalir.", "attribute[severity]": "high", **fields}
    for kind in ("json", "xml"):
        answer = requests.post(f"{open311(system)}/requests.{kind}", timeout=10,
                               data={k: v for k, v in form.items() if v is not None})
        assert answer.status_code == 400, answer.text
        if kind == "json":
            descriptions = [e["description"] for e in answer.json()]
            assert all(e["code"] == 400 for e in answer.json())
        else:
            descriptions = [e.findtext("description") for e in ET.fromstring(answer.content)]
        assert any(d.startswith(f"{named}:") for d in descriptions), descriptions
    assert system.count("villages", "reports") == before


@pytest.mark.parametrize("role, scope", ROLES[2:] + (("revoked", None), ("made up", None)))
def test_only_a_village_token_may_post(world, role, scope):
    system, _ = world
    if role == "made up":
        key = "not-a-token"
    elif role == "revoked":
        issued = new_village_token(system, GUNUNGSARI)
        assert system.admin().delete(f"/tokens/{issued['id']}").status_code == 204
        key = issued["token"]
    else:
        key = system.actors[(role, scope)]["token"]
    before = system.count("villages", "reports")
    answer = requests.post(f"{open311(system)}/requests.json", timeout=10, data={
        "api_key": key, "service_code": "air-bersih", "description": "Air tidak mengalir.",
        "attribute[severity]": "high"})
    assert answer.status_code == 403, answer.text
    assert answer.json()[0]["description"].startswith("api_key:")
    assert system.count("villages", "reports") == before


@pytest.mark.parametrize("role, scope", ROLES + ((None, None),))
def test_every_reader_gets_the_same_public_answer_whatever_its_token(world, role, scope):
    """The Open311 reads are public: a token of any role changes nothing, and never shows a
    confidential case."""
    system, cases = world
    headers = {} if role is None else {
        "Authorization": f"Bearer {system.actors[(role, scope)]['token']}"}
    base = open311(system)
    for path in ("/services.json", "/services/air-bersih.json", "/requests.json",
                 f"/requests/{cases['water']['tracking_number']}.json",
                 f"/tokens/{cases['water']['id']}.json"):
        plain = requests.get(base + path, timeout=10)
        signed = requests.get(base + path, headers=headers, timeout=10)
        assert plain.status_code == signed.status_code == 200, (path, signed.text)
        if path != "/requests.json":  # a report posted meanwhile may change the list
            assert plain.json() == signed.json(), path
        assert cases["complaint"]["tracking_number"] not in signed.text, path
    for path in (f"/requests/{cases['complaint']['tracking_number']}.json",
                 f"/tokens/{cases['complaint']['id']}.json"):
        assert requests.get(base + path, headers=headers, timeout=10).status_code == 404


def test_blank_optional_fields_are_fields_not_given(world):
    """Many clients send every field of the form, the ones left empty too."""
    system, _ = world
    answer = requests.post(f"{open311(system)}/requests.json", timeout=10, data={
        "api_key": system.actors[("village", PUNTEN)]["token"], "service_code": "sosial",
        "description": "Lansia sebatang kara butuh bantuan.", "attribute[severity]": "medium",
        "lat": "", "long": "", "jurisdiction_id": "", "address_id": "", "email": "",
        "attribute[affected_people]": "", "attribute[confidential]": "", "attribute[title]": ""})
    assert answer.status_code == 201, answer.text


def test_a_form_over_the_body_limit_is_refused_before_it_is_read(world):
    system, _ = world
    before = system.count("villages", "reports")
    answer = requests.post(f"{open311(system)}/requests.json", timeout=30, data={
        "api_key": system.actors[("village", PUNTEN)]["token"], "service_code": "sosial",
        "attribute[severity]": "low", "description": "x" * 2_000_000})
    assert answer.status_code == 413, answer.text[:300]
    assert answer.json()[0]["code"] == 413
    assert system.count("villages", "reports") == before


def test_a_refused_api_key_is_in_the_audit_log(world):
    system, _ = world
    answer = requests.post(f"{open311(system)}/requests.json", timeout=10, data={
        "api_key": "tebakan-kunci", "service_code": "sosial", "attribute[severity]": "low",
        "description": "Uji"})
    assert answer.status_code == 403
    audit = every(system.admin(), "/audit", action="access.forbidden")
    assert any(entry["target"] == "POST /open311/v2/requests.json" for entry in audit), audit


def test_a_parameter_given_twice_is_both_values_and_public_reads_allow_any_origin(world):
    system, cases = world
    answer = requests.get(f"{open311(system)}/requests.json?service_code=jalan-jembatan"
                          "&service_code=air-bersih", timeout=10)
    assert answer.status_code == 200
    assert {r["service_code"] for r in answer.json()} == {"jalan-jembatan", "air-bersih"}
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_a_jurisdiction_holds_with_a_list_of_requests_too(world):
    system, cases = world
    number = cases["water"]["tracking_number"]
    elsewhere = requests.get(f"{open311(system)}/requests.json", timeout=10, params={
        "service_request_id": number, "jurisdiction_id": "35.07"}).json()
    assert elsewhere == []
    here = requests.get(f"{open311(system)}/requests.json", timeout=10, params={
        "service_request_id": number, "jurisdiction_id": BATU}).json()
    assert [r["service_request_id"] for r in here] == [number]


@pytest.mark.parametrize("path, status, named", [
    ("/services.json?jurisdiction_id=99.99", 404, "jurisdiction_id"),
    ("/services.json?jurisdiction_id=batu", 400, "jurisdiction_id"),
    ("/services/parkir.json", 404, "service_code"),
    ("/services.csv", 404, "format"),
    ("/requests.json?status=pending", 400, "status"),
    ("/requests.json?service_code=parkir", 400, "service_code"),
    ("/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", 400,
     "end_date"),
    ("/requests.json?start_date=kemarin", 400, "start_date"),
    ("/requests/JBT-NOPE.json", 404, "service_request_id"),
    ("/tokens/JBT-NOPE.json", 404, "token"),
    ("/requests/%00.json", 404, None),
    ("/tokens/%00.json", 404, None),
    ("/requests.json?service_request_id=%00", 400, "service_request_id"),
    ("/requests.json?end_date=0001-01-02T00:00:00Z", 400, "end_date"),
    ("/requests.json?start_date=9999-12-30T00:00:00Z", 400, "start_date"),
    ("/requests.json?start_date=0001-01-01T00:00:00%2B07:00", 400, "start_date"),
    ("/requests.json?end_date=9999-12-31T23:00:00-07:00", 400, "end_date"),
    ("/requests.json?start_date=2026-06-02T00:00:00Z&end_date=2026-06-01T00:00:00Z", 400,
     "end_date"),
    ("/services", 404, None),
    ("/requests/a/b.json", 404, None),
])
def test_a_bad_read_is_answered_in_the_specifications_shape(world, path, status, named):
    system, _ = world
    answer = requests.get(open311(system) + path, timeout=10)
    assert answer.status_code == status, answer.text
    errors = answer.json()
    assert errors and all(e["code"] == status for e in errors)
    if named:
        assert any(e["description"].startswith(f"{named}:") for e in errors), errors


def test_a_confidential_case_is_seen_by_those_it_concerns_and_by_nobody_else(world):
    system, cases = world
    complaint = cases["complaint"]
    assert complaint["confidential"] is True and cases["water"]["confidential"] is False
    lead = complaint["tasks"][0]["agency"]["id"]
    concerned = [system.village(PUNTEN), system.coordinator(BUMIAJI), system.client(
        "regency", BATU), system.agency(lead)]
    for reader in concerned:
        assert reader.get(f"/cases/{complaint['id']}").json()["confidential"] is True
        assert complaint["id"] in {c["id"] for c in every(reader, "/cases")}
    others = [system.village(GUNUNGSARI), system.agency("dlh-batu" if lead != "dlh-batu"
                                                       else "pdam-batu"),
              system.coordinator("35.79.03"), Client(system.base)]
    for reader in others:
        assert reader.get(f"/cases/{complaint['id']}").status_code in (401, 404)
    gunungsari = system.village(GUNUNGSARI)
    for case in every(gunungsari, "/cases"):
        assert case["id"] != complaint["id"]
    # another village's report of the same category is never hinted at the complaint
    other = gunungsari.get(f"/cases/{cases['other_complaint']['id']}").json()
    assert other["likely_duplicate_of"] != complaint["id"]
    # nor is a public case of the same village and category, nor may the two be merged
    assert cases["after"]["likely_duplicate_of"] is None
    merged = system.coordinator(BUMIAJI).post(f"/cases/{complaint['id']}/merge", {
        "into": cases["after"]["id"], "reason": "Sama"})
    assert merged.status_code == 409, merged.text
    assert complaint["id"] not in str(every(gunungsari, "/notifications"))


def test_a_confidential_report_is_never_in_the_public_requests_even_by_its_own_filters(world):
    system, cases = world
    number = cases["complaint"]["tracking_number"]

    def listed_everywhere():
        for query in ({}, {"service_code": "lainnya"}, {"service_request_id": number},
                      {"status": "open"}, {"jurisdiction_id": BATU}):
            answer = requests.get(f"{open311(system)}/requests.json", params=query, timeout=10)
            assert answer.status_code == 200, answer.text
            assert number not in answer.text, query
        return True

    assert eventually(listed_everywhere)
