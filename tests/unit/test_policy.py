"""The access policy (shared/policy.py): its Python predicate and its SQL twin agree, and the
API's endpoints are exactly the policy's operations."""
import uuid
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, delete, select
from sqlalchemy.orm import Session

from services.gateway import http, service  # noqa: F401  (declares every endpoint)
from services.gateway.models import Actor
from services.gateway.models import Base as GatewayBase
from services.requests.models import Case, Task
from shared import policy

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
VILLAGES = ("35.79.02.2001", "35.79.02.2002", "35.79.03.2001", "35.07.01.2001")
AGENCIES = ("pdam-batu", "pupr-batu", "bpbd-batu")
TASK_STATUSES = ("pending", "accepted", "completed", "declined", "withdrawn")


def place(village):
    return {"village_code": village, "district_code": village[:8], "regency_code": village[:5]}


tasks = st.lists(st.tuples(st.sampled_from(AGENCIES), st.sampled_from(TASK_STATUSES)),
                 max_size=4)
cases = st.lists(st.tuples(st.sampled_from(VILLAGES), tasks), min_size=1, max_size=8)
actors = st.one_of(
    st.builds(lambda v: {"role": "village", "scope": v}, st.sampled_from(VILLAGES + ("11.01.01.2001",))),
    st.builds(lambda v: {"role": "coordinator", "scope": v[:8]}, st.sampled_from(VILLAGES)),
    st.builds(lambda v: {"role": "regency", "scope": v[:5]}, st.sampled_from(VILLAGES)),
    st.builds(lambda a: {"role": "agency", "scope": a, "regency": "35.79"},
              st.sampled_from(AGENCIES + ("dinkes-batu",))),
    st.just({"role": "admin", "scope": None}),
    st.just({"role": "system", "scope": None}),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=cases, actor=actors)
def test_the_predicate_and_its_sql_twin_agree(requests_database, cases, actor):
    with Session(requests_database) as session:
        session.execute(delete(Task))
        session.execute(delete(Case))
        for village, case_tasks in cases:
            case = Case(id=str(uuid.uuid4()), tracking_number=uuid.uuid4().hex[:12],
                        status="routed", category="air-bersih", title="t", description="d",
                        severity="high", village_name="v", district_name="d",
                        regency_name="r", reporter_id="u", reporter_name="n", created_at=T0,
                        updated_at=T0, version=1, **place(village))
            case.tasks = [Task(id=str(uuid.uuid4()), agency_id=agency, agency_name=agency,
                               role="lead", status=status, assigned_at=T0)
                          for agency, status in case_tasks]
            session.add(case)
        session.flush()
        in_python = {case.id for case in session.scalars(select(Case))
                     if policy.sees_case(actor, case)}
        in_sql = set(session.scalars(select(Case.id).where(policy.case_visible(actor, Case, Task))))
        session.rollback()
    assert in_python == in_sql


def test_an_agency_sees_a_case_only_while_its_task_is_on():
    pdam = {"role": "agency", "scope": "pdam-batu"}
    for status, seen in (("pending", True), ("accepted", True), ("completed", True),
                         ("declined", False), ("withdrawn", False)):
        case = SimpleNamespace(**place(VILLAGES[0]), tasks=[
            SimpleNamespace(agency_id="pdam-batu", status=status)])
        assert policy.sees_case(pdam, case) is seen, status


def test_every_endpoint_is_an_operation_of_the_policy_and_every_operation_an_endpoint():
    declared = [doc["operation"] for doc in http.DOCUMENTED.values()]
    assert len(declared) == len(set(declared)), "two endpoints share an operation"
    assert set(declared) == set(policy.OPERATIONS)


def test_a_role_the_policy_does_not_know_sees_nothing():
    case = SimpleNamespace(**place(VILLAGES[0]), tasks=[])
    assert not policy.sees_case({"role": "mayor", "scope": "35.79"}, case)
    assert not policy.sees_place({"role": "mayor", "scope": "35.79"}, *place(VILLAGES[0]).values())


@settings(max_examples=60, deadline=None)
@given(managers=st.sampled_from([{"role": "admin"}, {"role": "regency", "scope": "35.79"},
                                 {"role": "regency", "scope": "35.07"},
                                 {"role": "coordinator", "scope": "35.79.02"}]),
       actors=st.lists(st.tuples(st.sampled_from(policy.ROLES),
                                 st.sampled_from(("35.79", "35.07", None))), max_size=8))
def test_who_manages_whom_reads_the_same_in_sql(managers, actors):
    engine = create_engine("sqlite://")
    GatewayBase.metadata.create_all(engine)
    with Session(engine) as session:
        for n, (role, regency) in enumerate(actors):
            session.add(Actor(id=str(n), role=role, name="x", created_at=T0,
                              regency_code=regency))
        session.flush()
        in_python = {a.id for a in session.scalars(select(Actor))
                     if policy.manages_actor(managers, a.regency_code, a.role)}
        in_sql = set(session.scalars(select(Actor.id).where(
            policy.actors_managed(managers, Actor))))
    engine.dispose()
    assert in_python == in_sql


@pytest.mark.parametrize("manager,regency,role,manages", [
    ({"role": "admin"}, None, "admin", True),
    ({"role": "admin"}, "35.07", "village", True),
    ({"role": "regency", "scope": "35.79"}, "35.79", "village", True),
    ({"role": "regency", "scope": "35.79"}, "35.79", "agency", True),
    ({"role": "regency", "scope": "35.79"}, "35.07", "village", False),
    ({"role": "regency", "scope": "35.79"}, None, "admin", False),
    ({"role": "coordinator", "scope": "35.79.02"}, "35.79", "village", False),
])
def test_who_manages_whom(manager, regency, role, manages):
    assert policy.manages_actor(manager, regency, role) is manages


def test_actors_of_one_regency_never_see_the_cases_of_another(requests_database):
    # Kota Batu (Jawa Timur, WIB) and Kota Makassar (Sulawesi Selatan, WITA) in one deployment.
    batu, makassar = "35.79.02.2001", "73.71.01.1001"
    actors = {
        "35.79": [{"role": "village", "scope": batu},
                  {"role": "coordinator", "scope": batu[:8]},
                  {"role": "regency", "scope": batu[:5]},
                  {"role": "agency", "scope": "pdam-batu", "regency": "35.79"}],
        "73.71": [{"role": "village", "scope": makassar},
                  {"role": "coordinator", "scope": makassar[:8]},
                  {"role": "regency", "scope": makassar[:5]},
                  {"role": "agency", "scope": "pdam-makassar", "regency": "73.71"}],
    }
    with Session(requests_database) as session:
        session.execute(delete(Task))
        session.execute(delete(Case))
        for village, agency in ((batu, "pdam-batu"), (makassar, "pdam-makassar")):
            case = Case(id=village[:5], tracking_number=village, status="routed",
                        category="air-bersih", title="t", description="d", severity="high",
                        village_name="v", district_name="d", regency_name="r", reporter_id="u",
                        reporter_name="n", created_at=T0, updated_at=T0, version=1,
                        **place(village))
            case.tasks = [Task(id=village, agency_id=agency, agency_name=agency, role="lead",
                               status="pending", assigned_at=T0)]
            session.add(case)
        session.flush()
        for regency, of_regency in actors.items():
            for actor in of_regency:
                seen = {case.id for case in session.scalars(select(Case))
                        if policy.sees_case(actor, case)}
                in_sql = set(session.scalars(select(Case.id).where(
                    policy.case_visible(actor, Case, Task))))
                assert seen == in_sql == {regency}, actor
        session.rollback()
