"""The access matrix: every operation of the access policy (shared/policy.py), called by every
role, in scope and out of scope, and with no token or a bad one, answers what the contract says:

1. a public operation answers as usual, without a token (and whatever token is sent);
2. no token, or a malformed, forged, revoked or expired one (or one of a disabled actor):
   401 `unauthorized`;
3. a role the policy does not name for the operation: 403 `forbidden`, whatever the resource
   (in scope, out of scope, or one that does not exist);
4. a role it names, on a resource outside the caller's jurisdiction (or that does not exist):
   404 `not_found`; an admin sees every case;
5. a role it names, in scope, with a request that fits the resource's state: the operation's
   2xx answer.

The expected status of every row comes from `expected_status`, which reads the policy itself:
no row states its answer by hand. A row that expects 2xx gets a fresh resource in the right
state (a case with a pending task, a resolved case, an actor made for the call...); the rows
that expect a refusal share one resource each. Each test collects every disagreement and
fails once, naming them all.

The system runs on SQLite only (its own module fixture): the access rules are decided above
the database.
"""
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, update
from sqlalchemy.pool import NullPool

from services.gateway import service as gateway_service  # noqa: F401  (declares the endpoints)
from services.gateway.http import DOCUMENTED
from services.gateway.models import Token
from shared import policy
from tests.broker import eventually
from tests.e2e.helpers import (
    PUNTEN, case_when, clean_water_report, every, photo_bytes, report, task_of, upload_photo,
)
from tests.e2e.system import DEMO_PASSWORD, Client, System

VILLAGE, AGENCY, COORDINATOR, REGENCY, ADMIN = policy.ROLES
MALANG, MALANG_VILLAGE = "35.07", "35.07.01.2001"  # a regency without rules: needs_triage
UNKNOWN_VILLAGE = "35.79.02.2999"
PASSWORD = "matriks-akses-jembatan-2026"
NEW_PASSWORD = "matriks-akses-jembatan-baru-77"
MISSING_ID = "00000000-0000-4000-8000-000000000000"
MISSING_TOKEN_ID = "0123456789abcdef"

# The caller in scope, and one out of scope, of each role: (role, scope).
IN_SCOPE = {VILLAGE: (VILLAGE, PUNTEN), AGENCY: (AGENCY, "pdam-batu"),
            COORDINATOR: (COORDINATOR, "35.79.02"), REGENCY: (REGENCY, "35.79"),
            ADMIN: (ADMIN, None)}
OUT_OF_SCOPE = {VILLAGE: (VILLAGE, "35.79.02.2002"), AGENCY: (AGENCY, "dlh-batu"),
                COORDINATOR: (COORDINATOR, "35.79.03"), REGENCY: (REGENCY, MALANG)}
PUPR = (AGENCY, "pupr-batu")  # the support agency of a clean-water case of Punten

# -- what the gateway declares -------------------------------------------------------------------

ENDPOINTS = {}  # operation -> [(method, url, declaration)]
for (_method, _url), _declared in DOCUMENTED.items():
    ENDPOINTS.setdefault(_declared["operation"], []).append((_method, _url, _declared))


def success_status(operation):
    """The 2xx the operation answers when it does what was asked."""
    (_method, _url, declared), = ENDPOINTS[operation]
    return min((status for status in declared["answers"] if 200 <= status < 300), default=200)


# -- the operations: what kind of resource each acts on ------------------------------------------

