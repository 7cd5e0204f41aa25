"""Open311 GeoReport v2 under /open311/v2/ (https://wiki.open311.org/GeoReport_v2): what civic
apps and dashboards the world over read and post, answered from Jembatan's own cases.

    GET  services.{format}                 one service per category of the catalogue
    GET  services/{service_code}.{format}  its definition: the attributes a report of it takes
    GET  requests.{format}                 the public cases (never a confidential one)
    POST requests.{format}                 a village reports, its token as `api_key`
    GET  requests/{service_request_id}.{format}   one public case (tracking number or id)
    GET  tokens/{token}.{format}           the request a POST's token stands for

`format` is json or xml; `jurisdiction_id` is a regency's code (35.79), and may be left out
(every regency). Errors are the specification's list of {code, description}, one per field.
A posted request is the same report as POST /api/v1/reports: checked by the villages service,
routed like any other. The personal fields of the specification (email, names, phone, device
and account ids) and `media_url` are accepted and not kept: a report is the village
government's, and photos are uploaded, never fetched from an address.
"""
import json
from datetime import datetime, timedelta, timezone
from xml.etree.ElementTree import Element, tostring

from marshmallow import EXCLUDE, Schema, fields, validate
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from services.gateway import http, webtext
from services.gateway.http import (
    ANY_ORIGIN, ApiEndpoint, filled, known_place, language, load_body, load_query, refusal_of,
    refuse_nul, too_large,
)
from shared import config, policy
from shared.categories import BY_CODE, CATEGORIES, CODES
from shared.commands import ReportInput
from shared.errors import Forbidden, NotFound, ValidationFailed
from shared.events import SEVERITIES, utcnow
from shared.i18n import localize, text

PREFIX = "/open311/v2"
FORMATS = {"json": "application/json", "xml": "text/xml"}
REGENCY_CODE = r"^\d{2}\.\d{2}$"
MOST_REQUESTS = 1000     # one answer of GET requests holds at most this many, newest first
LONGEST_RANGE = timedelta(days=90)  # the specification's: the default range, and the widest
MOST_IDS = 100           # service_request_id values in one GET requests
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100  # the times a start_date or end_date may name
TITLE_LENGTH = 200

# (method, url) -> what the OpenAPI document says of each endpoint (services/gateway/openapi.py)
DOCUMENTED = {}


# -- the endpoints -------------------------------------------------------------------------------

class Open311Endpoint(ApiEndpoint):
    """`@open311("GET", "/services.<format>", "open311.services", summary, root="services",
    item="service")`: a public endpoint whose method returns (status, body); the body is
    written as JSON, or as XML under `root` (a list: each element an `item`)."""

    def __init__(self, method, url, operation, summary, root, item=None, query=None, body=None,
                 answers=None, **kwargs):
        self.operation, self.root, self.item = operation, root, item
        DOCUMENTED[(method, url)] = {"operation": operation, "summary": summary, "query": query,
                                     "body": body, "answers": answers or {}}
        super(ApiEndpoint, self).__init__(method, PREFIX + url, **kwargs)  # not ApiEndpoint's

    def handle_request(self, request):
        request.shallow = False
        lang = language(request)
        form = request.path_values.pop("format", "json")
        try:
            if form not in FORMATS:
                raise NotFound(text("Format tidak dikenal.", "Unknown format."),
                               {"format": [text("json atau xml.", "json or xml.")]})
            refuse_nul(request.path_values)
            self.throttle_address(request)
            args, kwargs = self.get_entrypoint_parameters(request)
            kwargs["lang"] = lang
            if self.method == "POST":
                kwargs["actor"] = self.key_holder(request)
            status, body = self.run_worker(args, kwargs)
        except Exception as exc:  # every failure in the specification's shape
            if isinstance(exc, Forbidden):  # a wrong api_key: tried keys leave a trace
                self.gatekeeper.record("access.forbidden", None, request,
                                       target=f"{request.method} {request.path}")
            return error_answer(request, exc, lang, form)
        return answer(status, body, form, self.root, self.item,
                      ANY_ORIGIN if self.method == "GET" else None)


    def key_holder(self, request):
        """The village whose token a posted form's `api_key` is (400 without one, 403 for
        any other token); a form over the body limit is refused before it is read (413)."""
        if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            raise ValidationFailed(text("Kirim sebagai formulir.", "Send it as a form."), {
                "body": [text("application/x-www-form-urlencoded.",
                              "application/x-www-form-urlencoded.")]})
        limit = config.max_body_bytes()
        if request.content_length is not None and request.content_length > limit:
            raise too_large()
        request.max_content_length = limit
        try:
            key = request.form.get("api_key", "").strip()
        except RequestEntityTooLarge:
            raise too_large() from None
        if not key:
            raise ValidationFailed(text("Isian tidak sah.", "Invalid input."), {
                "api_key": [text("Wajib diisi: token desa/kelurahan.",
                                 "Required: a village's token.")]})
        principal = self.gatekeeper.principal_of(key)
        if principal is None or principal.role != policy.VILLAGE:
            raise Forbidden(text("api_key tidak sah.", "Invalid api_key."), {"api_key": [text(
                "Bukan token desa/kelurahan yang berlaku.", "Not a valid village token.")]})
        self.gatekeeper.throttle(f"token:{principal.token_id}", self.gatekeeper.per_token)
        return principal.as_dict()


