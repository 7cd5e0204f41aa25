"""The operator's command line: adding actors and loading rules, refusing what is wrong."""
import json

import pytest
from sqlalchemy import delete, select

from jembatan.runner import parse_replicas
from services.requests.models import Base as RequestsBase
from services.requests.models import CaseCount
from services.routing.jurisdiction import DEMO_FILE
from shared import config, events
from shared.db import Store
from tests.service.requests_world import handle, issue


def test_an_actor_is_added_with_a_token_shown_once(cli):
    result = cli("actors", "add", "--role", "village", "--scope", "35.79.02.2001",
                 "--name", "Sekretaris Desa Punten", "--json")
    assert result.exit_code == 0, result.output
    actor = json.loads(result.output)
    assert actor["role"] == "village" and actor["scope"] == "35.79.02.2001"
    assert actor["token"].startswith("jbt_")


@pytest.mark.parametrize("args,complaint", [
    (("--role", "village", "--scope", "35.79.02.2999", "--name", "X"), "no village"),
    (("--role", "village", "--scope", "35.79.02", "--name", "X"), "village scope"),
    (("--role", "coordinator", "--scope", "35.79.09", "--name", "X"), "no district"),
    (("--role", "regency", "--scope", "99.99", "--name", "X"), "no regency"),
    (("--role", "agency", "--scope", "pdam-batu", "--name", "X"), "no agency"),
    (("--role", "admin", "--scope", "35.79", "--name", "X"), "no scope"),
    (("--role", "village", "--scope", "35.79.02.2001", "--name", "  "), "blank"),
    (("--role", "mayor", "--scope", "35.79", "--name", "X"), "mayor"),
])
def test_an_actor_with_a_wrong_scope_is_refused(cli, args, complaint):
    result = cli("actors", "add", *args)
    assert result.exit_code == 2
    assert complaint in result.output


def test_an_agency_actor_needs_the_agency_loaded_first(cli):
    assert cli("rules", "load", str(DEMO_FILE)).exit_code == 0
    result = cli("actors", "add", "--role", "agency", "--scope", "pdam-batu", "--name", "Petugas")
    assert result.exit_code == 0, result.output


def test_a_rules_file_naming_an_unknown_agency_is_refused(cli, tmp_path):
    document = json.loads(DEMO_FILE.read_text())
    document["rules"][0]["lead"] = "pdam-malang"
    document["rules"][1]["category"] = "air-minum"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    result = cli("rules", "load", str(broken))
    assert result.exit_code == 2
    assert "unknown agency pdam-malang" in result.output
    assert "unknown category air-minum" in result.output


@pytest.mark.parametrize("text,counts", [
    ("2", {"villages": 2, "requests": 2, "routing": 2, "notifications": 2, "gateway": 2}),
    ("gateway=2,requests=3", {"villages": 1, "requests": 3, "routing": 1, "notifications": 1,
                              "gateway": 2}),
    (" 2 , gateway = 1 ", {"villages": 2, "requests": 2, "routing": 2, "notifications": 2,
                           "gateway": 1}),
])
def test_replicas_are_counted_per_service(text, counts):
    assert parse_replicas(text) == counts


@pytest.mark.parametrize("text,complaint", [
    ("0", "'0': the number of processes must be a whole number, 1 or more"),
    ("gateway=two", "'gateway=two': the number of processes"),
    ("2,", "'': the number of processes"),
    ("mayor=2", "'mayor' is not a service (villages, requests, routing, notifications, gateway)"),
])
def test_a_wrong_number_of_replicas_is_refused_naming_it(cli, monkeypatch, text, complaint):
    monkeypatch.setenv("JEMBATAN_REPLICAS", text)
    result = cli("up")
    assert result.exit_code == 2 and complaint in result.output, result.output


def test_the_board_is_computed_again_from_the_cases(cli):
    """As after a process of an older version opened a case without counting it."""
    store = Store("requests", RequestsBase.metadata, url=config.database_url("requests"))
    store.migrate()
    handle(store, events.ISSUE_REPORTED, issue("case-0001"))
    with store.engine.begin() as connection:
        connection.execute(delete(CaseCount.__table__))
    result = cli("board", "refresh")
    assert result.exit_code == 0, result.output
    with store.read() as session:
        counted = session.execute(select(CaseCount.area, CaseCount.status, CaseCount.cases)
                                  .order_by(CaseCount.area)).all()
    store.close()
    assert counted == [("35.79", "reported", 1), ("35.79.02", "reported", 1)]