# public: no token needed        none: no resource          self: the caller's own account
# case: a case                    task: an agency's own task  supervised: a task a supervisor
# merge: a case into another      notification: one of the caller's inbox
# attachment: a photo of a case
# actor, token: an actor / token a manager manages            new_actor: the body's scope
# preview: the body's village
KINDS = {
    "health": "public", "categories.list": "public", "openapi": "public",
    "auth.login": "public",
    "public.record": "public", "public.record_csv": "public", "public.cases": "public",
    "public.cases_csv": "public",
    "auth.logout": "self", "me.read": "self", "me.password": "self",
    "villages.list": "none", "reports.create": "none", "cases.list": "none",
    "cases.summary": "none", "escalations.list": "none", "notifications.list": "none",
    "notifications.read_all": "none", "agencies.list": "none", "agencies.records": "none",
    "agencies.records_csv": "none",
    "musrenbang.read": "district", "musrenbang.csv": "district", "musrenbang.pdf": "district",
    "musrenbang.propose": "district", "musrenbang.withdraw": "district",
    "routing.rules": "none",
    "actors.list": "none", "audit.list": "none",
    "cases.read": "case", "cases.timeline": "case", "cases.comment": "case",
    "cases.confirm": "case", "cases.reopen": "case", "cases.route": "case",
    "cases.escalate": "case", "cases.cancel": "case", "cases.merge": "merge",
    "cases.attach": "case", "attachments.read": "attachment",
    "attachments.thumbnail": "attachment",
    "tasks.accept": "task", "tasks.decline": "task", "tasks.progress": "task",
    "tasks.complete": "task", "tasks.withdraw": "supervised", "tasks.lead": "supervised",
    "notifications.read": "notification", "routing.preview": "preview",
    "actors.create": "new_actor", "actors.read": "actor", "actors.disable": "actor",
    "actors.enable": "actor", "actors.password": "actor", "actors.token": "actor",
    "tokens.revoke": "token",
    "me.channels": "self", "preferences.read": "none", "preferences.update": "none",
    "webhooks.list": "none", "webhooks.create": "none", "webhooks.delete": "webhook",
    "deliveries.list": "none", "deliveries.retry": "delivery", "actors.channels": "actor",
    "announcements.list": "none", "announcements.create": "area",
    "announcements.read": "announcement", "announcements.remind": "announcement",
    "subscriptions.list": "none", "subscriptions.create": "none",
    "subscriptions.delete": "subscription",
}
CASE_KINDS = ("case", "task", "supervised", "merge", "attachment")
SCOPED = CASE_KINDS + ("notification", "preview", "new_actor", "actor", "token", "webhook",
                      "delivery", "area", "announcement", "subscription", "district")


def admin_sees(role):
    return role == ADMIN


def nobody_sees(role):
    return False


# kind -> [(situation, resource, whether the role, when allowed, sees it)], besides "in scope"
# (the in-scope caller on the shared resource), "out of scope" (the out-of-scope caller of the
# same role on it) and "does not exist".
VARIANTS = {
    "case": [("case of another regency", "other_regency", admin_sees)],
    "task": [("case of another regency", "other_regency", admin_sees)],
    "supervised": [("case of another regency", "other_regency", admin_sees)],
    "merge": [("case of another regency", "other_regency", admin_sees),
              ("into a case of another regency", "into_other_regency", admin_sees)],
    "attachment": [("case of another regency", "other_regency", admin_sees),
                   ("photo of another case", "other_case_photo", nobody_sees)],
    "notification": [("notification of another party", "other_party", nobody_sees)],
    "webhook": [("webhook of another party", "other_party", admin_sees)],
    "delivery": [],
    "area": [("area of another regency", "other_regency", nobody_sees)],
    "district": [("district of another regency", "other_regency", admin_sees)],
    "announcement": [("announcement of another regency", "other_regency", admin_sees)],
    "subscription": [],
    "preview": [("village of another regency", "other_regency", admin_sees)],
    "new_actor": [("scope of another regency", "other_regency", admin_sees),
                  ("a new admin", "admin", admin_sees)],
    "actor": [("actor of another regency", "other_regency", admin_sees),
              ("an admin", "admin", admin_sees)],
    "token": [("token of another regency's actor", "other_regency", admin_sees),
              ("token of an admin", "admin", admin_sees)],
}
# Situations where the caller has no valid token: (situation, per role?)
TOKEN_TROUBLE = (("no token", False), ("malformed token", False), ("forged token", False),
                 ("revoked token", True), ("expired token", True),
                 ("token of a disabled actor", True))
TROUBLED = {situation for situation, _per_role in TOKEN_TROUBLE}
ERROR_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found"}