open311 = Open311Endpoint.decorator


def error_answer(request, exc, lang, form=None):
    """A failure in the specification's shape, in the format the path asks for (JSON unless
    it ends in .xml)."""
    exc = refusal_of(exc)
    if form not in FORMATS:
        form = "xml" if request.path.endswith(".xml") else "json"
    return answer(exc.status, errors_of(exc, lang), form, "errors", "error",
                  getattr(exc, "headers", None))


http.ERROR_SHAPES[PREFIX + "/"] = error_answer


def answer(status, body, form, root, item, headers=None):
    if form == "xml":
        content = ('<?xml version="1.0" encoding="utf-8"?>\n'
                   + tostring(element(root, body, item), encoding="unicode"))
    else:
        content = json.dumps(body, ensure_ascii=False)
    return Response(content, status=status, headers=headers,
                    content_type=f"{FORMATS[form]}; charset=utf-8")


# An element's children, when its value is a list: what each is called.
ITEMS = {"attributes": "attribute", "values": "value"}


def element(name, value, item=None):
    """`value` as the XML element `name` (a list: one `item` element each)."""
    node = Element(name)
    if isinstance(value, list):
        node.extend(element(item or ITEMS.get(name, "item"), each) for each in value)
    elif isinstance(value, dict):
        node.extend(element(key, each) for key, each in value.items())
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)
    return node


def errors_of(exc, lang):
    """The specification's errors: one per field named, else the message alone."""
    details = localize(exc.details or {}, lang)
    errors = [{"code": exc.status, "description": f"{field}: {' '.join(flatten(messages))}"}
              for field, messages in details.items()]
    return errors or [{"code": exc.status, "description": localize(exc.message, lang)}]


def flatten(messages):
    if isinstance(messages, dict):
        return [f"{key}: {m}" for key, value in messages.items() for m in flatten(value)]
    if isinstance(messages, list):
        return [m for value in messages for m in flatten(value)]
    return [str(messages)]


# -- what they answer ----------------------------------------------------------------------------

def service(category, lang):
    """A category as an Open311 service."""
    english = lang == "en"
    return {"service_code": category.code,
            "service_name": category.name_en if english else category.name,
            "description": category.description_en if english else category.description,
            "metadata": True, "type": "realtime",
            "keywords": f"{category.name}, {category.name_en}", "group": None}


