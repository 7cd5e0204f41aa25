"""The routing service: agencies, the category catalogue, the rules, and each decision."""
from types import SimpleNamespace

from sqlalchemy import bindparam, insert, select

from services.routing import domain
from services.routing.models import Agency, Base, Decision, Referral, Rule
from shared import commands, events, paging
from shared.categories import CATEGORIES
from shared.db import Database
from shared.errors import DOMAIN_ERRORS, NotFound
from shared.events import SEVERITIES, utcnow
from shared.i18n import text
from shared.messaging import consume_events, rpc


def agency_view(agency):
    return {"id": agency.id, "name": agency.name, "short_name": agency.short_name,
            "regency": {"code": agency.regency_code, "name": agency.regency_name},
            "categories": agency.categories}


def rule_view(rule):
    return {"id": rule.id, "name": rule.name, "scope_code": rule.scope_code,
            "scope_level": domain.scope_level(rule.scope_code), "category": rule.category,
            "conditions": {"min_severity": rule.min_severity,
                           "min_affected_people": rule.min_affected_people},
            "lead_agency_id": rule.lead_agency_id, "support_agency_ids": rule.support_agency_ids,
            "fallback_agency_ids": rule.fallback_agency_ids,
            "deadlines": {severity: domain.deadlines_for(severity, rule)
                          for severity in SEVERITIES}}


# The statements every new case's decision runs, built once (building one costs more than
# running it).
DECIDING = SimpleNamespace(
    decided=select(Decision.case_id).where(Decision.case_id == bindparam("case_id")),
    rules=select(Rule.__table__).where(Rule.category == bindparam("category"),
                                       Rule.scope_code.in_(bindparam("codes", expanding=True))),
    agencies=select(Agency.__table__).where(Agency.id.in_(bindparam("ids", expanding=True))),
    decision=insert(Decision.__table__),
)