BODIES = {
    "reports.create": clean_water_report(title="Laporan uji matriks akses"),
    "cases.comment": {"body": "Komentar uji matriks akses"},
    "cases.confirm": {"note": "Sudah mengalir lagi"},
    "cases.reopen": {"reason": "Air belum mengalir"},
    "cases.route": {"supports": ["dinkes-batu"], "note": "Periksa kualitas air"},
    "cases.escalate": {"reason": "Butuh keputusan kantor walikota"},
    "cases.cancel": {"reason": "Laporan ganda"},
    "tasks.accept": {"note": "Siap"},
    "tasks.decline": {"reason": "Bukan kewenangan kami"},
    "tasks.progress": {"note": "Pipa sedang diganti"},
    "tasks.complete": {"note": "Selesai"},
    "tasks.withdraw": {"reason": "Dialihkan"},
    "tasks.lead": {"reason": "Pekerjaan utama di jaringan pipa"},
    "actors.disable": {"reason": "Uji matriks akses"},
    "actors.enable": {},
    "actors.password": {"password": PASSWORD},
    "actors.token": {"label": "matriks"},
    "me.password": {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    "me.channels": {"language": "en", "phone": "0812 3456 7890"},
    "actors.channels": {"email": "operator@example.org"},
    "preferences.update": {"events": {"comment_added": ["email"]}},
    "webhooks.create": {"url": "http://127.0.0.1:9/jembatan", "events": ["case_routed"]},
    "subscriptions.create": {"category": "air-bersih"},
    "musrenbang.propose": {"note": "Usulan uji matriks akses"},
}
DEAD_WEBHOOK = "http://127.0.0.1:9/jembatan"  # nothing listens: each delivery fails
# A support not yet on the case, for each supervisor routing a case by hand.
ROUTE_SUPPORT = {COORDINATOR: "dinkes-batu", REGENCY: "dinsos-batu"}


@dataclass
class Row:
    operation: str
    role: str | None         # the role of the caller's token (None: no token at all)
    situation: str
    caller: tuple | None     # (role, scope) of the caller; None for the token troubles
    resource: str            # which resource of the operation's kind (see `World.call`)
    sees: bool = True        # whether the resource is in the caller's jurisdiction

    @property
    def expected(self):
        return expected_status(self)

    def label(self):
        return f"{self.operation} | {self.role or '-'} | {self.situation}"


def expected_status(row):
    """The contract's answer for a row, read from the policy."""
    allowed = policy.OPERATIONS[row.operation]
    if allowed is policy.PUBLIC:
        return success_status(row.operation)
    if row.situation in TROUBLED:
        return 401
    if row.role not in allowed:
        return 403
    return success_status(row.operation) if row.sees else 404


def matrix():
    """Every row of the matrix."""
    rows = []
    for operation in policy.OPERATIONS:
        kind = KINDS[operation]
        for role in policy.ROLES:
            if not (kind == "notification" and role == ADMIN):  # an admin has no inbox
                rows.append(Row(operation, role, "in scope", IN_SCOPE[role], "main"))
            if kind not in SCOPED:
                continue
            if role in OUT_OF_SCOPE:
                # An agency's area for a preview is the regency it serves: Batu, for DLH too.
                # An announcement to Bumiaji reaches the other village of Bumiaji too.
                rows.append(Row(operation, role, "out of scope", OUT_OF_SCOPE[role], "main",
                                sees=(kind == "preview" and role == AGENCY)
                                or (kind == "announcement" and role == VILLAGE)))
            for situation, resource, sees in VARIANTS[kind]:
                rows.append(Row(operation, role, situation, IN_SCOPE[role], resource, sees(role)))
            rows.append(Row(operation, role, "does not exist", IN_SCOPE[role], "missing",
                            sees=False))
            if role == AGENCY and kind in CASE_KINDS:
                rows.append(Row(operation, role, "its task declined", PUPR, "declined", False))
                rows.append(Row(operation, role, "its task withdrawn", PUPR, "withdrawn", False))
            if role == AGENCY and kind == "task":
                rows.append(Row(operation, role, "another agency's task", IN_SCOPE[role],
                                "other_task", False))
        for situation, per_role in TOKEN_TROUBLE:
            for role in (policy.ROLES if per_role else (None,)):
                rows.append(Row(operation, role, situation, None, "main"))
    return rows


# -- the world the matrix runs in ----------------------------------------------------------------

@dataclass
class Call:
    client: Client
    method: str
    path: str
    body: dict | None
    files: dict | None = None  # a multipart/form-data body instead of JSON


def path_of(url, params):
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(params[m.group(1)]), url)


