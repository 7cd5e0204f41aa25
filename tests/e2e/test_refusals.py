"""Bad input is refused with the contract's error shape, and nothing is half-written."""
import pytest

from tests.e2e.helpers import PUNTEN, case_when, clean_water_report, inbox_types, report, task_of
from tests.broker import eventually

# Every row a write could leave behind, in every service's own database.
WRITTEN = [("villages", "reports"), ("villages", "outbox"), ("requests", "cases"),
           ("requests", "tasks"), ("requests", "timeline"), ("requests", "outbox"),
           ("routing", "decisions"), ("notifications", "notifications"),
           ("notifications", "readings")]
TOO_BIG = "x" * (70 * 1024)


def snapshot(system):
    """Row counts of every table a write could touch, in every service's own database."""
    return {f"{service}.{table}": system.count(service, table) for service, table in WRITTEN}


@pytest.fixture(scope="module")
def system(sqlite_system):
    """SQLite only: a refusal is decided above the database, and a unit of work that is
    refused leaves nothing on either (the service tests run the stores on both)."""
    return sqlite_system


@pytest.fixture(scope="module")
def routed(system):
    """A routed clean-water case of Punten, settled (every notification delivered)."""
    accepted = report(system.village(PUNTEN), clean_water_report())
    case = case_when(system.village(PUNTEN), accepted["case_id"], "routed")
    inbox_types(system.agency("pupr-batu"), case["id"], ["case_routed"])
    inbox_types(system.village(PUNTEN), case["id"], ["case_opened", "case_routed"])
    return case


def paths(case):
    base = f"/cases/{case['id']}"
    pdam = task_of(case, "pdam-batu")["id"]
    return {
        "report": "/reports", "comment": f"{base}/comments",
        "accept": f"{base}/tasks/{pdam}/accept", "decline": f"{base}/tasks/{pdam}/decline",
        "progress": f"{base}/tasks/{pdam}/progress", "complete": f"{base}/tasks/{pdam}/complete",
        "confirm": f"{base}/confirm", "reopen": f"{base}/reopen", "route": f"{base}/route",
        "preview": "/routing/preview",
    }


CALLERS = {"report": "village", "comment": "village", "accept": "pdam", "decline": "pdam",
           "progress": "pdam", "complete": "pdam", "confirm": "village", "reopen": "village",
           "route": "coordinator", "preview": "coordinator"}

VALID = {
    "report": clean_water_report(), "comment": {"body": "Mohon segera"},
    "accept": {"note": "Siap"}, "decline": {"reason": "Bukan kewenangan kami"},
    "progress": {"note": "Sedang dikerjakan"}, "complete": {"note": "Selesai"},
    "confirm": {"note": "Terima kasih"}, "reopen": {"reason": "Air belum mengalir"},
    "route": {"supports": ["bpbd-batu"], "note": "Bantu"},
    "preview": {"village_code": PUNTEN, "category": "air-bersih", "severity": "high"},
}


def with_(endpoint, **changes):
    body = dict(VALID[endpoint])
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


# (endpoint, body, the field the error must name)
BAD_BODIES = [
    ("report", {}, "category"),
    ("report", with_("report", title=...), "title"),
    ("report", with_("report", priority="urgent"), "priority"),
    ("report", with_("report", affected_people="banyak"), "affected_people"),
    ("report", with_("report", affected_people=3.5), "affected_people"),
    ("report", with_("report", affected_people=-1), "affected_people"),
    ("report", with_("report", title=123), "title"),
    ("report", with_("report", title="   "), "title"),
    ("report", with_("report", title=None), "title"),
    ("report", with_("report", category="air-minum"), "category"),
    ("report", with_("report", severity="extreme"), "severity"),
    ("report", with_("report", location={"lat": "south", "lon": 112.5}), "location"),
    ("report", with_("report", location={"lat": -7.8, "lon": 200}), "location"),
    ("comment", {}, "body"),
    ("comment", {"body": 5}, "body"),
    ("comment", {"body": "ok", "author": "x"}, "author"),
    ("accept", {"nota": "x"}, "nota"),
    ("accept", {"note": 5}, "note"),
    ("decline", {}, "reason"),
    ("decline", {"reason": ""}, "reason"),
    ("progress", {}, "note"),
    ("complete", {"note": ["selesai"]}, "note"),
    ("confirm", {"catatan": "x"}, "catatan"),
    ("reopen", {}, "reason"),
    ("route", with_("route", supports=...), "lead"),
    ("route", with_("route", supports=[]), "lead"),
    ("route", with_("route", supports=["Dinas BPBD"]), "supports"),
    ("route", with_("route", supports=["bpbd-batu", "bpbd-batu"]), "supports"),
    ("route", with_("route", supports="bpbd-batu"), "supports"),
    ("route", with_("route", lead=["bpbd-batu"]), "lead"),
    ("route", with_("route", lead=None), "lead"),
    ("route", with_("route", agencies=[{"agency_id": "bpbd-batu", "role": "lead"}]), "agencies"),
    ("route", with_("route", note=...), "note"),
    ("preview", with_("preview", village_code="Punten"), "village_code"),
    ("preview", with_("preview", category="air-minum"), "category"),
    ("preview", with_("preview", severity=...), "severity"),
    ("preview", with_("preview", affected_people="320"), "affected_people"),
]


