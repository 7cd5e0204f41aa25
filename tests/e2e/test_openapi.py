"""The OpenAPI document is complete, and what the API answers matches it."""
import pytest
from marshmallow import ValidationError

from services.gateway import schemas
from tests.e2e.helpers import PUNTEN, case_when, clean_water_report, inbox_types, report, task_of


@pytest.fixture(scope="module")
def system(sqlite_system):
    """SQLite only: the shape of an answer does not depend on the database."""
    return sqlite_system


CONTRACT = [  # docs/api.md, "Endpoints"
    ("get", "/health"), ("get", "/categories"), ("get", "/villages"), ("post", "/reports"),
    ("get", "/cases"), ("get", "/cases/{case_id}"), ("get", "/cases/{case_id}/timeline"),
    ("post", "/cases/{case_id}/comments"),
    ("post", "/cases/{case_id}/tasks/{task_id}/accept"),
    ("post", "/cases/{case_id}/tasks/{task_id}/decline"),
    ("post", "/cases/{case_id}/tasks/{task_id}/progress"),
    ("post", "/cases/{case_id}/tasks/{task_id}/complete"),
    ("post", "/cases/{case_id}/confirm"), ("post", "/cases/{case_id}/reopen"),
    ("post", "/cases/{case_id}/route"), ("post", "/cases/{case_id}/escalate"),
    ("get", "/cases/summary"), ("get", "/notifications"),
    ("post", "/notifications/{notification_id}/read"), ("get", "/agencies"),
    ("get", "/routing/rules"), ("post", "/routing/preview"), ("get", "/openapi.json"),
    ("post", "/auth/login"), ("post", "/auth/logout"), ("get", "/me"), ("get", "/actors"),
    ("post", "/actors"), ("post", "/actors/{actor_id}/disable"),
    ("post", "/actors/{actor_id}/tokens"), ("delete", "/tokens/{token_id}"), ("get", "/audit"),
    ("post", "/notifications/read-all"),
]


def matches(schema, body):
    """Every field the answer has is documented, and every required one is there."""
    try:
        schema.load(body)
    except ValidationError as exc:
        pytest.fail(f"{type(schema).__name__} does not match the answer: {exc.messages}\n{body}")


def test_the_document_describes_every_endpoint_of_the_contract(system):
    document = system.anonymous().get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for method, path in CONTRACT:
        operation = document["paths"].get("/api/v1" + path, {}).get(method)
        assert operation, f"{method.upper()} {path} is missing"
        assert operation["responses"], f"{method.upper()} {path} documents no answer"
    report_body = document["paths"]["/api/v1/reports"]["post"]["requestBody"]
    ref = report_body["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert set(document["components"]["schemas"][ref]["required"]) == {
        "category", "title", "description", "severity"}


def test_answers_match_their_documented_schemas(system):
    village, pdam = system.village(PUNTEN), system.agency("pdam-batu")
    coordinator = system.coordinator()
    anonymous = system.anonymous()

    matches(schemas.Health(), anonymous.get("/health").json())
    matches(schemas.CategoryList(), anonymous.get("/categories").json())
    matches(schemas.VillageList(), village.get("/villages", params={"district": "35.79.02"}).json())
    accepted = report(village, clean_water_report(location={"lat": -7.81, "lon": 112.52}))
    matches(schemas.ReportAccepted(), accepted)
    case = case_when(village, accepted["case_id"], "routed")
    matches(schemas.CaseOut(), case)
    matches(schemas.CaseList(), coordinator.get("/cases").json())
    matches(schemas.CaseList(), coordinator.get("/escalations").json())
    matches(schemas.CaseSummaryCounts(), coordinator.get("/cases/summary").json())
    matches(schemas.MeOut(), village.get("/me").json())
    matches(schemas.ActorList(), system.admin().get("/actors").json())
    matches(schemas.AuditList(), system.admin().get("/audit").json())
    task = task_of(case, "pdam-batu")["id"]
    matches(schemas.TaskOut(), pdam.post(f"/cases/{case['id']}/tasks/{task}/accept", {}).json())
    matches(schemas.CommentOut(), village.post(f"/cases/{case['id']}/comments", {"body": "Terima kasih"}).json())
    matches(schemas.TimelineList(), coordinator.get(f"/cases/{case['id']}/timeline").json())
    inbox = inbox_types(pdam, case["id"], ["case_routed", "comment_added"])
    matches(schemas.NotificationList(), pdam.get("/notifications").json())
    matches(schemas.NotificationOut(), pdam.post(f"/notifications/{inbox[0]['id']}/read").json())
    matches(schemas.AgencyList(), village.get("/agencies", params={"regency": "35.79"}).json())
    matches(schemas.RuleList(), coordinator.get("/routing/rules").json())
    preview = coordinator.post("/routing/preview", {"village_code": PUNTEN, "category": "banjir-bencana",
                                                    "severity": "critical", "affected_people": 40})
    matches(schemas.PreviewOut(), preview.json())
    assert [t["agency_id"] for t in preview.json()["tasks"]] == ["bpbd-batu", "pupr-batu", "dinsos-batu"]