def definition(code, lang):
    """What a report of the category takes besides its description (the service definition)."""
    def words(id_text, en_text):
        return en_text if lang == "en" else id_text

    return {"service_code": code, "attributes": [
        {"variable": True, "code": "severity", "datatype": "singlevaluelist", "required": True,
         "datatype_description": words("Salah satu kunci di bawah.", "One of the keys below."),
         "order": 1, "description": words("Seberapa parah?", "How severe?"),
         "values": [{"key": severity, "name": localize(webtext.SEVERITY_WORDS[severity], lang)}
                    for severity in SEVERITIES]},
        {"variable": True, "code": "affected_people", "datatype": "number", "required": False,
         "datatype_description": words("Bilangan bulat, 0 atau lebih.",
                                       "A whole number, 0 or more."),
         "order": 2, "description": words("Berapa warga terdampak?", "How many people affected?")},
        {"variable": True, "code": "title", "datatype": "string", "required": False,
         "datatype_description": words(f"Paling banyak {TITLE_LENGTH} karakter.",
                                       f"At most {TITLE_LENGTH} characters."),
         "order": 3, "description": words("Judul singkat (bila kosong: awal deskripsi).",
                                          "A short title (empty: the description's start).")},
        {"variable": True, "code": "confidential", "datatype": "singlevaluelist",
         "required": False, "datatype_description": words("true atau false.", "true or false."),
         "order": 4, "description": words(
             "Rahasia: pengaduan tentang pejabat; tidak pernah tampil di sini.",
             "Confidential: a complaint about an official; never shown here."),
         "values": [{"key": "false", "name": words("Tidak", "No")},
                    {"key": "true", "name": words("Ya", "Yes")}]},
    ]}


def w3(moment):
    """An ISO 8601 time as the specification writes it (to the second)."""
    return moment and datetime.fromisoformat(moment).isoformat(timespec="seconds")


def service_request(case, lang):
    """A public case (the requests service's views.public_case) as an Open311 request."""
    village, district, regency = case["village"], case["district"], case["regency"]
    location = case["location"] or {}
    return {
        "service_request_id": case["tracking_number"],
        "status": "open" if case["open"] else "closed",
        "status_notes": case["status_label"],
        "service_name": service(BY_CODE[case["category"]], lang)["service_name"],
        "service_code": case["category"],
        "description": case["description"],
        "agency_responsible": case["agency"]["name"] if case["agency"] else None,
        "service_notice": None,
        "requested_datetime": w3(case["created_at"]),
        "updated_datetime": w3(case["updated_at"]),
        "expected_datetime": w3(case["expected_at"]),
        "address": f"{village['name']}, {district['name']}, {regency['name']}",
        "address_id": village["code"], "zipcode": None,
        "lat": location.get("lat"), "long": location.get("lon"), "media_url": None,
    }


# What they answer, for the OpenAPI document (services/gateway/openapi.py): a list of
# `many` is [schema].

class Open311Service(Schema):
    service_code = fields.String(required=True)
    service_name = fields.String(required=True)
    description = fields.String(required=True)
    metadata = fields.Boolean(required=True)
    type = fields.String(required=True, validate=validate.OneOf(("realtime", "batch",
                                                                 "blackbox")))
    keywords = fields.String(required=True)
    group = fields.String(required=True, allow_none=True)


class Open311Value(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)


class Open311Attribute(Schema):
    variable = fields.Boolean(required=True)
    code = fields.String(required=True)
    datatype = fields.String(required=True, validate=validate.OneOf((
        "string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")))
    required = fields.Boolean(required=True)
    datatype_description = fields.String(required=True)
    order = fields.Integer(required=True)
    description = fields.String(required=True)
    values = fields.List(fields.Nested(Open311Value))


class Open311Definition(Schema):
    service_code = fields.String(required=True)
    attributes = fields.List(fields.Nested(Open311Attribute), required=True)


class Open311Request(Schema):
    service_request_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("open", "closed")))
    status_notes = fields.String(required=True, allow_none=True)
    service_name = fields.String(required=True)
    service_code = fields.String(required=True)
    description = fields.String(required=True, allow_none=True)
    agency_responsible = fields.String(required=True, allow_none=True)
    service_notice = fields.String(required=True, allow_none=True)
    requested_datetime = fields.String(required=True)
    updated_datetime = fields.String(required=True, allow_none=True)
    expected_datetime = fields.String(required=True, allow_none=True)
    address = fields.String(required=True, allow_none=True)
    address_id = fields.String(required=True, allow_none=True)
    zipcode = fields.String(required=True, allow_none=True)
    lat = fields.Float(required=True, allow_none=True)
    long = fields.Float(required=True, allow_none=True)
    media_url = fields.String(required=True, allow_none=True)


