"""A message published straight onto the broker with a forged actor changes nothing: services
act only on calls the gateway signed and on events a service signed (shared/signing.py), and
each service's broker user may publish only what that service publishes (jembatan/broker.py)."""
import json
import uuid

import pytest
from amqp.exceptions import AccessRefused
from kombu import Producer
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from shared import dead_letters, signing
from shared.events import ISSUE_REPORTED, iso, make_event, utcnow
from shared.messaging import EVENTS_EXCHANGE, connect
from tests.broker import eventually
from tests.e2e.helpers import PUNTEN, case_when, clean_water_report, report, task_of, timeline

FORGED_PDAM = {"id": "someone", "role": "agency", "scope": "pdam-batu", "name": "Petugas PDAM",
               "regency": "35.79"}


@pytest.fixture(scope="module")
def system(sqlite_system):
    """SQLite only: what these tests check is decided above the database."""
    return sqlite_system


@pytest.fixture
def routed(system):
    village = system.village(PUNTEN)
    return case_when(village, report(village, clean_water_report(title="Air keruh lagi"))[
        "case_id"], "routed")


def rpc(system):
    return ClusterRpcProxy({"AMQP_URI": system.vhost.uri}, timeout=10)


@pytest.mark.parametrize("signature", [
    None,                                                    # unsigned
    "9999999999." + "0" * 64,                                # made up
    "expired",                                               # right once, expired now
    "other-arguments",                                       # right, for another call
], ids=["unsigned", "made-up", "expired", "other-arguments"])
def test_a_forged_command_is_refused_and_the_case_stays_as_it_was(system, routed, signature):
    task = task_of(routed, "pdam-batu")["id"]
    arguments = [FORGED_PDAM, routed["id"], task, "accept", {"note": "palsu"}]
    if signature == "expired":
        signature = signing.sign_call("requests.task_action", arguments, {"lang": "id"}, -60)
    elif signature == "other-arguments":
        signature = signing.sign_call("requests.task_action", arguments[:3] + ["decline", {}],
                                      {"lang": "id"}, 60)
    steps = timeline(system.admin(), routed["id"])
    with rpc(system) as cluster, pytest.raises(RemoteError, match="UnsignedCall"):
        kwargs = {"lang": "id"} if signature is None else {"lang": "id", "_signature": signature}
        cluster.requests.task_action(*arguments, **kwargs)
    case = system.admin().get(f"/cases/{routed['id']}").json()
    assert task_of(case, "pdam-batu")["status"] == "pending"
    assert timeline(system.admin(), routed["id"]) == steps


def test_a_rightly_signed_command_is_carried_out(system, routed):
    """The same call, signed with the deployment's key, goes through: the refusal above is the
    signature's doing, not the call's."""
    task = task_of(routed, "pdam-batu")["id"]
    arguments = [FORGED_PDAM, routed["id"], task, "accept", {"note": "resmi"}]
    signature = signing.sign_call("requests.task_action", arguments, {"lang": "id"}, 60)
    with rpc(system) as cluster:
        accepted = cluster.requests.task_action(*arguments, lang="id", _signature=signature)
    assert accepted["status"] == "accepted"


def test_a_forged_event_opens_no_case_and_waits_in_the_dead_letters(system):
    """Even with the villages service's own broker credentials (the one user the broker lets
    publish issue_reported), an event without the deployment's signature opens nothing."""
    before = system.count("requests", "cases")
    case_id = str(uuid.uuid4())
    forged = make_event(ISSUE_REPORTED, {
        "case_id": case_id, "tracking_number": "JBT-PALS-U000", "category": "air-bersih",
        "title": "Laporan palsu", "description": "Tidak pernah dilaporkan desa",
        "severity": "critical", "affected_people": 1000, "location": None,
        "village": {"code": PUNTEN, "name": "Punten"},
        "district": {"code": "35.79.02", "name": "Bumiaji"},
        "regency": {"code": "35.79", "name": "Kota Batu"},
        "reporter": {"id": "someone", "role": "village", "name": "Operator Desa Punten",
                     "scope": PUNTEN},
        "reported_at": iso(utcnow())}, producer="villages", correlation_id=case_id)
    with connect(system.amqp_uri_of("villages")) as connection:
        Producer(connection.default_channel).publish(
            json.dumps(forged), exchange=EVENTS_EXCHANGE, routing_key=ISSUE_REPORTED,
            content_type="application/json", content_encoding="utf-8", retry=False)
    letters = eventually(lambda: [letter for letter in dead_letters.list_all(system.vhost.uri)
                                  if case_id.encode() in letter.body])
    assert [letter.queue for letter in letters] == ["jembatan.requests.events"]
    assert "unsigned or forged" in letters[0].reason
    assert system.count("requests", "cases") == before
    assert system.admin().get(f"/cases/{case_id}").status_code == 404


@pytest.mark.parametrize("service,exchange,routing_key", [
    ("notifications", EVENTS_EXCHANGE.name, ISSUE_REPORTED),    # another service's event
    ("routing", EVENTS_EXCHANGE.name, "case_closed"),
    ("gateway", EVENTS_EXCHANGE.name, "task_accepted"),        # the gateway: actor_changed only
    ("routing", "nameko-rpc", "requests.task_action"),         # only the gateway calls
], ids=["notifications-issue_reported", "routing-case_closed", "gateway-task_accepted",
        "routing-calls-requests"])
def test_a_services_broker_user_may_publish_only_what_that_service_does(system, service,
                                                                          exchange, routing_key):
    with connect(system.amqp_uri_of(service)) as connection:
        producer = Producer(connection.channel())
        with pytest.raises(AccessRefused):
            producer.publish("{}", exchange=exchange, routing_key=routing_key,
                             content_type="application/json", retry=False)

