"""The Musrenbang input of a district (the requests service's musrenbang.py: what its villages
raised in a year, grouped by kind of problem and ranked): as JSON, as CSV and as a printable
PDF for the Musrenbang kecamatan, the coordinator's proposals (usulan) with a note, and the
page `/musrenbang`. The requests service records each proposal and withdrawal
(`musrenbang_changes`).
"""
from fpdf import FPDF
from werkzeug.wrappers import Response

from services.gateway import schemas
from services.gateway.http import api, csv_response, filled, known_place, language, read_json
from services.gateway.pages import query_of
from services.gateway.web import field_errors, page, redirect, render
from shared import commands, policy
from shared.errors import NotFound, ValidationFailed
from shared.events import utcnow
from shared.i18n import localize, text
from shared.timezones import local_time, today

CSV_COLUMNS = ("rank", "category", "category_name", "cases", "villages", "affected_people",
               "median_days_unresolved", "recurring", "proposed", "note")

WORDS = {  # what the printed page says, in its language
    "title": text("Masukan Musrenbang Kecamatan {district}, tahun {year}",
                  "Input to the Musrenbang of {district} district, {year}"),
    "made": text("Dari laporan desa/kelurahan di Jembatan, dibuat {at}. Diurutkan menurut "
                 "jumlah laporan, warga terdampak, lama belum selesai dan berulang.",
                 "From the villages' reports in Jembatan, made {at}. Ranked by reports, people "
                 "affected, days unresolved and recurrence."),
    "columns": (text("No", "No"), text("Masalah", "Issue"), text("Laporan", "Reports"),
                text("Desa/kel.", "Villages"), text("Warga", "People"),
                text("Hari belum selesai", "Days unresolved"), text("Berulang", "Recurring"),
                text("Usulan", "Proposed")),
    "yes": text("Ya", "Yes"),
    "proposals": text("Usulan untuk forum", "Proposed to the forum"),
    "none_proposed": text("Belum ada usulan.", "Nothing proposed yet."),
    "villages": text("Daftar per desa/kelurahan", "Per village"),
    "nothing": text("Tidak ada laporan tahun ini.", "No reports this year."),
}


def csv_rows(found):
    for item in found["items"]:
        proposal = item["proposal"]
        yield (item["rank"], item["category"], item["category_name"], item["cases"],
               "; ".join(f"{v['name']} ({len(v['cases'])})" for v in item["villages"]),
               item["affected_people"], item["median_days_unresolved"], item["recurring"],
               "yes" if proposal else "no", proposal["note"] if proposal else "")


ENCODING = "windows-1252"  # the built-in PDF fonts' (Latin-1, and ’ “ ” – — …)


def latin(words):
    """Text the built-in PDF fonts can write: a character beyond them is written as '?'."""
    return str(words).encode(ENCODING, "replace").decode(ENCODING)


def number(value, lang):
    """3,5 in Bahasa Indonesia, 3.5 in English."""
    return str(value).replace(".", ",") if lang == "id" else str(value)


def write(pdf, height, words):
    """A paragraph, the next one below it."""
    pdf.multi_cell(0, height, words, new_x="LMARGIN", new_y="NEXT")


def printable(found, lang):
    """The printable page for the Musrenbang kecamatan (A4)."""
    def say(key, **values):
        return latin(localize(WORDS[key], lang).format(**values))

    district = found["district"]
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_title(say("title", district=district["name"], year=found["year"]))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    write(pdf, 7, say("title", district=district["name"], year=found["year"]))
    pdf.set_font("Helvetica", size=9)
    write(pdf, 5, latin(f"{district['regency']['name']}. ") + say(
        "made", at=local_time(utcnow(), district["code"])))
    pdf.ln(3)
    if not found["items"]:
        write(pdf, 6, say("nothing"))
        return bytes(pdf.output())
    with pdf.table(col_widths=(8, 52, 16, 18, 16, 24, 18, 18), text_align="LEFT",
                   line_height=5) as table:  # each village's cases: the list below
        table.row([latin(localize(words, lang)) for words in WORDS["columns"]])
        for item in found["items"]:
            table.row([str(item["rank"]), latin(item["category_name"]), str(item["cases"]),
                       str(len(item["villages"])), str(item["affected_people"]),
                       number(item["median_days_unresolved"], lang), str(item["recurring"]),
                       say("yes") if item["proposal"] else "-"])
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, say("proposals"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    proposed = [item for item in found["items"] if item["proposal"]]
    for item in proposed:
        write(pdf, 5, latin(f"{item['rank']}. {item['category_name']}: "
                                   f"{item['proposal']['note']} ({item['proposal']['by']})"))
    if not proposed:
        write(pdf, 5, say("none_proposed"))
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, say("villages"), new_x="LMARGIN", new_y="NEXT")
    for item in found["items"]:
        pdf.set_font("Helvetica", "B", 9)
        write(pdf, 5, latin(f"{item['rank']}. {item['category_name']}"))
        pdf.set_font("Helvetica", size=9)
        for village in item["villages"]:
            listed = "; ".join(f"{case['tracking_number']} {case['title']}"
                               for case in village["cases"])
            write(pdf, 5, latin(f"   {village['name']}: {listed}"))
    return bytes(pdf.output())


