"""The villages service: the wilayah registry and the village-side intake of reports."""
import uuid
from types import SimpleNamespace

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from services.villages import domain, registry
from services.villages.models import Base, District, Regency, Report, Village
from shared import commands, events, migrations, paging, policy
from shared.db import Database
from shared.errors import DOMAIN_ERRORS, NotFound, ValidationFailed
from shared.events import iso, utcnow
from shared.i18n import text
from shared.messaging import rpc


REPORTED_LABEL = text("dilaporkan", "reported")
TRACKING_NUMBER_ATTEMPTS = 5


# village code -> its (village, district, regency) refs: the registry does not change while a
# service runs, and every report needs them.
_PLACES = {}


def place_refs(session, village_code):
    """(village, district, regency) as {code, name}, or None for an unknown village."""
    refs = _PLACES.get(village_code)
    if refs is None:
        refs = _read_place_refs(session, village_code)
        if refs is not None:
            _PLACES[village_code] = refs
    return refs


def _read_place_refs(session, village_code):
    row = session.execute(
        select(Village, District, Regency)
        .join(District, Village.district_code == District.code)
        .join(Regency, District.regency_code == Regency.code)
        .where(Village.code == village_code)
    ).first()
    if row is None:
        return None
    village, district, regency = row
    return ({"code": village.code, "name": village.name},
            {"code": district.code, "name": district.name},
            {"code": regency.code, "name": registry.pretty_regency_name(regency.name)})


def village_view(refs):
    village, district, regency = refs
    return {**village, "district": district, "regency": regency}


def prepare(store):
    """Load the wilayah registry into a new database (a no-op once it is there); replicas
    starting together load it once."""
    with store.transaction() as unit:
        migrations.one_at_a_time(unit.session.connection(), "jembatan-villages-registry")
        registry.load(unit.session)


