"""What every response of the HTTP edge does: rate limits with Retry-After, security headers,
CORS only for configured origins, 405 with a true Allow, chunked and empty bodies read as sent,
the caller's language by quality, and a client's mistake logged as one line, not an error."""
import json

import pytest
import requests

from tests.e2e.helpers import PUNTEN, case_when, clean_water_report, report, task_of
from tests.e2e.system import System

ORIGIN = "https://desa.example.id"
PER_MINUTE = 30


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    running = System(tmp_path_factory.mktemp("edge"), env={
        "JEMBATAN_RATE_LIMIT_PER_TOKEN": str(PER_MINUTE),
        "JEMBATAN_CORS_ORIGINS": f"{ORIGIN}, https://kecamatan.example.id"}).start()
    try:
        yield running
    finally:
        running.stop()


def test_a_token_over_its_rate_is_told_when_to_come_back(edge):
    busy = edge.village("35.79.03.2002")
    answers = [busy.get("/cases").status_code for _ in range(PER_MINUTE + 5)]
    assert answers[:PER_MINUTE] == [200] * PER_MINUTE
    assert 429 in answers[PER_MINUTE:]
    limited = busy.get("/cases")
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert edge.village(PUNTEN).get("/cases").status_code == 200   # another token is not


@pytest.mark.parametrize("path", ["/health", "/cases", "/no-such-thing", "/openapi.json"])
def test_every_response_carries_the_security_headers(edge, path):
    answer = edge.village(PUNTEN).get(path)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Cache-Control"] == "no-store"


def test_cors_answers_only_the_configured_origins(edge):
    village = edge.village(PUNTEN)
    allowed = village.get("/cases", headers={"Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    stranger = village.get("/cases", headers={"Origin": "https://jahat.example.com"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    preflight = requests.options(edge.base + "/reports", timeout=10, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


def test_without_configured_origins_there_is_no_cors(sqlite_system):
    answer = sqlite_system.village(PUNTEN).get("/cases", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_an_undeclared_method_is_405_with_the_methods_there_are(edge):
    answer = edge.village(PUNTEN).request("PATCH", "/cases/anything")
    assert answer.status_code == 405
    assert answer.json()["error"]["code"] == "method_not_allowed"
    assert set(answer.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    deleted = edge.village(PUNTEN).request("DELETE", "/reports")
    assert deleted.status_code == 405 and set(deleted.headers["Allow"].split(", ")) == {
        "POST", "OPTIONS"}
    options = requests.options(edge.base + "/cases/anything", timeout=10)
    assert options.status_code == 204 and "GET" in options.headers["Allow"]
    assert edge.village(PUNTEN).request("PATCH", "/no-such-thing").status_code == 404


def test_a_chunked_body_is_read_as_sent(edge):
    village = edge.village(PUNTEN)
    body = json.dumps(clean_water_report(title="Dikirim bersambung")).encode()
    chunked = requests.post(edge.base + "/reports", timeout=20, data=iter([body[:40], body[40:]]),
                            headers={**village.headers(), "Content-Type": "application/json"})
    assert chunked.status_code == 202, chunked.text
    assert village.get(f"/cases/{chunked.json()['case_id']}").json()["title"] == "Dikirim bersambung"
    too_big = requests.post(edge.base + "/reports", timeout=20, headers={
        **village.headers(), "Content-Type": "application/json"},
        data=iter([b'{"title": "' + b"x" * 70_000, b'"}']))
    assert too_big.status_code == 413


def test_an_optional_body_may_be_left_out(edge):
    village, pdam = edge.village(PUNTEN), edge.agency("pdam-batu")
    case = case_when(village, report(village, clean_water_report(title="Tanpa catatan"))[
        "case_id"], "routed")
    task = task_of(case, "pdam-batu")["id"]
    accepted = requests.post(f"{edge.base}/cases/{case['id']}/tasks/{task}/accept", timeout=20,
                             headers=pdam.headers())
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted" and accepted.json()["note"] is None


@pytest.mark.parametrize("accept,language", [
    ("en", "en"), ("en-GB,en;q=0.8", "en"), ("id-ID,id;q=0.9,en;q=0.8", "id"),
    ("en;q=0.1, id;q=0.9", "id"), ("id;q=0.2, en;q=0.7", "en"), ("fr, de", "id"), ("", "id"),
])
def test_the_language_follows_the_callers_preference_by_quality(edge, accept, language):
    answer = edge.village(PUNTEN).post("/reports", {"category": "air-bersih"},
                                       headers={"Accept-Language": accept})
    expected = {"id": "Wajib diisi.", "en": "Missing data for required field."}[language]
    assert answer.json()["error"]["details"]["title"] == [expected]


def test_a_clients_mistake_is_one_line_of_info_not_an_error(edge):
    village = edge.village(PUNTEN)
    assert village.get("/cases/no-such-case").status_code == 404
    assert village.get("/routing/rules").status_code == 403
    assert village.post("/reports", {"category": "?"}).status_code == 400
    assert edge.coordinator().post("/cases/no-such-case/cancel", {"reason": "x"}).status_code == 404
    for service in ("gateway", "requests"):
        log = edge.log(service)
        assert "Traceback" not in log, log
        assert " ERROR " not in log, log
    assert "answered 404 not_found" in edge.log("requests")