class MusrenbangEndpoints:
    """The GatewayService's Musrenbang input: read by the coordinator, the regency office
    and the admin; proposed by the coordinator of the district."""

    def musrenbang_of(self, actor, district, year, lang):
        found = self.requests.musrenbang(actor, district, year, lang=lang)  # 403/404/400 first
        place = known_place(self.villages, district, policy.COORDINATOR, NotFound(
            text("Kecamatan tidak ditemukan.", "No such district."),
            {"district": [text("Kode kecamatan tidak dikenal.", "Unknown district code.")]}))
        return {**found, "district": {"code": district, "name": place["name"],
                                      "regency": place["regency"]}}

    @api("GET", "/musrenbang/<district>/<int:year>", "musrenbang.read",
         "What a district's villages raised in a year, ranked, with the proposals",
         answers={200: schemas.MusrenbangOut})
    def musrenbang(self, request, actor, district, year):
        return self.musrenbang_of(actor, district, year, language(request))

    @api("GET", "/musrenbang/<district>/<int:year>.csv", "musrenbang.csv", "The same, as CSV",
         answers={200: schemas.CSV})
    def musrenbang_csv(self, request, actor, district, year):
        return self.musrenbang_file(actor, district, year, "csv", language(request))

    @api("GET", "/musrenbang/<district>/<int:year>.pdf", "musrenbang.pdf",
         "The same, as a printable page (PDF) for the Musrenbang kecamatan",
         answers={200: schemas.PDF})
    def musrenbang_pdf(self, request, actor, district, year):
        return self.musrenbang_file(actor, district, year, "pdf", language(request))

    def musrenbang_file(self, actor, district, year, kind, lang):
        """The CSV, or the PDF to print (shown in the browser, not only downloaded)."""
        found = self.musrenbang_of(actor, district, year, lang)
        name = f"musrenbang-{district}-{year}.{kind}"
        if kind == "csv":
            return csv_response(name, CSV_COLUMNS, csv_rows(found))
        return Response(printable(found, lang), content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{name}"'})

    @api("PUT", "/musrenbang/<district>/<int:year>/proposals/<category>", "musrenbang.propose",
         "Put an issue forward to the Musrenbang, with a note", body=commands.ProposalInput,
         answers={200: schemas.ProposalOut})
    def propose(self, request, actor, district, year, category):
        return self.put_forward(request, actor, district, year, category,
                                read_json(request, commands.ProposalInput))

    @api("DELETE", "/musrenbang/<district>/<int:year>/proposals/<category>",
         "musrenbang.withdraw", "Take an issue back from the Musrenbang",
         answers={204: None})
    def withdraw_proposal(self, request, actor, district, year, category):
        self.take_back(request, actor, district, year, category)
        return 204, None

    def put_forward(self, request, actor, district, year, category, body):
        return self.requests.propose(actor, district, year, category, body)

    def take_back(self, request, actor, district, year, category):
        self.requests.withdraw_proposal(actor, district, year, category)

    # -- the page ------------------------------------------------------------------------------

    @page("GET", "/musrenbang", operation="musrenbang.read")
    def musrenbang_page(self, request, actor):
        """A coordinator's own district by default; the regency office and the admin name
        one (`district`); this year by default (`year`)."""
        query = query_of(request, schemas.MusrenbangPageQuery)[0]
        district = query.get("district") or (
            actor["scope"] if actor["role"] == policy.COORDINATOR else "")
        year = query.get("year") or today(utcnow(), district or "35").year
        return self.show_musrenbang(request, actor, district, year)

    @page("GET", "/musrenbang/<district>/<int:year>.<any(pdf,csv):kind>",
          operation="musrenbang.{kind}")
    def musrenbang_file_page(self, request, actor, district, year, kind):
        return self.musrenbang_file(actor, district, year, kind, request.lang)

    def show_musrenbang(self, request, actor, district, year, errors=None, typed=None,
                        status=200):
        """The page; `errors` and `typed` (the note sent) of a refused form, by category."""
        found = self.musrenbang_of(actor, district, year, request.lang) if district else None
        return render(request, "musrenbang.html", status=status, found=found, year=year,
                      district=district, errors=errors or {}, typed=typed or {})

    @page("POST", "/musrenbang/<district>/<int:year>/<category>/<any(propose,withdraw):action>",
          operation="musrenbang.{action}")
    def musrenbang_form(self, request, actor, district, year, category, action):
        try:
            if action == "propose":
                self.put_forward(request, actor, district, year, category,
                                 filled({"note": request.form.get("note", "")}))
            else:
                self.take_back(request, actor, district, year, category)
        except (ValidationFailed, NotFound) as exc:
            return self.show_musrenbang(
                request, actor, district, year, errors={category: field_errors(exc)},
                typed={category: request.form.get("note", "")}, status=exc.status)
        return redirect(f"/musrenbang?district={district}&year={year}#{category}")