class World:
    """One system (SQLite), its callers, and the resources the rows act on."""

    def __init__(self, system):
        self.system = system
        self.admin = system.admin()
        self.tokens = {key: actor["token"] for key, actor in system.actors.items()}
        self.pool = []

    # -- callers -------------------------------------------------------------------------------

    def client(self, key):
        return Client(self.system.base, self.tokens[key], f"{key[0]}:{key[1]}")

    def caller(self, role):
        return self.client(IN_SCOPE[role])

    def ok(self, response, status):
        assert response.status_code == status, (response.request.method, response.request.url,
                                                response.status_code, response.text)
        return response.json() if response.content else None

    def new_actor(self, role, scope, username=None, name="Uji Matriks Akses"):
        body = {"role": role, "name": name, **({"scope": scope} if scope else {}),
                **({"username": username} if username else {})}
        return self.ok(self.admin.post("/actors", body), 201)

    def new_person(self, role, scope):
        username = f"matriks.{role}.{uuid.uuid4().hex[:10]}"
        person = self.new_actor(role, scope, username)
        self.ok(self.admin.post(f"/actors/{person['id']}/password", {"password": PASSWORD}), 204)
        return {**person, "username": username}

    def issue(self, actor_id, **body):
        """An API token for a system actor, issued by an admin."""
        return self.ok(self.admin.post(f"/actors/{actor_id}/tokens", body), 201)

    def demo_session(self, role):
        """A new session of the demo actor of the role (a person, with the demo password):
        the sign-in's answer, with `token` and `token_id`."""
        actor = self.system.actors[IN_SCOPE[role]]
        return self.ok(self.system.anonymous().post(
            "/auth/login", {"username": actor["username"], "password": DEMO_PASSWORD}), 200)

    def session(self, person):
        signed_in = self.ok(self.system.anonymous().post(
            "/auth/login", {"username": person["username"], "password": PASSWORD}), 200)
        return Client(self.system.base, signed_in["token"], person["username"])

    # -- cases ---------------------------------------------------------------------------------

    def report_cases(self, count):
        """Report `count` clean-water cases of Punten, then wait until each is routed to PDAM
        (lead) and PUPR (support)."""
        village = self.caller(VILLAGE)
        ids = [report(village, clean_water_report(title=f"Air mati, uji matriks {n}"))["case_id"]
               for n in range(count)]
        cases = [case_when(self.admin, case_id, "routed") for case_id in ids]
        for case in cases:
            assert {t["agency"]["id"] for t in case["tasks"]} == {"pdam-batu", "pupr-batu"}, case
        return cases

    def fresh_case(self):
        """A routed clean-water case of Punten nothing else uses."""
        if not self.pool:
            self.pool += self.report_cases(4)
        return self.pool.pop()

    def task_path(self, case, agency, action):
        return f"/cases/{case['id']}/tasks/{task_of(case, agency)['id']}/{action}"

    def accepted_case(self):
        case = self.fresh_case()
        self.ok(self.client(IN_SCOPE[AGENCY]).post(self.task_path(case, "pdam-batu", "accept"),
                                                   {}), 200)
        return case

    def resolved_case(self):
        case = self.fresh_case()
        for key in (IN_SCOPE[AGENCY], PUPR):
            agency = self.client(key)
            self.ok(agency.post(self.task_path(case, key[1], "accept"), {}), 200)
            self.ok(agency.post(self.task_path(case, key[1], "complete"), {"note": "Beres"}), 200)
        return case_when(self.admin, case["id"], "resolved")

    # -- set-up --------------------------------------------------------------------------------

    def build(self):
        admin = self.admin
        # Kabupaten Malang: a regency office and a village operator of its own.
        for role, scope in ((REGENCY, MALANG), (VILLAGE, MALANG_VILLAGE)):
            actor = self.new_actor(role, scope, name=f"Uji {role} {scope}")
            self.tokens[(role, scope)] = self.issue(actor["id"], label="matriks")["token"]
        other = report(self.client((VILLAGE, MALANG_VILLAGE)),
                       clean_water_report(title="Air mati di Kabupaten Malang"))
        self.pool = self.report_cases(18)
        self.main = self.fresh_case()
        self.other_regency = case_when(admin, other["case_id"], "needs_triage")
        assert not self.other_regency["tasks"]

        # PUPR declined its task on one case, and had it withdrawn on another.
        pupr = self.client(PUPR)
        self.declined = self.fresh_case()
        self.ok(pupr.post(self.task_path(self.declined, "pupr-batu", "decline"),
                          {"reason": "Bukan kewenangan kami"}), 200)
        self.withdrawn = self.fresh_case()
        self.ok(self.caller(COORDINATOR).post(
            self.task_path(self.withdrawn, "pupr-batu", "withdraw"), {"reason": "Dialihkan"}),
            200)
        # A photo on each of those cases (Malang's added by its own village); and one of them
        # asked for under the main case's address.
        self.photos = {}
        for resource in ("main", "other_regency", "declined", "withdrawn"):
            village = self.client((VILLAGE, MALANG_VILLAGE) if resource == "other_regency"
                                  else IN_SCOPE[VILLAGE])
            added = upload_photo(village, self._case_of(resource)["id"])
            self.photos[resource] = self.ok(added, 201)["id"]
        self.photos["other_case_photo"] = self.photos["declined"]

        # One notification of each party's inbox (the regency office hears of an escalation).
        self.ok(self.caller(COORDINATOR).post(f"/cases/{self.main['id']}/escalate",
                                              {"reason": "Uji matriks"}), 200)
        self.inbox = {}
        for role in (VILLAGE, AGENCY, COORDINATOR, REGENCY):
            caller = self.caller(role)
            self.inbox[role] = eventually(
                lambda: every(caller, "/notifications", case_id=self.main["id"]))[0]["id"]

        # Actors a manager acts on: of Batu, of Malang, an admin; a token of each.
        # (systems, so that they have API tokens).
        self.target = {"main": self.new_actor(VILLAGE, PUNTEN),
                       "other_regency": self.new_actor(VILLAGE, MALANG_VILLAGE),
                       "admin": self.new_actor(ADMIN, None)}
        self.target_token = {key: self.issue(actor["id"], label="matriks")["id"]
                             for key, actor in self.target.items()}

        # People of each role who sign in, sign out and change their password.
        self.login = {role: self.new_person(*IN_SCOPE[role]) for role in policy.ROLES}
        self.changes_password = {role: self.new_person(*IN_SCOPE[role]) for role in policy.ROLES}

        # Tokens of every role that no longer let anyone in (sessions of the demo people).
        self.revoked, self.expired = {}, {}
        for role in policy.ROLES:
            revoked = self.demo_session(role)
            self.ok(Client(self.system.base, revoked["token"]).get("/me"), 200)  # it worked
            self.ok(admin.delete(f"/tokens/{revoked['token_id']}"), 204)
            self.revoked[role] = revoked["token"]
            self.expired[role] = self.demo_session(role)
            self.ok(Client(self.system.base, self.expired[role]["token"]).get("/me"), 200)
        engine = create_engine(self.system.database_url("gateway"), poolclass=NullPool,
                               connect_args={"timeout": 30})
        try:
            with engine.begin() as connection:
                connection.execute(
                    update(Token)
                    .where(Token.id.in_([t["token_id"] for t in self.expired.values()]))
                    .values(expires_at=datetime.now(timezone.utc) - timedelta(minutes=5)))
        finally:
            engine.dispose()
        self.expired = {role: issued["token"] for role, issued in self.expired.items()}
        # Tokens of actors (one of each role, made for this) that were disabled.
        self.disabled = {}
        for role in policy.ROLES:
            actor = self.new_actor(*IN_SCOPE[role], name=f"Uji {role} nonaktif")
            self.disabled[role] = self.issue(actor["id"], label="matriks: disabled")["token"]
            self.ok(Client(self.system.base, self.disabled[role]).get("/me"), 200)
            self.ok(admin.post(f"/actors/{actor['id']}/disable", {"reason": "uji"}), 200)
        for token in (*self.revoked.values(), *self.expired.values(), *self.disabled.values()):
            # refused now, as the rows expect them to be
            assert Client(self.system.base, token).get("/me").status_code == 401
        # A webhook of each party, and a delivery that failed (to Punten's, of a comment).
        self.webhooks = {role: self.new_webhook(role) for role in (VILLAGE, AGENCY, COORDINATOR,
                                                                     REGENCY)}
        self.ok(self.caller(COORDINATOR).post(f"/cases/{self.main['id']}/comments",
                                              {"body": "Uji matriks: pengiriman gagal"}), 201)
        self.failed_delivery = eventually(lambda: every(
            admin, "/deliveries", status="failed", channel="webhook",
            party=f"village:{PUNTEN}"), timeout=30)[0]["id"]
        # An announcement of Bumiaji's coordinator, and one of Malang's regency office to one of
        # its districts.
        self.announcements = {
            "main": self.ok(self.caller(COORDINATOR).post("/announcements", {
                "title": "Uji matriks", "body": "Pengumuman uji", "district": "35.79.02"}),
                201)["id"],
            "other_regency": self.ok(self.client((REGENCY, MALANG)).post("/announcements", {
                "title": "Uji matriks", "body": "Pengumuman uji", "district": "35.07.01"}),
                201)["id"]}
        self.subscriptions = {role: self.new_subscription(role) for role in (COORDINATOR,
                                                                              REGENCY)}
        village_token = self.tokens[IN_SCOPE[VILLAGE]]
        self.troubled = {"no token": None, "malformed token": "not-a-token",
                         "forged token": village_token[:22] + "A" * (len(village_token) - 22)}
        return self

    # -- a row as a request --------------------------------------------------------------------

    def call(self, row):
        """The request a row makes; a row expecting 2xx gets a fresh resource in the state its
        operation needs (`fresh`), the others share one."""
        fresh = 200 <= row.expected < 300
        if row.situation in TROUBLED:
            token = {"revoked token": self.revoked, "expired token": self.expired,
                     "token of a disabled actor": self.disabled}.get(
                row.situation, {row.role: self.troubled.get(row.situation)})[row.role]
            client = Client(self.system.base, token, row.situation)
        else:
            client = self.client(row.caller)
        role = row.role or VILLAGE  # whose resource a token-less row names
        kind = KINDS[row.operation]
        params, body = {}, BODIES.get(row.operation)
        resolve = getattr(self, f"_{kind}")
        client, params, body = resolve(row, role, fresh, client, params, body)
        (method, url, declared), = ENDPOINTS[row.operation]
        if declared["body_type"] == "multipart/form-data":  # a photo, the only upload
            return Call(client, method, path_of(url, params), None,
                        {"photo": ("matriks.jpg", photo_bytes(), "image/jpeg")})
        return Call(client, method, path_of(url, params), body)

    def _public(self, row, role, fresh, client, params, body):
        if row.operation.startswith("public."):  # the public record of Kota Batu
            params["area"] = "35.79"
        if row.operation == "auth.login":
            person = self.login[role]
            body = {"username": person["username"], "password": PASSWORD}
        return client, params, body

    def _none(self, row, role, fresh, client, params, body):
        return client, params, body

    def _self(self, row, role, fresh, client, params, body):
        if fresh and row.operation == "auth.logout":
            client = self.session(self.login[role])
        elif fresh and row.operation == "me.password":
            client = self.session(self.changes_password[role])
        return client, params, body

    def _case_of(self, resource):
        return {"main": self.main, "other_regency": self.other_regency,
                "declined": self.declined, "withdrawn": self.withdrawn,
                "other_task": self.main, "into_other_regency": self.main,
                "other_case_photo": self.main}.get(resource)

    def _case(self, row, role, fresh, client, params, body):
        case = self._case_of(row.resource)
        operation = row.operation
        if fresh and operation in ("cases.confirm", "cases.reopen"):
            case = self.resolved_case()
        elif fresh and operation in ("cases.escalate", "cases.cancel"):
            case = self.fresh_case()
        if operation == "cases.route" and fresh:
            body = {"supports": [ROUTE_SUPPORT[role]], "note": "Bantu periksa"}
        params["case_id"] = case["id"] if case else MISSING_ID
        return client, params, body

    def _merge(self, row, role, fresh, client, params, body):
        source = self.fresh_case() if fresh else self._case_of(row.resource)
        into = {"main": self.withdrawn, "into_other_regency": self.other_regency}.get(
            row.resource, self.main)
        if fresh:
            into = self.main
        params["case_id"] = source["id"] if source else MISSING_ID
        body = {"into": into["tracking_number"], "reason": "Laporan yang sama"}
        return client, params, body

    def _attachment(self, row, role, fresh, client, params, body):
        case = self._case_of(row.resource)
        params.update(case_id=case["id"] if case else MISSING_ID,
                      attachment_id=self.photos.get(row.resource, MISSING_ID))
        return client, params, body

    def _task_on(self, case, agency):
        return task_of(case, agency)["id"] if case and case["tasks"] else MISSING_ID

    def _task(self, row, role, fresh, client, params, body):
        case = self._case_of(row.resource)
        agency = "pupr-batu" if row.resource in ("declined", "withdrawn", "other_task") \
            else "pdam-batu"
        if fresh:
            case = (self.accepted_case() if row.operation in ("tasks.progress", "tasks.complete")
                    else self.fresh_case())
        params.update(case_id=case["id"] if case else MISSING_ID,
                      task_id=self._task_on(case, agency))
        return client, params, body

    def _supervised(self, row, role, fresh, client, params, body):
        case = self.fresh_case() if fresh else self._case_of(row.resource)
        params.update(case_id=case["id"] if case else MISSING_ID,
                      task_id=self._task_on(case, "pupr-batu"))
        return client, params, body

    def _notification(self, row, role, fresh, client, params, body):
        if row.resource == "other_party":
            owner = VILLAGE if role == COORDINATOR else COORDINATOR
        else:
            owner = role
        notification = self.inbox.get(owner) if row.resource != "missing" else None
        params["notification_id"] = notification or MISSING_ID
        return client, params, body

    def _preview(self, row, role, fresh, client, params, body):
        village = {"main": PUNTEN, "other_regency": MALANG_VILLAGE,
                   "missing": UNKNOWN_VILLAGE}[row.resource]
        return client, params, {"village_code": village, "category": "air-bersih",
                                "severity": "high"}

    def _new_actor(self, row, role, fresh, client, params, body):
        body = {"main": {"role": VILLAGE, "scope": PUNTEN},
                "other_regency": {"role": VILLAGE, "scope": MALANG_VILLAGE},
                "admin": {"role": ADMIN},
                "missing": {"role": VILLAGE, "scope": UNKNOWN_VILLAGE}}[row.resource]
        return client, params, {**body, "name": "Operator Uji Matriks"}

    def _new_target(self, resource, system=False):
        """An actor made for one call: a person, or (to be issued a token) a system."""
        place = {"main": (VILLAGE, PUNTEN), "other_regency": (VILLAGE, MALANG_VILLAGE),
                 "admin": (ADMIN, None)}[resource]
        return self.new_actor(*place) if system else self.new_person(*place)

    def _actor(self, row, role, fresh, client, params, body):
        target = self.target.get(row.resource)
        if fresh and row.operation != "actors.read":
            target = self._new_target(row.resource,  # an actor made for this call
                                      system=row.operation == "actors.token")
            if row.operation == "actors.enable":
                self.ok(self.admin.post(f"/actors/{target['id']}/disable", {}), 200)
        params["actor_id"] = target["id"] if target else MISSING_ID
        return client, params, body

    def new_webhook(self, role):
        """A webhook of the in-scope party of `role` that no delivery can reach."""
        return self.ok(self.caller(role).post("/webhooks", {
            "url": DEAD_WEBHOOK, "events": ["comment_added"]}), 201)["id"]

    def _webhook(self, row, role, fresh, client, params, body):
        owner = role if role != ADMIN else VILLAGE  # an admin has no party: a village's
        if row.resource == "other_party":
            owner = VILLAGE if role == COORDINATOR else COORDINATOR
        webhook = self.webhooks.get(owner) if row.resource != "missing" else None
        if fresh:
            webhook = self.new_webhook(owner)  # made for this call, which deletes it
        params["webhook_id"] = webhook or MISSING_ID
        return client, params, body

    def _area(self, row, role, fresh, client, params, body):
        own = {COORDINATOR: "35.79.02", REGENCY: "35.79"}
        field = "regency" if role == REGENCY else "district"
        code = {"main": own.get(role, "35.79.02"),
                "other_regency": "35.07" if role == REGENCY else "35.07.01",
                "missing": "35.99" if role == REGENCY else "35.79.09"}[row.resource]
        return client, params, {"title": "Uji matriks akses", "body": "Pengumuman uji",
                                field: code}

    def _district(self, row, role, fresh, client, params, body):
        """Bumiaji's Musrenbang input of this year, its clean-water issue."""
        params["district"] = {"main": "35.79.02", "other_regency": "35.07.01",
                              "missing": "35.79.99"}[row.resource]
        params["year"], params["category"] = datetime.now(timezone.utc).year, "air-bersih"
        return client, params, body

    def _announcement(self, row, role, fresh, client, params, body):
        params["announcement_id"] = self.announcements.get(row.resource, MISSING_ID)
        return client, params, body

    def new_subscription(self, role):
        return self.ok(self.caller(role).post("/subscriptions", {"overdue": True}), 201)["id"]

    def _subscription(self, row, role, fresh, client, params, body):
        owner = role if role in (COORDINATOR, REGENCY) else COORDINATOR
        subscription = self.subscriptions[owner] if row.resource != "missing" else MISSING_ID
        if fresh:
            subscription = self.new_subscription(owner)  # made for this call, which ends it
        params["subscription_id"] = subscription
        return client, params, body

    def _delivery(self, row, role, fresh, client, params, body):
        params["delivery_id"] = self.failed_delivery if row.resource != "missing" else MISSING_ID
        return client, params, body

    def _token(self, row, role, fresh, client, params, body):
        token = self.target_token.get(row.resource)
        if fresh:
            token = self.issue(self._new_target(row.resource, system=True)["id"],
                               label="matriks")["id"]
        params["token_id"] = token or MISSING_TOKEN_ID
        return client, params, body