def caller(system, endpoint):
    return {"village": system.village(PUNTEN), "pdam": system.agency("pdam-batu"),
            "coordinator": system.coordinator()}[CALLERS[endpoint]]


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    return error


# (endpoint, body, the field naming what was not found): a reference to what does not
# exist, or is outside the caller's area, is not found, as a resource would be.
UNKNOWN_REFERENCES = [
    ("route", with_("route", supports=["pdam-malang"]), "agencies"),
    ("route", with_("route", lead="pdam-malang"), "agencies"),
    ("preview", with_("preview", village_code="35.79.02.2999"), "village_code"),
    ("preview", with_("preview", village_code="35.07.01.2001"), "village_code"),
]


@pytest.mark.parametrize("endpoint,body,field", UNKNOWN_REFERENCES)
def test_a_body_naming_what_is_not_there_answers_not_found(system, routed, endpoint, body, field):
    before = snapshot(system)
    response = caller(system, endpoint).post(paths(routed)[endpoint], body)
    error = assert_error(response, 404, "not_found")
    assert error["details"].get(field), error
    assert snapshot(system) == before


@pytest.mark.parametrize("endpoint,body,field", BAD_BODIES,
                         ids=[f"{e}-{f}-{i}" for i, (e, _b, f) in enumerate(BAD_BODIES)])
def test_a_bad_body_is_refused_naming_the_field(system, routed, endpoint, body, field):
    before = snapshot(system)
    response = caller(system, endpoint).post(paths(routed)[endpoint], body)
    error = assert_error(response, 400, "validation_error")
    assert error["details"].get(field), error
    assert snapshot(system) == before


@pytest.mark.parametrize("endpoint", list(CALLERS))
def test_a_body_that_is_not_json_is_refused(system, routed, endpoint):
    before = snapshot(system)
    response = caller(system, endpoint).post(
        paths(routed)[endpoint], data=b"category=air-bersih&title=x",
        headers={"Content-Type": "application/json"})
    error = assert_error(response, 400, "validation_error")
    assert "body" in error["details"]
    array = caller(system, endpoint).post(paths(routed)[endpoint], [VALID[endpoint]])
    assert_error(array, 400, "validation_error")
    assert snapshot(system) == before


@pytest.mark.parametrize("endpoint", list(CALLERS))
def test_an_oversized_body_is_refused(system, routed, endpoint):
    before = snapshot(system)
    body = dict(VALID[endpoint], padding=TOO_BIG)
    response = caller(system, endpoint).post(paths(routed)[endpoint], body)
    assert_error(response, 413, "payload_too_large")
    assert snapshot(system) == before


def test_errors_speak_indonesian_by_default_and_english_on_request(system):
    village = system.village(PUNTEN)
    indonesian = village.post("/reports", {"category": "air-bersih"}).json()["error"]
    assert indonesian["details"]["title"] == ["Wajib diisi."]
    english = village.post("/reports", {"category": "air-bersih"},
                           headers={"Accept-Language": "en"}).json()["error"]
    assert english["details"]["title"] == ["Missing data for required field."]


def test_no_token_is_401_everywhere_but_the_public_endpoints(system, routed):
    anonymous = system.anonymous()
    for endpoint, path in paths(routed).items():
        assert_error(anonymous.post(path, VALID[endpoint]), 401, "unauthorized")
    for path in ("/cases", f"/cases/{routed['id']}", f"/cases/{routed['id']}/timeline",
                 "/notifications", "/villages", "/agencies", "/routing/rules"):
        assert_error(anonymous.get(path), 401, "unauthorized")
    forged = system.anonymous()
    forged.token = system.village(PUNTEN).token[:-4] + "AAAA"
    assert_error(forged.get("/cases"), 401, "unauthorized")
    assert anonymous.get("/health").status_code == 200
    assert anonymous.get("/categories").status_code == 200
    assert anonymous.get("/openapi.json").status_code == 200


def test_a_case_outside_the_callers_scope_is_not_found(system, routed):
    case_path = f"/cases/{routed['id']}"
    neighbour = system.village("35.79.02.2002")  # Desa Gunungsari, same district
    for path in (case_path, f"{case_path}/timeline"):
        assert_error(neighbour.get(path), 404, "not_found")
    assert_error(neighbour.post(f"{case_path}/comments", {"body": "?"}), 404, "not_found")
    assert_error(neighbour.post(f"{case_path}/reopen", {"reason": "?"}), 404, "not_found")
    assert routed["id"] not in [c["id"] for c in neighbour.get("/cases").json()["items"]]
    assert_error(system.coordinator("35.79.03").get(case_path), 404, "not_found")
    assert_error(system.village(PUNTEN).get("/cases/no-such-case"), 404, "not_found")