class Open311Posted(Schema):
    service_request_id = fields.String(required=True)
    token = fields.String(required=True)
    service_notice = fields.String(required=True, allow_none=True)
    account_id = fields.String(required=True, allow_none=True)


class Open311Token(Schema):
    service_request_id = fields.String(required=True)
    token = fields.String(required=True)


class Open311Error(Schema):
    code = fields.Integer(required=True)
    description = fields.String(required=True)


# -- what they read ------------------------------------------------------------------------------

class Open311Jurisdiction(Schema):
    class Meta:
        unknown = EXCLUDE

    jurisdiction_id = fields.String(validate=validate.Regexp(REGENCY_CODE), metadata={
        "description": "a regency's code (35.79); left out: every regency"})


class Open311Query(Open311Jurisdiction):
    service_request_id = fields.String(metadata={
        "description": f"tracking numbers or ids, comma separated (at most {MOST_IDS}); "
                       "the other filters are then ignored"})
    service_code = fields.String(metadata={"description": "category codes, comma separated"})
    start_date = fields.DateTime(metadata={"description": "reported at or after (W3C time)"})
    end_date = fields.DateTime(metadata={"description": "reported at or before (W3C time)"})
    status = fields.String(metadata={"description": "open, closed or both, comma separated"})


class Open311Form(Schema):
    """A request as the specification posts it (a form); `api_key` is a village's token."""

    class Meta:
        unknown = EXCLUDE

    api_key = fields.String(required=True, validate=validate.Length(min=1))
    jurisdiction_id = fields.String(validate=validate.Regexp(REGENCY_CODE))
    service_code = fields.String(required=True, validate=validate.OneOf(CODES))
    description = fields.String(required=True)
    lat = fields.Float()
    long = fields.Float()
    address_string = fields.String()
    address_id = fields.String()
    email = fields.String()
    device_id = fields.String()
    account_id = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    phone = fields.String()
    media_url = fields.String()
    severity = fields.String(data_key="attribute[severity]", required=True,
                             validate=validate.OneOf(SEVERITIES))
    affected_people = fields.Integer(data_key="attribute[affected_people]")
    title = fields.String(data_key="attribute[title]")
    confidential = fields.Boolean(data_key="attribute[confidential]", truthy={"true"},
                                  falsy={"false"})


# ReportInput's field -> the field of the posted form it came from
POSTED_AS = {"category": "service_code", "severity": "attribute[severity]",
             "affected_people": "attribute[affected_people]", "title": "attribute[title]",
             "confidential": "attribute[confidential]"}


def comma_list(value, field, allowed=None, most=None):
    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    unknown = [item for item in items if allowed is not None and item not in allowed]
    if unknown or (most is not None and len(items) > most):
        raise ValidationFailed(text("Parameter tidak sah.", "Invalid query parameter."), {field: [
            text(f"Tidak dikenal: {', '.join(unknown)}.", f"Unknown: {', '.join(unknown)}.")
            if unknown else text(f"Paling banyak {most}.", f"At most {most}.")]})
    return items


