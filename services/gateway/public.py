"""What anyone may read without signing in: an area's record month by month and its public
cases, as JSON and CSV (open data, with its licence), and the page that shows them
(`/publik/{area}`).

An area is a regency (35.79) or a district (35.79.02). Only public cases count: never a
confidential one (the requests service's domain.is_public); no person's name, and of a case
only where it is, what kind and how far it got, never its title or description.
"""
from services.gateway import schemas
from services.gateway.http import (
    ANY_ORIGIN, api, csv_response, known_place, language, read_query,
)
from services.gateway.web import page, render, shown_time
from shared import policy
from shared.categories import category_name
from shared.errors import NotFound
from shared.i18n import localize, text
from shared.regions import area_level

LICENCE = {
    "name": "Open Database License (ODbL) 1.0",
    "url": "https://opendatacommons.org/licenses/odbl/1-0/",
    "attribution": text(
        "Jembatan, dari laporan desa/kelurahan dan jawaban instansi; kode dan nama wilayah: "
        "Kemendagri, melalui idn-area-data (ODbL 1.0).",
        "Jembatan, from the villages' reports and the agencies' answers; area codes and "
        "names: Kemendagri, through idn-area-data (ODbL 1.0)."),
}
LICENCE_LINK = {"Link": f'<{LICENCE["url"]}>; rel="license"'}
MOST_CSV_CASES = 10_000
RECORD_COLUMNS = ("month", "breakdown", "code", "name", "received", "resolved", "overdue",
                  "median_days_to_resolve", "licence")
LICENCE_CELL = f'{LICENCE["name"]}, {LICENCE["url"]}'  # a saved file keeps its licence
CASE_COLUMNS = ("tracking_number", "status", "open", "category", "village_code", "village",
                "district_code", "district", "regency_code", "regency", "agency", "reported_at",
                "updated_at", "expected_at", "licence")


def listing(case):
    """A public case (views.public_case) as the public list shows it: status only."""
    return {key: case[key] for key in (
        "tracking_number", "status", "status_label", "open", "category", "village",
        "district", "regency", "agency", "created_at", "updated_at", "expected_at")}


def open_data(filename, header, rows):
    """A CSV file of open data: its licence, readable from any site."""
    return csv_response(filename, header, rows, {**LICENCE_LINK, **ANY_ORIGIN})


def record_rows(record, lang):
    """The lines of a record (as `public_record` answers it) for its CSV: each month's, then
    the whole period's (its month: "first..last")."""
    period = f'{record["months"][0]}..{record["months"][-1]}'
    for line in record["total"]:
        yield (line["month"], "total", record["area"]["code"], record["area"]["name"],
               *counts(line))
    for month, key in ((None, "by_category"), (period, "categories")):
        for line in record[key]:
            yield (month or line["month"], "category", line["category"],
                   category_name(line["category"], lang), *counts(line))
    for month, key in ((None, "by_agency"), (period, "agencies")):
        for line in record[key]:
            yield (month or line["month"], "agency", line["agency"]["id"],
                   line["agency"]["name"], *counts(line))


def counts(line):
    return (line["received"], line["resolved"], line["overdue"],
            "" if line["median_days_to_resolve"] is None else line["median_days_to_resolve"],
            LICENCE_CELL)


def case_row(case):
    return (case["tracking_number"], case["status"], case["open"], case["category"],
            case["village"]["code"], case["village"]["name"], case["district"]["code"],
            case["district"]["name"], case["regency"]["code"], case["regency"]["name"],
            case["agency"]["name"] if case["agency"] else "", case["created_at"],
            case["updated_at"], case["expected_at"] or "", LICENCE_CELL)


class PublicEndpoints:
    """The GatewayService's public record: no token needed (shared/policy.py: PUBLIC)."""

    def public_area(self, code):
        """{code, name, level} of a regency or district of the registry, else 404."""
        level = area_level(code)
        no_such_area = NotFound(text("Wilayah tidak ditemukan.", "No such area."), {"area": [
            text("Kode kabupaten/kota atau kecamatan.", "A regency's or a district's code.")]})
        if level is None:
            raise no_such_area
        place = known_place(self.villages, code, policy.REGENCY if level == "regency"
                            else policy.COORDINATOR, no_such_area)
        name = place["regency"]["name"] if level == "regency" else place["name"]  # "Kota Batu"
        return {"code": place["code"], "name": name, "level": level, "regency": place["regency"]}

    def record_of(self, code, months, lang):
        area = self.public_area(code)
        record = self.requests.public_record(code, months)
        for line in record["by_category"] + record["categories"]:
            line["category_name"] = category_name(line["category"], lang)
        return {"area": area, **record,
                "licence": {**LICENCE, "attribution": localize(LICENCE["attribution"], lang)}}

    @api("GET", "/public/areas/<area>/record", "public.record",
         "An area's public record, month by month", query=schemas.PublicRecordQuery,
         answers={200: schemas.PublicRecord})
    def public_record(self, request, actor, area):
        months = read_query(request, schemas.PublicRecordQuery)["months"]
        return 200, self.record_of(area, months, language(request)), ANY_ORIGIN

    @api("GET", "/public/areas/<area>/record.csv", "public.record_csv",
         "The same, as CSV", query=schemas.PublicRecordQuery, answers={200: schemas.CSV})
    def public_record_csv(self, request, actor, area):
        months = read_query(request, schemas.PublicRecordQuery)["months"]
        lang = language(request)
        record = self.record_of(area, months, lang)
        return open_data(f"jembatan-{area}-record.csv", RECORD_COLUMNS,
                          record_rows(record, lang))

    @api("GET", "/public/areas/<area>/cases", "public.cases",
         "An area's public cases, newest first: status only", query=schemas.Page,
         answers={200: schemas.PublicCaseList})
    def public_cases(self, request, actor, area):
        page = read_query(request, schemas.Page)
        self.public_area(area)
        found = self.requests.public_case_page(area, page, lang=language(request))
        return 200, {**found, "items": [listing(case) for case in found["items"]]}, ANY_ORIGIN

    @api("GET", "/public/areas/<area>/cases.csv", "public.cases_csv",
         f"The same, as CSV: the newest {MOST_CSV_CASES:,}", answers={200: schemas.CSV})
    def public_cases_csv(self, request, actor, area):
        self.public_area(area)
        cases = self.requests.public_cases({"area": area, "limit": MOST_CSV_CASES},
                                           lang=language(request))
        return open_data(f"jembatan-{area}-cases.csv", CASE_COLUMNS, map(case_row, cases))

    @page("GET", "/publik", public=True)
    def public_index_page(self, request, actor):
        return render(request, "public_index.html", regencies=self.requests.public_regencies())

    @page("GET", "/publik/<area>", public=True)
    def public_page(self, request, actor, area):
        months = read_query(request, schemas.PublicRecordQuery)["months"]
        record = self.record_of(area, months, request.lang)
        cases = self.requests.public_case_page(area, read_query(request, schemas.Page),
                                               lang=request.lang)
        return render(request, "public.html", record=record, months=months, shown=shown_time,
                      cases={**cases, "items": [listing(case) for case in cases["items"]]})
