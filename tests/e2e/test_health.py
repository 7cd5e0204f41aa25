"""GET /health tells an operator what is wrong: a silent service, a backlog, dead letters."""
from tests.broker import eventually
from tests.e2e.helpers import PUNTEN


def test_health_shows_every_service_its_database_backlog_and_dead_letters(system):
    answer = system.anonymous().get("/health")
    assert answer.status_code == 200, answer.text
    health = answer.json()
    assert health["status"] == "ok"
    assert health["services"] == {name: "ok" for name in
                                  ("villages", "requests", "routing", "notifications", "gateway")}
    for name in ("villages", "requests", "routing", "notifications"):
        assert health["checks"][name]["database"] == "ok"
        assert health["checks"][name]["dead_letters"] == 0
    assert health["outbox_backlog"] == 0 and health["dead_letters"] == 0


def test_a_service_that_is_down_shows_in_health_and_its_calls_answer_503(system):
    system.kill("notifications")
    try:
        health = system.anonymous().get("/health")
        assert health.status_code == 503
        assert health.json()["services"]["notifications"] == "unavailable"
        assert health.json()["services"]["requests"] == "ok"
        inbox = system.village(PUNTEN).get("/notifications")
        assert inbox.status_code == 503
        assert inbox.json()["error"]["code"] == "unavailable"
        assert system.village(PUNTEN).get("/cases").status_code == 200
    finally:
        system.run("notifications")
    eventually(lambda: system.anonymous().get("/health").status_code == 200, timeout=30)