def utc(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def request_filters(query, now):
    """The filters of GET requests (queries.public_cases) from its parameters, with the
    specification's defaults: the last 90 days, never a wider range."""
    filters = {"area": query.get("jurisdiction_id"), "limit": MOST_REQUESTS,
               "references": comma_list(query.get("service_request_id"), "service_request_id",
                                        most=MOST_IDS)}
    filters["categories"] = comma_list(query.get("service_code"), "service_code", CODES)
    statuses = set(comma_list(query.get("status"), "status", ("open", "closed")))
    filters["open"] = None if len(statuses) != 1 else statuses == {"open"}
    start, end = query.get("start_date"), query.get("end_date")
    for name, moment in (("start_date", start), ("end_date", end)):
        if moment is not None and not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            raise ValidationFailed(text("Waktu tidak sah.", "Invalid time."), {name: [text(
                f"Antara tahun {EARLIEST_YEAR} dan {LATEST_YEAR}.",
                f"Between the years {EARLIEST_YEAR} and {LATEST_YEAR}.")]})
    start, end = start and utc(start), end and utc(end)
    if start is None and end is None:
        end = now
    start = start or end - LONGEST_RANGE
    end = end or start + LONGEST_RANGE
    if end < start:
        raise ValidationFailed(text("Rentang waktu tidak sah.", "Invalid range."), {"end_date": [
            text("Tidak sebelum start_date.", "Not before start_date.")]})
    if end - start > LONGEST_RANGE:
        raise ValidationFailed(text("Rentang waktu tidak sah.", "Invalid range."), {"end_date": [
            text("Paling lama 90 hari setelah start_date.",
                 "At most 90 days after start_date.")]})
    filters.update(start=start.isoformat(), end=end.isoformat())
    return filters


def posted_report(form):
    """The report (commands.ReportInput) a posted request makes."""
    posted = load_body(form, Open311Form)
    description = posted["description"].strip()
    title = (posted.get("title") or "").strip() or short_title(description)
    report = {"category": posted["service_code"], "title": title, "description": description,
              "severity": posted["severity"],
              "affected_people": posted.get("affected_people"),
              "confidential": posted.get("confidential", False)}
    if ("lat" in posted) != ("long" in posted):
        raise ValidationFailed(text("Isian tidak sah.", "Invalid input."), {
            "lat" if "lat" not in posted else "long": [
                text("lat dan long diberikan bersama.", "lat and long come together.")]})
    if "lat" in posted:
        report["location"] = {"lat": posted["lat"], "lon": posted["long"]}
    try:
        return posted, load_body(report, ReportInput)
    except ValidationFailed as exc:
        details = dict(exc.details or {})
        location = details.pop("location", None)
        if isinstance(location, dict):  # each coordinate under its own name in the form
            details.update({{"lat": "lat", "lon": "long"}.get(key, key): messages
                            for key, messages in location.items()})
        elif location is not None:
            details["lat"] = location
        if not posted.get("title") and "description" in details:
            details.pop("title", None)  # the title was the description's: one error is enough
        exc.details = {POSTED_AS.get(field, field): messages
                       for field, messages in details.items()}
        raise


def short_title(description):
    """The start of a description, cut at a word, as a title."""
    line = description.splitlines()[0] if description else ""
    if len(line) <= TITLE_LENGTH:
        return line
    return line[:TITLE_LENGTH - 1].rsplit(" ", 1)[0] + "…"


# -- the gateway's endpoints ---------------------------------------------------------------------

class Open311Endpoints:
    """The GatewayService's Open311 endpoints (every one public: the POST is the village's
    `api_key`)."""

    def read_query(self, request, schema=Open311Jurisdiction):
        """The query's parameters, its `jurisdiction_id` (if any) a regency of the registry.
        A parameter given more than once is its values, comma separated (the specification
        declares a list either way)."""
        given = {name: ",".join(request.args.getlist(name)) for name in request.args}
        for name, value in given.items():
            if "\x00" in value:
                raise ValidationFailed(text("Parameter tidak sah.", "Invalid query parameter."),
                                       {name: [text("Karakter NUL.", "A NUL character.")]})
        query = load_query(given, schema)
        if query.get("jurisdiction_id") is not None:
            known_place(self.villages, query["jurisdiction_id"], policy.REGENCY, NotFound(
                text("Yurisdiksi tidak dikenal.", "Unknown jurisdiction."),
                {"jurisdiction_id": [text("Bukan kode kabupaten/kota.",
                                          "Not a regency's code.")]}))
        return query

    @open311("GET", "/services.<format>", "open311.services", "Open311: the services",
             root="services", item="service", query=Open311Jurisdiction,
             answers={200: [Open311Service]})
    def open311_services(self, request, lang):
        self.read_query(request)
        return 200, [service(category, lang) for category in CATEGORIES]

    @open311("GET", "/services/<service_code>.<format>", "open311.service",
             "Open311: one service's definition", root="service_definition",
             query=Open311Jurisdiction, answers={200: Open311Definition})
    def open311_service(self, request, lang, service_code):
        self.read_query(request)
        if service_code not in BY_CODE:
            raise NotFound(text("Layanan tidak dikenal.", "Unknown service."), {
                "service_code": [text("Bukan kode kategori.", "Not a category code.")]})
        return 200, definition(service_code, lang)

    @open311("GET", "/requests.<format>", "open311.requests", "Open311: the public requests",
             root="service_requests", item="request", query=Open311Query,
             answers={200: [Open311Request]})
    def open311_requests(self, request, lang):
        query = self.read_query(request, Open311Query)
        cases = self.requests.public_cases(request_filters(query, utcnow()), lang=lang)
        return 200, [service_request(case, lang) for case in cases]

    @open311("GET", "/requests/<service_request_id>.<format>", "open311.request",
             "Open311: one public request", root="service_requests", item="request",
             query=Open311Jurisdiction, answers={200: [Open311Request]})
    def open311_request(self, request, lang, service_request_id):
        jurisdiction = self.read_query(request).get("jurisdiction_id")
        case = self.public_case(service_request_id, "service_request_id", lang)
        if jurisdiction is not None and case["regency"]["code"] != jurisdiction:
            raise no_such("service_request_id")
        return 200, [service_request(case, lang)]

    @open311("POST", "/requests.<format>", "open311.post", "Open311: a village reports",
             root="service_requests", item="request", body=Open311Form,
             answers={201: [Open311Posted]})
    def open311_post(self, request, lang, actor):
        """`actor`: the village of the form's `api_key` (Open311Endpoint.key_holder)."""
        posted, report = posted_report(filled(request.form.to_dict()))  # blank: not given
        regency = actor["scope"][:5]
        if posted.get("jurisdiction_id") not in (None, regency):
            raise ValidationFailed(text("Isian tidak sah.", "Invalid input."), {
                "jurisdiction_id": [text(f"Desa api_key ini di {regency}.",
                                         f"This api_key's village is in {regency}.")]})
        if posted.get("address_id") not in (None, actor["scope"]):
            raise ValidationFailed(text("Isian tidak sah.", "Invalid input."), {
                "address_id": [text("Hanya desa api_key ini.", "Only this api_key's village.")]})
        accepted = self.villages.submit_report(actor, report)
        return 201, [{"service_request_id": accepted["tracking_number"],
                      "token": accepted["case_id"], "account_id": None,
                      "service_notice": localize(NOTICE, lang)}]

    @open311("GET", "/tokens/<token>.<format>", "open311.token",
             "Open311: the request a token stands for", root="service_requests", item="request",
             query=Open311Jurisdiction, answers={200: [Open311Token]})
    def open311_token(self, request, lang, token):
        self.read_query(request)
        case = self.public_case(token, "token", lang)
        if case["id"] != token:  # a token is a case's id, never its tracking number
            raise no_such("token")
        return 200, [{"service_request_id": case["tracking_number"], "token": token}]


    def public_case(self, reference, field, lang):
        try:
            return self.requests.public_case(reference, lang=lang)
        except NotFound:
            raise no_such(field) from None


def no_such(field):
    """No public case by that reference (not yet opened, confidential, or none at all)."""
    return NotFound(text("Kasus tidak ditemukan.", "Case not found."), {field: [text(
        "Tidak ada kasus publik dengan rujukan ini (kasus baru muncul beberapa detik setelah "
        "dilaporkan).", "No public case by this reference (a new case appears a few seconds "
        "after it was reported).")]})


NOTICE = text("Laporan diterima; kecamatan meneruskannya ke instansi yang berwenang.",
              "Report received; the district passes it to the agency responsible.")
