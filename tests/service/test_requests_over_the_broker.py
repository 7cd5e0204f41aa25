"""The requests service as nameko runs it, on the real RabbitMQ: its entrypoints hand each
event to its handler and each call to its read or command, and what it records is published."""
import pytest
from nameko.containers import ServiceContainer
from nameko.exceptions import RpcTimeout
from nameko.standalone.rpc import ClusterRpcProxy

from services.requests.models import Base
from services.requests.service import RequestsService
from shared import events, signing
from shared.db import Store
from shared.events import make_event
from shared import messaging
from shared.messaging import EventPublisher
from tests.broker import eventually, queue_counts
from tests.service.requests_world import BUMIAJI, BATU, COORDINATOR, PUNTEN, planned

CASE_ID = "case-b0b0"


@pytest.fixture
def database_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'requests.db'}"
    monkeypatch.setenv("JEMBATAN_DATABASE_URL_REQUESTS", url)
    return url


@pytest.fixture
def requests_service(amqp_uri, database_url):
    container = ServiceContainer(RequestsService, {"AMQP_URI": amqp_uri, "max_workers": 4})
    container.start()
    yield container
    container.stop()


def publish(amqp_uri, event_type, payload):
    publisher = EventPublisher(amqp_uri)
    try:
        publisher.publish(make_event(event_type, payload, "test", CASE_ID))
    finally:
        publisher.close()


def call(amqp_uri, method, *args, timeout=10, **kwargs):
    """A call signed as the gateway signs its calls."""
    kwargs[signing.CALL_SIGNATURE] = signing.sign_call(f"requests.{method}", args, kwargs, 30)
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=timeout) as cluster:
        return getattr(cluster.requests, method)(*args, **kwargs)


def test_an_issue_and_its_routing_become_a_routed_case_and_its_events_leave(
        amqp_uri, database_url, requests_service):
    publish(amqp_uri, events.ISSUE_REPORTED, {
        "case_id": CASE_ID, "tracking_number": "JBT-B0B0", "category": "air-bersih",
        "title": "Air tidak mengalir", "description": "Sejak tiga hari.", "severity": "high",
        "affected_people": 120, "location": None, "village": PUNTEN, "district": BUMIAJI,
        "regency": BATU, "reporter": {"id": "u-punten", "role": "village", "name": "Sekdes"},
        "reported_at": "2026-08-13T02:00:00.000Z"})
    eventually(lambda: call(amqp_uri, "get_case", COORDINATOR, CASE_ID)["status"] == "reported")
    publish(amqp_uri, events.ROUTING_DECIDED, {
        "case_id": CASE_ID, "outcome": events.OUTCOME_ROUTED, "rule_id": "bumiaji-air",
        "explanation": {"id": "Aturan", "en": "Rule"}, "tasks": [planned("pdam-batu")]})
    eventually(lambda: call(amqp_uri, "get_case", COORDINATOR, CASE_ID)["status"] == "routed")

    store = Store("requests", Base.metadata, url=database_url)
    try:
        assert eventually(lambda: store.outbox_backlog() == 0 and call(
            amqp_uri, "timeline", COORDINATOR, CASE_ID, {}, lang="en")["total"] == 2)
    finally:
        store.close()
    comment = call(amqp_uri, "add_comment", COORDINATOR, CASE_ID, {"body": "Mohon segera"})
    assert comment["body"] == "Mohon segera"


def test_a_call_whose_answer_is_lost_is_not_left_unacknowledged(
        amqp_uri, requests_service, monkeypatch):
    """The connection that carries the answer breaks: the caller times out, the service goes
    on, and the call is acknowledged (carried out once; not holding a prefetched message of
    the service until its connection ends)."""
    sending = messaging.SignedResponder.send_response

    def broken_once(responder, result, exc_info):
        monkeypatch.setattr(messaging.SignedResponder, "send_response", sending)
        raise ConnectionResetError("the connection was lost")

    monkeypatch.setattr(messaging.SignedResponder, "send_response", broken_once)
    with pytest.raises(RpcTimeout):
        call(amqp_uri, "summary", COORDINATOR, timeout=2)
    assert call(amqp_uri, "summary", COORDINATOR)["total"] == 0
    eventually(lambda: queue_counts(amqp_uri, "rpc-requests") == (0, 0), timeout=30)