class RoutingService:
    name = "routing"
    db = Database(Base.metadata)

    def _decide(self, session, situation, now):
        """(rule, explanation, planned tasks) for a situation; rule is None when none applies."""
        rules = session.execute(DECIDING.rules, {"category": situation.category,
                                                 "codes": list(situation.codes)}).all()
        rule, matching = domain.choose_rule(rules, situation)
        if rule is None:
            return None, domain.explain(None, matching, situation, None, []), []
        named = {agency.id: agency for agency in session.execute(
            DECIDING.agencies, {"ids": [rule.lead_agency_id, *rule.support_agency_ids]})}
        lead = named.get(rule.lead_agency_id)
        supports = [named.get(agency_id) for agency_id in rule.support_agency_ids]
        tasks = domain.plan_tasks(lead, supports, now,
                                  domain.deadlines_for(situation.severity, rule),
                                  situation.village["code"])
        return rule, domain.explain(rule, matching, situation, lead, supports), tasks

    @consume_events("routing")
    def on_event(self, event):
        if event.type == events.TASK_DECLINED:
            self.db.handle_once(event, lambda unit: self._refer(unit, event.payload))
        else:
            self.db.handle_once(event, lambda unit: self._route_new_case(unit, event.payload["case"]))

    def _refer(self, unit, declined):
        """A task was declined: send the case on to the next agency its rule names, if any."""
        case, task = declined["case"], declined["task"]
        decision = unit.session.get(Decision, case["id"])
        rule = decision and decision.rule_id and unit.session.get(Rule, decision.rule_id)
        if not rule:  # routed by hand, or by a rule since removed: the coordinator decides
            return
        referred = unit.session.scalars(select(Referral.referred_agency_id).where(
            Referral.case_id == case["id"], Referral.referred_agency_id.is_not(None))).all()
        candidate = domain.next_fallback(rule, task["role"], case["tasks"], referred)
        unit.session.add(Referral(case_id=case["id"], declined_agency_id=task["agency_id"],
                                  referred_agency_id=candidate, decided_at=utcnow()))
        if candidate is None:  # nobody left: the coordinator, told of the decline, decides
            return
        agency = unit.session.get(Agency, candidate)
        deadlines = domain.deadlines_for(case["severity"], rule)
        planned = domain.plan_tasks(agency, [], utcnow(), deadlines, case["village"]["code"])
        planned[0]["role"] = task["role"]
        unit.emit(events.ROUTING_DECIDED, {
            "case_id": case["id"], "outcome": events.OUTCOME_REFERRED, "rule_id": rule.id, "tasks": planned,
            "explanation": domain.explain_referral(
                task["agency_name"], declined["note"] or "-", rule, agency,
                promoted=any(t["agency_id"] == candidate for t in case["tasks"]))},
            correlation_id=case["id"])

    def _route_new_case(self, unit, case):
        if unit.session.scalar(DECIDING.decided, {"case_id": case["id"]}) is not None:
            return
        now = utcnow()
        situation = domain.Situation(
            village=case["village"], district=case["district"], regency=case["regency"],
            category=case["category"], severity=case["severity"],
            affected_people=case["affected_people"])
        rule, explanation, tasks = self._decide(unit.session, situation, now)
        outcome = events.OUTCOME_ROUTED if rule else events.OUTCOME_NEEDS_TRIAGE
        unit.session.execute(DECIDING.decision, {
            "case_id": case["id"], "outcome": outcome, "rule_id": rule.id if rule else None,
            "explanation": explanation, "tasks": tasks, "decided_at": now})
        unit.emit(events.ROUTING_DECIDED, {
            "case_id": case["id"], "outcome": outcome, "rule_id": rule.id if rule else None,
            "explanation": explanation, "tasks": tasks}, correlation_id=case["id"])

    @rpc
    def categories(self):
        return [{"code": c.code, "name": c.name, "name_en": c.name_en,
                 "description": c.description, "description_en": c.description_en}
                for c in CATEGORIES]

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def agencies(self, query):
        """One page of the agencies (of one regency, with `regency`)."""
        conditions = [Agency.regency_code == query["regency"]] if query.get("regency") else []
        return self._page(query, select(Agency).where(*conditions)
                          .order_by(Agency.regency_code, Agency.id), agency_view)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def agency(self, agency_id):
        with self.db.read() as session:
            agency = session.get(Agency, agency_id)
            if agency is None:
                raise NotFound(text("Instansi tidak ditemukan.", "Agency not found."))
            return agency_view(agency)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def rules(self, query, regency=None):
        """One page of the rules in force (of one regency, with `regency`)."""
        conditions = [Rule.scope_code.startswith(regency)] if regency else []
        return self._page(query, select(Rule).where(*conditions)
                          .order_by(Rule.scope_code, Rule.category, Rule.id), rule_view)

    def _page(self, query, select_rows, view):
        with self.db.read() as session:
            return paging.read_page(session, query, select_rows, view)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def preview(self, village, request, lang="id"):
        """The decision routing would take for a report; `village` is the villages view."""
        request = commands.load(commands.PreviewInput, request)
        situation = domain.Situation(
            village={"code": village["code"], "name": village["name"]},
            district=village["district"], regency=village["regency"],
            category=request["category"], severity=request["severity"],
            affected_people=request["affected_people"])
        with self.db.read() as session:
            rule, explanation, tasks = self._decide(session, situation, utcnow())
        return {"outcome": events.OUTCOME_ROUTED if rule else events.OUTCOME_NEEDS_TRIAGE,
                "rule_id": rule.id if rule else None, "explanation": explanation[lang],
                "tasks": tasks}

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def plan_manual_route(self, actor, case, request):
        """Deadlines and explanation for a coordinator's own choice of agencies."""
        request = commands.load(commands.RouteInput, request)
        now = utcnow()
        named = ([request["lead"]] if request.get("lead") else []) + request["supports"]
        with self.db.read() as session:
            agencies = {agency_id: session.get(Agency, agency_id) for agency_id in named}
        unknown = [agency_id for agency_id, agency in agencies.items()
                   if agency is None or agency.regency_code != case["regency_code"]]
        if unknown:
            raise NotFound(text("Instansi tidak ditemukan di kabupaten/kota kasus ini.",
                                "No such agency in this case's regency."),
                           {"agencies": [text(f"Tidak ditemukan: {', '.join(unknown)}.",
                                              f"Not found: {', '.join(unknown)}.")]})
        lead = agencies[request["lead"]] if request.get("lead") else None
        supports = [agencies[agency_id] for agency_id in request["supports"]]
        tasks = domain.plan_tasks(lead, supports, now, domain.deadlines_for(case["severity"]),
                                  case["village_code"])
        return {"tasks": tasks, "note": request["note"],
                "explanation": domain.explain_manual(actor["name"], request["note"], lead,
                                                     supports)}

    @rpc
    def health(self):
        return self.db.health()