# -- running the rows ----------------------------------------------------------------------------

def disagreement(row, world):
    """None when the server answers the row as the contract says; otherwise what it answered."""
    call = world.call(row)
    response = call.client.request(call.method, call.path, call.body, files=call.files)
    expected, got = row.expected, response.status_code
    if got == expected and 200 <= got < 300:
        return None
    problem = None
    if got != expected:
        problem = "status"
    else:
        try:
            error = response.json()["error"]
            shaped = (set(error) == {"code", "message", "details"}
                      and isinstance(error["message"], str) and error["message"]
                      and isinstance(error["details"], dict))
        except (ValueError, KeyError, TypeError):
            shaped = False
        if not shaped:
            problem = "error shape"
        elif error["code"] != ERROR_CODES[expected]:
            problem = f"error code {error['code']!r}"
    if problem is None:
        return None
    return (row.operation, row.role, row.situation, expected, got, problem,
            f"{call.method} {call.path}", response.text[:300])


def check(world, rows, parallel=True):
    """Every disagreement of `rows`, run concurrently (refusals only) or in order."""
    if parallel:
        with ThreadPoolExecutor(max_workers=8) as pool:
            found = list(pool.map(lambda row: disagreement(row, world), rows))
    else:
        found = [disagreement(row, world) for row in rows]
    return [d for d in found if d is not None]