def test_an_agency_cannot_act_on_another_agencys_task(system, routed):
    before = snapshot(system)
    pdam_task = paths(routed)["accept"]
    pupr = system.agency("pupr-batu")
    assert_error(pupr.post(pdam_task, {}), 404, "not_found")
    assert_error(system.agency("dlh-batu").post(pdam_task, {}), 404, "not_found")
    assert_error(system.village(PUNTEN).post(pdam_task, {}), 403, "forbidden")
    assert_error(system.coordinator().post(pdam_task, {}), 403, "forbidden")
    assert snapshot(system) == before


def test_roles_that_may_not_act_are_forbidden(system, routed):
    before = snapshot(system)
    route = paths(routed)["route"]
    assert_error(system.village(PUNTEN).post(route, VALID["route"]), 403, "forbidden")
    assert_error(system.agency("pdam-batu").post(route, VALID["route"]), 403, "forbidden")
    assert_error(system.coordinator().post("/reports", clean_water_report()), 403, "forbidden")
    assert_error(system.agency("pdam-batu").post(paths(routed)["confirm"], {}), 403, "forbidden")
    assert_error(system.village(PUNTEN).get("/routing/rules"), 403, "forbidden")
    assert snapshot(system) == before


def test_an_action_that_does_not_fit_the_state_is_a_conflict(system, routed):
    before = snapshot(system)
    pdam = system.agency("pdam-batu")
    assert_error(pdam.post(paths(routed)["complete"], {"note": "x"}), 409, "conflict")
    assert_error(pdam.post(paths(routed)["progress"], {"note": "x"}), 409, "conflict")
    assert_error(system.village(PUNTEN).post(paths(routed)["confirm"], {}), 409, "conflict")
    assert_error(system.village(PUNTEN).post(paths(routed)["reopen"], {"reason": "x"}), 409,
                 "conflict")
    assert snapshot(system) == before


def test_a_page_beyond_reason_is_refused(system):
    for path in ("/cases", "/villages", "/escalations"):
        answer = system.coordinator().get(path, params={"page": "99999999999999999999"})
        assert_error(answer, 400, "validation_error")


def test_unknown_endpoints_answer_in_the_error_shape(system):
    assert_error(system.village(PUNTEN).get("/no-such-thing"), 404, "not_found")
    assert_error(system.anonymous().get("/api/v2/cases"), 404, "not_found")


def test_the_same_report_sent_twice_with_one_key_opens_one_case(system):
    village = system.village("35.79.03.2004")  # Desa Tlekung
    body = clean_water_report(title="Sumber air Tlekung kering")
    key = {"Idempotency-Key": "tlekung-2026-11-22-air"}
    first = report(village, body, headers=key)
    second = report(village, body, headers=key)
    assert second == first
    case_when(village, first["case_id"], "routed")
    assert system.count("villages", "reports", village_code="35.79.03.2004") == 1
    assert system.count("requests", "cases", village_code="35.79.03.2004") == 1

    changed = village.post("/reports", dict(body, severity="low"), headers=key)
    assert_error(changed, 409, "conflict")
    assert "Idempotency-Key" in changed.json()["error"]["details"]
    # Another village may use the same key for its own report.
    other = report(system.village("35.79.03.2005"), body, headers=key)
    assert other["case_id"] != first["case_id"]
    # Without a key, a second report is a second case.
    again = report(village, body)
    assert again["case_id"] != first["case_id"]
    eventually(lambda: system.count("requests", "cases", village_code="35.79.03.2004") == 2)
    for case_id in (again["case_id"], other["case_id"]):  # let them settle before the next test
        inbox_types(system.coordinator("35.79.03"), case_id, ["case_routed"])


@pytest.mark.parametrize("raw", [
    b'{"category": "air-bersih", "title": "x", "description": "y", "severity": "low", '
    b'"affected_people": 10, "location": {"lat": NaN, "lon": 112.5}}',
    b'{"category": "air-bersih", "title": "Air\\u0000mati", "description": "y", "severity": "low"}',
    b"[" * 20000 + b"]" * 20000,
    b'{"category": "air-bersih", "title": "x\\ud800", "description": "y", "severity": "low"}',
    b"\xff\xfe not utf-8",
    b"",
], ids=["nan", "nul-character", "deep-nesting", "lone-surrogate", "not-utf8", "empty"])
def test_json_that_is_not_plain_data_is_refused(system, raw):
    before = snapshot(system)
    response = system.village(PUNTEN).post("/reports", data=raw,
                                           headers={"Content-Type": "application/json"})
    assert_error(response, 400, "validation_error")
    assert snapshot(system) == before