class VillagesService:
    name = "villages"
    db = Database(Base.metadata, prepare=prepare)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def submit_report(self, actor, report, idempotency_key=None, photos=()):
        """Store a village's report and announce it; returns the new case's id and number.

        `photos` are those the gateway kept of the report's upload (events.PhotoRef)."""
        policy.require_role(actor, "reports.create")  # a village operator, for its own village
        village_code = actor["scope"]
        report = commands.load(commands.ReportInput, report)
        photos = events.PhotoRef(many=True).load(list(photos))
        digest = domain.fingerprint(report)
        if idempotency_key is not None:
            existing = self._by_idempotency_key(village_code, idempotency_key)
            if existing is not None:
                domain.check_idempotent_retry(existing.request_fingerprint, digest)
                return {"case_id": existing.id, "tracking_number": existing.tracking_number,
                        "status": "reported"}
        for _attempt in range(TRACKING_NUMBER_ATTEMPTS):
            try:
                return self._store_report(actor, village_code, report, photos, digest,
                                          idempotency_key)
            except IntegrityError:
                # Either a concurrent request with the same key won the race (answer with its
                # case), or the random tracking number was taken (draw another).
                existing = self._by_idempotency_key(village_code, idempotency_key)
                if existing is not None:
                    domain.check_idempotent_retry(existing.request_fingerprint, digest)
                    return {"case_id": existing.id, "tracking_number": existing.tracking_number,
                            "status": "reported"}
        raise RuntimeError("no free tracking number after several draws")

    def _by_idempotency_key(self, village_code, key):
        if key is None:
            return None
        with self.db.read() as session:
            return session.scalar(select(Report).where(
                Report.village_code == village_code, Report.idempotency_key == key))

    def _store_report(self, actor, village_code, report, photos, digest, idempotency_key):
        now = utcnow()
        with self.db.transaction() as unit:
            refs = place_refs(unit.session, village_code)
            if refs is None:
                raise ValidationFailed(
                    text("Desa/kelurahan operator ini tidak ada di daftar wilayah.",
                         "This operator's village is not in the registry."),
                    {"village": [text("Kode tidak dikenal.", "Unknown code.")]})
            village, district, regency = refs
            location = report["location"]
            row = {
                "id": str(uuid.uuid4()), "tracking_number": domain.new_tracking_number(),
                "village_code": village_code, "category": report["category"],
                "title": report["title"].strip(), "description": report["description"].strip(),
                "severity": report["severity"], "affected_people": report["affected_people"],
                "lat": location["lat"] if location else None,
                "lon": location["lon"] if location else None,
                "reporter_id": actor["id"], "reporter_name": actor["name"],
                "idempotency_key": idempotency_key, "request_fingerprint": digest,
                "created_at": now, "photos": photos or None,
                "confidential": report["confidential"],
            }
            unit.session.execute(insert(Report.__table__), row)
            unit.emit(events.ISSUE_REPORTED, {
                "case_id": row["id"], "tracking_number": row["tracking_number"],
                "category": row["category"], "title": row["title"],
                "description": row["description"], "severity": row["severity"],
                "affected_people": row["affected_people"],
                "location": {"lat": row["lat"], "lon": row["lon"]} if location else None,
                "village": village, "district": district, "regency": regency,
                "reporter": {"id": actor["id"], "role": actor["role"], "name": actor["name"],
                             "scope": actor.get("scope")},
                "reported_at": iso(now), "photos": photos,
                "confidential": row["confidential"],
            }, correlation_id=row["id"])
        return {"case_id": row["id"], "tracking_number": row["tracking_number"],
                "status": "reported"}

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def reported_case(self, actor, case_id, lang="id"):
        """A report the requests service has not opened yet, shown as a case that is reported.

        Between the 202 and the case opening (milliseconds, or longer while requests is down)
        the village still finds what it reported.
        """
        with self.db.read() as session:
            report = session.get(Report, case_id) or session.scalar(
                select(Report).where(Report.tracking_number == str(case_id).upper()))
            refs = report and place_refs(session, report.village_code)
        if report is None or refs is None or not policy.sees_case(actor, SimpleNamespace(
                village_code=refs[0]["code"], district_code=refs[1]["code"],
                regency_code=refs[2]["code"], tasks=[])):
            raise policy.case_not_found()
        created = iso(report.created_at)
        village, district, regency = refs
        return {
            "id": report.id, "tracking_number": report.tracking_number, "status": "reported",
            "status_label": REPORTED_LABEL[lang],
            "category": report.category, "title": report.title,
            "description": report.description, "severity": report.severity,
            "affected_people": report.affected_people, "village": village,
            "district": district, "regency": regency, "agencies": [], "tasks": [], "attachments": [],
            "created_at": created, "updated_at": created, "overdue": False,
            "escalation_level": "none", "likely_duplicate_of": None, "merged_into": None,
            "location": ({"lat": report.lat, "lon": report.lon} if report.lat is not None
                         else None),
            "reporter": {"name": report.reporter_name},
            "routing": {"rule_id": None, "explanation": None},
            "confidential": report.confidential,
        }

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def get_village(self, code):
        with self.db.read() as session:
            refs = place_refs(session, code)
        if refs is None:
            raise NotFound(text("Desa/kelurahan tidak ditemukan.", "Village not found."),
                           {"village_code": [text("Kode tidak dikenal.", "Unknown code.")]})
        return village_view(refs)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def place(self, code, role):
        """The regency (and name) of the area a new actor of `role` would have as its scope."""
        level = {policy.VILLAGE: Village, policy.COORDINATOR: District, policy.REGENCY: Regency}
        model = level.get(role)
        with self.db.read() as session:
            row = model and session.get(model, code)
            if row is None:
                raise NotFound(text("Wilayah tidak ditemukan.", "No such area."))
            regency = session.get(Regency, code[:5])
        return {"code": row.code, "name": row.name,
                "regency": {"code": regency.code,
                            "name": registry.pretty_regency_name(regency.name)}}

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def villages_of(self, code):
        """A district or regency and every village in it: {area: {code, name}, villages}."""
        level = {8: District, 5: Regency}.get(len(code or ""))
        with self.db.read() as session:
            area = level and session.get(level, code)
            if area is None:
                raise NotFound(text("Wilayah tidak ditemukan.", "No such area."))
            in_area = (Village.district_code == code if level is District
                       else Village.district_code.in_(
                           select(District.code).where(District.regency_code == code)))
            villages = session.scalars(select(Village).where(in_area)
                                       .order_by(Village.code)).all()
            name = (area.name if level is District
                    else registry.pretty_regency_name(area.name))
            return {"area": {"code": area.code, "name": name},
                    "villages": [{"code": v.code, "name": v.name} for v in villages]}

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def list_villages(self, query):
        """One page of the registry's villages (`district`, `q`: part of the name)."""
        conditions = []
        if query.get("district"):
            conditions.append(Village.district_code == query["district"])
        if query.get("q"):
            conditions.append(Village.name.icontains(query["q"], autoescape=True))
        rows = (select(Village, District, Regency)
                .join(District, Village.district_code == District.code)
                .join(Regency, District.regency_code == Regency.code).where(*conditions)
                .order_by(Village.code))
        with self.db.read() as session:
            return paging.read_page(session, query, rows, lambda row: village_view((
                {"code": row[0].code, "name": row[0].name},
                {"code": row[1].code, "name": row[1].name},
                {"code": row[2].code, "name": registry.pretty_regency_name(row[2].name)})))

    @rpc
    def health(self):
        return self.db.health()