def report_of(disagreements):
    return "\n".join(
        f"{operation} | {role or '-'} | {situation}: expected {expected}, got {got} ({problem})"
        f"  {request}  {body}"
        for operation, role, situation, expected, got, problem, request, body in disagreements)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    # Webhooks may reach this machine, and a delivery fails at its first attempt.
    running = System(tmp_path_factory.mktemp("access-matrix"), env={
        "JEMBATAN_WEBHOOKS_ALLOW_PRIVATE": "1", "JEMBATAN_DELIVERY_ATTEMPTS": "1"}).start()
    try:
        yield World(running).build()
    finally:
        running.stop()


ROWS = matrix()


def rows_where(predicate):
    return [row for row in ROWS if predicate(row)]


# -- the tests -----------------------------------------------------------------------------------

def test_every_operation_of_the_policy_has_one_endpoint_and_its_rows():
    assert set(KINDS) == set(policy.OPERATIONS), (
        "operations without a matrix row: "
        f"{sorted(set(policy.OPERATIONS) - set(KINDS))}; rows of no operation: "
        f"{sorted(set(KINDS) - set(policy.OPERATIONS))}")
    assert set(ENDPOINTS) == set(policy.OPERATIONS)
    assert all(len(endpoints) == 1 for endpoints in ENDPOINTS.values()), ENDPOINTS
    for operation in policy.OPERATIONS:
        covered = {(row.role, row.situation) for row in ROWS if row.operation == operation}
        for role in policy.ROLES:
            if not (KINDS[operation] == "notification" and role == ADMIN):
                assert (role, "in scope") in covered, (operation, role)
            assert (role, "revoked token") in covered, (operation, role)
            if KINDS[operation] in SCOPED:
                assert (role, "does not exist") in covered, (operation, role)
                if role != ADMIN:
                    assert (role, "out of scope") in covered, (operation, role)
        assert (None, "no token") in covered, operation


def test_without_a_valid_token_only_the_public_operations_answer(world):
    found = check(world, rows_where(lambda row: row.situation in TROUBLED))
    assert not found, f"{len(found)} disagreements:\n{report_of(found)}"


def test_a_role_the_policy_does_not_name_is_forbidden_whatever_the_resource(world):
    found = check(world, rows_where(lambda row: row.situation not in TROUBLED
                                    and row.expected == 403))
    assert not found, f"{len(found)} disagreements:\n{report_of(found)}"


def test_what_is_outside_the_callers_jurisdiction_is_not_found(world):
    found = check(world, rows_where(lambda row: row.situation not in TROUBLED
                                    and row.expected == 404))
    assert not found, f"{len(found)} disagreements:\n{report_of(found)}"


def test_an_allowed_role_in_scope_gets_its_answer(world):
    found = check(world, rows_where(lambda row: row.situation not in TROUBLED
                                    and 200 <= row.expected < 300), parallel=False)
    assert not found, f"{len(found)} disagreements:\n{report_of(found)}"
