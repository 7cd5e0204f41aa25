"""A regency-sized history in a requests database: a million cases, with their tasks and
timelines, as the requests service itself would have written them over a few years.

The history is simulated, one event at a time in the order they happen, by the service's own
rules: every case is opened, routed (by the routing rules of its regency: Kota Batu's demo
file, and every other regency's starter file, as `jembatan regency init` writes it), accepted
or declined and referred, worked on, completed, resolved, confirmed, reopened or closed
unanswered, escalated by the deadline watcher, cancelled, flagged as a likely duplicate and
merged, commented on — through `services/requests/domain.py` and `ladder.py`, the routing
service's `domain.py` for the rules, deadlines and explanations, and the timeline entries of
`handlers.timeline_entry`. Only what people decide (who answers when, who declines, which
village confirms) is drawn at random, from a seed. What is still open when the simulation
reaches the present stays open: routed, in progress, overdue, awaiting triage or the village's
answer. Photos, the outbox and the processed-event
marks are left out (the board reads none of them).

The places are the real wilayah data: every village of one province (Jawa Timur, 35, by
default), Kota Batu (35.79) among them with a larger share, so that the demo's actors (the
coordinator of Bumiaji, 35.79.02; the Kantor Walikota; the PDAM, pdam-batu) see tens of
thousands of cases.

The schema is the service's own (its Alembic migrations); rows go in with PostgreSQL's COPY in
batches, from `--workers` processes (each the history of some of the regencies), the indexes
built once at the end; then VACUUM ANALYZE. A database that already holds cases is left as it
is (a bench reuses it): `--fresh` starts it again.

Run:  .venv/bin/python -m bench.big_history [--database jembatan_bench_board]
          [--cases 1000000] [--province 35] [--batu-share 0.08] [--years 3] [--seed 1]
          [--workers 2] [--fresh]
      (on the PostgreSQL of JEMBATAN_TEST_POSTGRES_URL, postgres@127.0.0.1:5432 by default)
"""
# No `import jembatan` (eventlet's monkey patch) here: nothing talks to the broker, and the
# patched threads would stall the worker processes' pool.
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import argparse  # noqa: E402
import bisect
import csv
import functools
import heapq
import io
import itertools
import json
import multiprocessing
import random
import sys
import time
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import psycopg2.extensions
from sqlalchemy import create_engine, func, insert, select, text

from services.requests import board, domain, facts, handlers, ladder, views
from services.requests.models import Base, Case, Task, TimelineEntry
from services.routing import domain as routing
from services.routing import jurisdiction, starter
from services.villages import registry
from services.villages.domain import TRACKING_ALPHABET
from shared import events, workdays
from shared.categories import CODES as CATEGORY_CODES
from shared.db import Store
from shared.errors import Conflict
from shared.regions import village_kind
from tests.databases import POSTGRES_ADMIN_URL

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
BATU = "35.79"
COORDINATOR_ROLE = "coordinator"

# What villages report, how serious, and how often (shares of all cases).
CATEGORY_SHARES = {
    "air-bersih": 18, "jalan-jembatan": 20, "sampah-lingkungan": 11, "penerangan-jalan": 9,
    "banjir-bencana": 7, "kesehatan": 7, "adminduk": 8, "sosial": 6, "pendidikan": 4,
    "pertanian": 5, "keamanan-ketertiban": 3, "lainnya": 2,
}
SEVERITY_SHARES = {"low": 20, "medium": 50, "high": 25, "critical": 5}
CATEGORIES, CATEGORY_WEIGHTS = zip(*CATEGORY_SHARES.items())
SEVERITIES, SEVERITY_WEIGHTS = zip(*SEVERITY_SHARES.items())

# How people behave (shares, and times in hours unless named otherwise).
LATE = 0.03             # an agency answers or completes a task after its deadline
NEGLECTS = 0.005        # an agency never answers (half of those the coordinator takes back)
DECLINES = 0.04         # an agency declines its task ("not ours")
CONFIRMS = 0.62         # the village confirms a resolved case (else it reopens, or is silent)
REOPENS = 0.05          # the village reopens it (once)
CANCELS = 0.015         # a coordinator cancels a case
ESCALATES = 0.01        # a coordinator escalates a case by hand to the regency office
COMMENTS = 0.15         # a party comments on the case
REPEATS = 0.04          # the village reports the same problem again
MERGES = 0.75           # a coordinator merges a repeated report into the first
TRIAGES = 0.97          # a coordinator routes a case awaiting triage (else it waits on)

TITLES = {
    "air-bersih": ["Air tidak mengalir di Dusun {dusun}", "Pipa air bocor di Dusun {dusun}",
                   "Air keruh dan berbau di Dusun {dusun}"],
    "jalan-jembatan": ["Jalan berlubang di Dusun {dusun}", "Jembatan rusak di Dusun {dusun}",
                       "Longsor menutup jalan ke Dusun {dusun}"],
    "banjir-bencana": ["Banjir di Dusun {dusun}", "Tanah longsor di Dusun {dusun}",
                       "Pohon tumbang karena angin kencang di Dusun {dusun}"],
    "kesehatan": ["Warga Dusun {dusun} terserang diare", "Kasus demam berdarah di Dusun {dusun}",
                  "Posyandu Dusun {dusun} kekurangan obat"],
    "sampah-lingkungan": ["Sampah menumpuk di Dusun {dusun}", "Sungai tercemar di Dusun {dusun}"],
    "adminduk": ["Warga Dusun {dusun} belum menerima KTP",
                 "Akta kelahiran tertunda di Dusun {dusun}"],
    "penerangan-jalan": ["Lampu jalan mati di Dusun {dusun}", "Tiang lampu roboh di Dusun {dusun}"],
    "sosial": ["Lansia terlantar di Dusun {dusun}", "Bantuan sosial belum cair di Dusun {dusun}"],
    "pendidikan": ["Atap SD di Dusun {dusun} bocor", "Kekurangan guru di SD Dusun {dusun}"],
    "pertanian": ["Saluran irigasi Dusun {dusun} tersumbat",
                  "Serangan hama di sawah Dusun {dusun}"],
    "keamanan-ketertiban": ["Pedagang liar menutup jalan di Dusun {dusun}",
                            "Balap liar setiap malam di Dusun {dusun}"],
    "lainnya": ["Masalah warga Dusun {dusun} perlu ditangani", "Permintaan bantuan Dusun {dusun}"],
}
DUSUN = ["Krajan", "Sumbersari", "Karanglo", "Tegalrejo", "Sidomulyo", "Kebonsari", "Gondang",
         "Ngemplak", "Wonorejo", "Sukorejo", "Jeruk", "Banaran", "Kampung Baru", "Genengan"]
DESCRIPTIONS = ["Sudah {days} hari warga mengeluhkan masalah ini.",
                "Kejadian sejak {days} hari lalu, warga mohon segera ditangani.",
                "Laporan warga di rapat RT; sudah {days} hari belum ada perbaikan."]
ACCEPT_NOTES = [None, None, "Tim menuju lokasi.", "Kami jadwalkan survei besok.",
                "Diterima, petugas lapangan ditugaskan."]
PROGRESS_NOTES = ["Survei lokasi selesai, bahan sedang disiapkan.", "Perbaikan sedang dikerjakan.",
                  "Menunggu material dari gudang.", "Pekerjaan sudah berjalan separuh."]
COMPLETE_NOTES = ["Perbaikan selesai.", "Sudah ditangani, mohon dicek warga.",
                  "Pekerjaan selesai dan sudah diuji."]
DECLINE_REASONS = ["Bukan kewenangan kami.", "Lokasi di luar wilayah layanan kami.",
                   "Perlu ditangani instansi lain."]
REOPEN_REASONS = ["Masalah muncul lagi.", "Perbaikan belum tuntas.", "Warga masih mengeluh."]
CONFIRM_NOTES = [None, "Terima kasih, sudah beres.", "Warga sudah puas."]
COMMENT_BODIES = ["Mohon kabar perkembangannya.", "Warga menanyakan kapan diperbaiki.",
                  "Sudah kami cek di lapangan.", "Foto terbaru menyusul."]
CANCEL_REASONS = ["Laporan tidak lengkap.", "Sudah ditangani swadaya warga.",
                  "Bukan masalah pemerintah daerah."]
ESCALATE_REASONS = ["Perlu keputusan kantor bupati/walikota.", "Dampak meluas ke desa lain."]
MERGE_REASONS = ["Masalah yang sama.", "Laporan ganda."]
ROUTE_NOTES = ["Ditangani instansi ini.", "Sesuai tugas dan fungsinya."]


# -- rows as the service holds them ---------------------------------------------------------

CONFIDENTIAL_PERCENT = 1  # complaints about an official
CASE_COLUMNS = tuple(Case.__table__.columns.keys())
TASK_COLUMNS = tuple(Task.__table__.columns.keys())
TIMELINE_COLUMNS = tuple(c for c in TimelineEntry.__table__.columns.keys() if c != "seq")


class CaseRow:
    """A case as the requests service's domain reads and writes it (every column of `cases`)."""

    __slots__ = CASE_COLUMNS + ("tasks", "photos")


class TaskRow:
    __slots__ = TASK_COLUMNS


def timeline_entries(case, changes):
    """The timeline entries handlers.record writes for the facts (without the events: nobody
    listens to a history)."""
    return [handlers.timeline_entry(case, fact) for fact in changes]


# -- the places, agencies and rules ---------------------------------------------------------

def jurisdiction_of(code, demo):
    """Kota Batu's own agencies and rules (the demo's file); for another regency, its starter
    file (`jembatan regency init`)."""
    return demo if code == BATU else starter.starter(code)


class World:
    """Every village of the province with its district and regency, each regency's agencies
    and rules, and the people who act: each village's operator, each agency's officer, each
    district's coordinator."""

    def __init__(self, province="35", batu_share=0.08, regencies=None):
        regency_names = registry.names("regencies.csv")
        district_names = registry.names("districts.csv")
        regencies = sorted(regencies or [code for code in regency_names
                                         if code.startswith(f"{province}.")])
        if not regencies or any(code not in regency_names for code in regencies):
            raise SystemExit(f"no such regencies: province {province}, {regencies}")
        demo = json.loads(jurisdiction.DEMO_FILE.read_text(encoding="utf-8"))
        self.regencies, self.agencies, self.rules = {}, {}, {}
        self.lead_for = {}  # (regency, category) -> the agency a coordinator routes it to
        for code in regencies:
            name = registry.pretty_regency_name(regency_names[code])
            document = jurisdiction_of(code, demo)
            self.regencies[code] = {"code": code, "name": name}
            for agency in document["agencies"]:
                self.agencies[agency["id"]] = SimpleNamespace(  # a routing Agency, as it reads
                    id=agency["id"], name=agency["name"], short_name=agency["short_name"],
                    regency_code=code, regency_name=name, categories=agency["categories"])
            self.rules[code] = [SimpleNamespace(  # a routing Rule, as routing's domain reads it
                id=rule["id"], name=rule["name"], scope_code=rule["scope_code"],
                category=rule["category"], min_severity=rule.get("min_severity"),
                min_affected_people=rule.get("min_affected_people"), lead_agency_id=rule["lead"],
                support_agency_ids=rule["support"], fallback_agency_ids=rule.get("fallback", []),
                deadlines=rule.get("deadlines", {})) for rule in document["rules"]]
            for category in CATEGORY_CODES:
                serving = [a["id"] for a in document["agencies"] if category in a["categories"]]
                self.lead_for[code, category] = serving or [
                    a["id"] for a in document["agencies"]
                    if a["id"].startswith(("satpolpp-", "dinsos-", "pupr-"))]
        self.rules_by_category = {
            (code, category): [r for r in rules if r.category == category]
            for code, rules in self.rules.items() for category in CATEGORY_CODES}
        self.villages = []
        for row in registry.rows("villages.csv"):
            regency = row["code"][:5]
            if regency in self.regencies:
                district = row["district_code"]
                self.villages.append({
                    "village": {"code": row["code"], "name": row["name"]},
                    "district": {"code": district, "name": district_names[district]},
                    "regency": self.regencies[regency]})
        # Each village reports as often as any other, Kota Batu's as often as makes its share.
        batu = sum(v["regency"]["code"] == BATU for v in self.villages)
        others = len(self.villages) - batu
        batu_weight = (batu_share * others / (1 - batu_share) / batu) if batu and others else 1
        self.weights = [batu_weight if v["regency"]["code"] == BATU else 1 for v in self.villages]
        self.operators = {v["village"]["code"]: self.actor(
            "village", v["village"]["code"], v["regency"]["code"],
            f"Operator {village_kind(v['village']['code'])} {v['village']['name']}")
            for v in self.villages}
        self.coordinators = {v["district"]["code"]: self.actor(
            COORDINATOR_ROLE, v["district"]["code"], v["regency"]["code"],
            f"Koordinator Kecamatan {v['district']['name']}") for v in self.villages}
        self.officers = {agency.id: self.actor("agency", agency.id, agency.regency_code,
                                               f"Petugas {agency.short_name}")
                         for agency in self.agencies.values()}

    @staticmethod
    def actor(role, scope, regency, name):
        """An actor as the gateway hands it to a service; ids as stable as the gateway's."""
        return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"jembatan:{role}:{scope}")),
                "role": role, "name": name, "scope": scope, "regency": regency}

    def split(self, parts):
        """The regencies in `parts` groups of about the same number of reports: [(the share of
        the reports, the regencies)]."""
        per_regency = {}
        for place, weight in zip(self.villages, self.weights):
            code = place["regency"]["code"]
            per_regency[code] = per_regency.get(code, 0) + weight
        groups = [[0, []] for _ in range(parts)]
        for code in sorted(per_regency, key=per_regency.get, reverse=True):
            lightest = min(groups, key=lambda group: group[0])
            lightest[0] += per_regency[code]
            lightest[1].append(code)
        total = sum(per_regency.values())
        return [(weight / total, codes) for weight, codes in groups if codes]


# -- the simulation -------------------------------------------------------------------------

ROUTING = handlers.ROUTING


class Story:
    """A case being lived: its row, its timeline so far, the rule routing chose for it."""

    __slots__ = ("case", "timeline", "rule", "referred", "watch", "watching", "reopened", "done")

    def __init__(self, case):
        self.case = case
        self.timeline = []
        self.rule = None
        self.referred = []
        self.watch = 0        # the watcher's current appointment (older ones are void)
        self.watching = None  # what the clock looks at, when that appointment was made
        self.reopened = False
        self.done = False


class History:
    """Lives `cases` cases through, from `years` years ago to `end`; each finished case (and,
    at the end, each one still open) is handed to `write(case, timeline entries)`."""

    def __init__(self, world, cases, years, end, seed, write, record=timeline_entries,
                 regencies=None, part=(0, 1)):
        self.world, self.total, self.end, self.write = world, cases, end, write
        self.entries = record
        chosen = [(place, weight) for place, weight in zip(world.villages, world.weights)
                  if regencies is None or place["regency"]["code"] in regencies]
        self.places = [place for place, _weight in chosen]
        self.cumulative = list(itertools.accumulate(weight for _place, weight in chosen))
        # Tracking numbers of each part of a history made in parts start with letters of its own.
        number, parts = part
        self.first_letters = TRACKING_ALPHABET[number::parts]
        self.start = end - timedelta(days=365 * years)
        self.rng = random.Random(seed)
        self.queue = []           # (time, seq, action, story, args)
        self.seq = 0
        self.open_cases = {}      # (village, category) -> the open cases, oldest first
        self.tracking_numbers = set()
        self.agency_lateness = {a: self.rng.uniform(0.4, 2.2) for a in world.agencies}
        self.moments, self.next_moment = [], 0  # when villages report, and the next report

    # -- the clock

    def at(self, moment, action, story, *args):
        self.seq += 1
        heapq.heappush(self.queue, (moment, self.seq, action, story, args))

    def run(self):
        seconds = (self.end - self.start).total_seconds()
        # More reports lately: the number of villages using it grows over the years.
        self.moments = sorted(self.start + timedelta(seconds=seconds * self.rng.random() ** 0.8)
                              for _ in range(self.total))
        while self.next_moment < len(self.moments):
            moment = self.moments[self.next_moment]
            self.next_moment += 1
            if moment is not None:
                self.advance(moment)
                self.open_case(moment)
        self.advance(self.end)
        for story in [s for stories in self.open_cases.values() for s in stories]:
            self.finish(story)

    def advance(self, until):
        while self.queue and self.queue[0][0] <= until:
            moment, _seq, action, story, args = heapq.heappop(self.queue)
            if not story.done:
                action(story, moment, *args)

    # -- what happens, and what the service records of it

    def record(self, story, changes):
        """The facts, on the case's timeline (handlers.record); the case row changed (its
        version counts the transactions that changed it)."""
        if changes:
            story.timeline += self.entries(story.case, changes)
            story.case.version += 1
        if story.case.status in domain.FINAL_STATUSES:
            self.finish(story)
        else:
            self.rewatch(story)

    def finish(self, story):
        story.done = True
        case = story.case
        opened = self.open_cases.get((case.village_code, case.category), [])
        if story in opened:
            opened.remove(story)
        self.write(case, story.timeline)

    def rewatch(self, story):
        """The next time the deadline watcher has something to do to the case."""
        case, moments = story.case, []
        watching = (case.status, case.resolved_at, case.closing_warned_at,
                    [(ladder.current_deadline(task), task.ladder_step) for task in case.tasks])
        if watching == story.watching:
            return  # the appointment made stands
        story.watching = watching
        for task in case.tasks:
            if ladder.current_deadline(task) is not None and task.ladder_step < ladder.LAST_STEP:
                moments.append(ladder.step_due_at(case, task, task.ladder_step + 1))
        if case.status == domain.RESOLVED:
            if case.closing_warned_at is None:
                moments.append(workdays.due(case.resolved_at, ladder.WARNS_AFTER,
                                            case.village_code))
            moments.append(workdays.due(case.resolved_at, ladder.CLOSES_AFTER, case.village_code))
        if moments:
            story.watch += 1  # the watcher runs every 30 s
            self.at(min(moments) + timedelta(seconds=self.rng.uniform(1, 30)), self.watched,
                    story, story.watch)

    def watched(self, story, now, appointment):
        if appointment == story.watch:
            story.watching = None
            self.record(story, ladder.watch(story.case, now))

    def later(self, now, low_hours, high_hours):
        return now + timedelta(hours=self.rng.uniform(low_hours, high_hours))

    def new_id(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def tracking_number(self):
        while True:
            chars = self.rng.choice(self.first_letters) + "".join(
                self.rng.choices(TRACKING_ALPHABET, k=7))
            number = f"JBT-{chars[:4]}-{chars[4:]}"
            if number not in self.tracking_numbers:
                self.tracking_numbers.add(number)
                return number

    # -- a village reports

    def open_case(self, reported_at, place=None, category=None, repeat_of=None):
        """handlers.when_an_issue_is_reported_open_the_case, for a report made now."""
        rng = self.rng
        if place is None:
            place = self.places[bisect.bisect_left(self.cumulative,
                                                   rng.random() * self.cumulative[-1])]
            category = rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
        severity = rng.choices(SEVERITIES, SEVERITY_WEIGHTS)[0]
        village, district, regency = place["village"], place["district"], place["regency"]
        reporter = self.world.operators[village["code"]]
        title = rng.choice(TITLES[category]).format(dusun=rng.choice(DUSUN))
        if repeat_of is not None:
            title = f"Laporan ulang: {title}"
        now = reported_at + timedelta(milliseconds=rng.uniform(20, 400))
        case = CaseRow()
        located = rng.random() < 0.6
        values = {
            "id": self.new_id(), "tracking_number": self.tracking_number(),
            "status": domain.REPORTED, "category": category, "title": title,
            "description": rng.choice(DESCRIPTIONS).format(days=rng.randint(1, 14)),
            "severity": severity,
            "affected_people": rng.choice([None, rng.randint(1, 40), rng.randint(20, 2000)]),
            "lat": round(rng.uniform(-8.6, -6.8), 6) if located else None,
            "lon": round(rng.uniform(111.0, 114.5), 6) if located else None,
            "village_code": village["code"], "village_name": village["name"],
            "district_code": district["code"], "district_name": district["name"],
            "regency_code": regency["code"], "regency_name": regency["name"],
            "reporter_id": reporter["id"], "reporter_name": reporter["name"],
            "rule_id": None, "explanation": None, "created_at": reported_at, "updated_at": now,
            "escalation_level": 0, "resolved_at": None, "closing_warned_at": None,
            "likely_duplicate_of": None, "merged_into": None, "version": 1,
            "confidential": False,  # below, from the id: the draws of the mix stay as they were
            "next_deadline_at": None,  # written at the end, by board.refresh
            "tasks": [], "photos": []}
        values["confidential"] = zlib.crc32(values["id"].encode()) % 100 < CONFIDENTIAL_PERCENT
        for name, value in values.items():
            setattr(case, name, value)
        story = Story(case)
        story.timeline += self.entries(case, [domain.Fact(facts.REPORTED, reporter, {
            "village": case.village_name, "title": case.title, "category": case.category})])
        key = (case.village_code, case.category)
        opened = self.open_cases.setdefault(key, [])
        if opened:  # queries.likely_original: the newest open case of the village and category
            original = opened[-1].case
            story.timeline += self.entries(case, domain.flag_likely_duplicate(case, original))
            if repeat_of is not None and rng.random() < MERGES:
                self.at(self.later(now, 1, 48), self.coordinator_merges, story)
        opened.append(story)
        self.at(now + timedelta(milliseconds=rng.uniform(30, 600)), self.routing_decides, story)
        if repeat_of is None and rng.random() < REPEATS:
            self.at(self.later(now, 0.5, 48), self.village_reports_again, story)
        if rng.random() < CANCELS:
            self.at(self.later(now, 1, 240), self.coordinator_cancels, story)
        if rng.random() < ESCALATES:
            self.at(self.later(now, 24, 240), self.coordinator_escalates, story)
        if rng.random() < COMMENTS:
            self.at(self.later(now, 1, 168), self.someone_comments, story)

    def village_reports_again(self, story, now):
        case = story.case
        place = {"village": {"code": case.village_code, "name": case.village_name},
                 "district": {"code": case.district_code, "name": case.district_name},
                 "regency": {"code": case.regency_code, "name": case.regency_name}}
        # A report made again takes the place of a report to come, of any village.
        if self.next_moment < len(self.moments):
            taken = self.rng.randrange(self.next_moment, len(self.moments))
            if self.moments[taken] is not None:
                self.moments[taken] = None
                self.open_case(now, place, case.category, repeat_of=story)

    # -- routing

    def situation(self, case):
        return routing.Situation(
            village={"code": case.village_code, "name": case.village_name},
            district={"code": case.district_code, "name": case.district_name},
            regency={"code": case.regency_code, "name": case.regency_name},
            category=case.category, severity=case.severity, affected_people=case.affected_people)

    def routing_decides(self, story, now):
        """routing's decision for a new case (RoutingService._decide), applied by
        handlers.when_routing_decided_apply_it."""
        case = story.case
        situation = self.situation(case)
        rules = self.world.rules_by_category[case.regency_code, case.category]
        rule, matching = routing.choose_rule(rules, situation)
        decided = now + timedelta(milliseconds=self.rng.uniform(20, 300))
        if rule is None:
            explanation = routing.explain(None, matching, situation, None, [])
            self.record(story, domain.needs_triage(case, explanation, decided))
            self.triage_later(story, decided)
            return
        story.rule = rule
        agencies = self.world.agencies
        lead = agencies[rule.lead_agency_id]
        supports = [agencies[a] for a in rule.support_agency_ids]
        planned = routing.plan_tasks(lead, supports, now,
                                     routing.deadlines_for(case.severity, rule), case.village_code)
        explanation = routing.explain(rule, matching, situation, lead, supports)
        self.route(story, decided, planned, ROUTING, rule_id=rule.id, explanation=explanation)

    def route(self, story, now, planned, actor, **how):
        case = story.case
        before = {task.id for task in case.tasks}
        tasks = [{**p, "accept_due_at": parse(p["accept_due_at"]), "due_at": parse(p["due_at"])}
                 for p in planned]
        self.record(story, domain.route(case, tasks, actor, now,
                                        functools.partial(self.new_task, case), **how))
        for task in case.tasks:
            if task.id not in before:
                self.agency_answers_later(story, now, task)

    def new_task(self, case, **fields):
        """handlers.task_factory, for the stand-in rows."""
        task = TaskRow()
        for name in TASK_COLUMNS:
            setattr(task, name, None)
        task.id, task.case_id, task.ladder_step = self.new_id(), case.id, 0
        for name, value in fields.items():
            setattr(task, name, value)
        return task

    def refer(self, story, now, declined, reason):
        """routing's referral after a decline (RoutingService._refer), applied by the handler."""
        case, rule = story.case, story.rule
        on_case = [views.task_ref(task) for task in case.tasks]
        candidate = routing.next_fallback(rule, declined.role, on_case, story.referred)
        story.referred.append(candidate)
        if candidate is None:
            return
        agency = self.world.agencies[candidate]
        planned = routing.plan_tasks(agency, [], now,
                                     routing.deadlines_for(case.severity, rule), case.village_code)
        planned[0]["role"] = declined.role
        explanation = routing.explain_referral(
            declined.agency_name, reason, rule, agency,
            promoted=any(t["agency_id"] == candidate for t in on_case))
        if not domain.referral_still_needed(case, planned):
            return
        try:
            self.route(story, now, planned, ROUTING, rule_id=rule.id, explanation=explanation)
        except Conflict:
            return

    # -- the agencies

    def agency_answers_later(self, story, now, task):
        if self.rng.random() < NEGLECTS:  # the watcher escalates it, step by step
            if self.rng.random() < 0.5:
                self.at(self.later(now, 7 * 24, 42 * 24), self.coordinator_withdraws, story, task)
            return
        late = self.rng.random() < LATE * self.agency_lateness[task.agency_id]
        window = max(task.accept_due_at - now, HOUR)
        share = self.rng.uniform(1.02, 1.5) if late else self.rng.uniform(0.02, 0.95)
        self.at(now + window * share, self.agency_answers, story, task)

    def agency_answers(self, story, now, task):
        case = story.case
        if task.status != domain.PENDING or case.status in domain.FINAL_STATUSES:
            return
        officer = views.actor_ref(self.world.officers[task.agency_id])
        if self.rng.random() < DECLINES:
            reason = self.rng.choice(DECLINE_REASONS)
            self.record(story, domain.decline_task(case, task, officer, now, reason))
            if story.rule is not None:
                self.refer(story, now + timedelta(milliseconds=self.rng.uniform(50, 800)),
                           task, reason)
            if case.status == domain.NEEDS_TRIAGE and not story.done:
                self.triage_later(story, now)
            return
        self.record(story, domain.accept_task(case, task, officer, now,
                                              self.rng.choice(ACCEPT_NOTES)))
        late = self.rng.random() < LATE * self.agency_lateness[task.agency_id]
        window = max(task.due_at - now, 2 * HOUR) if task.due_at else 3 * DAY
        done = now + window * (self.rng.uniform(1.02, 1.5) if late else self.rng.uniform(0.1, 0.95))
        for _ in range(self.rng.choice((0, 0, 1, 1, 2))):
            self.at(now + (done - now) * self.rng.uniform(0.1, 0.9), self.agency_progresses,
                    story, task)
        self.at(done, self.agency_completes, story, task)

    def agency_progresses(self, story, now, task):
        if task.status == domain.ACCEPTED and story.case.status not in domain.FINAL_STATUSES:
            officer = views.actor_ref(self.world.officers[task.agency_id])
            self.record(story, domain.report_progress(story.case, task, officer, now,
                                                      self.rng.choice(PROGRESS_NOTES)))

    def agency_completes(self, story, now, task):
        case = story.case
        if task.status != domain.ACCEPTED or case.status in domain.FINAL_STATUSES:
            return
        officer = views.actor_ref(self.world.officers[task.agency_id])
        self.record(story, domain.complete_task(case, task, officer, now,
                                                self.rng.choice(COMPLETE_NOTES)))
        if case.status == domain.RESOLVED:
            self.village_answers_later(story, now)

    # -- the village

    def village_answers_later(self, story, now):
        draw = self.rng.random()
        if draw < REOPENS and not story.reopened:
            self.at(self.later(now, 2, 96), self.village_reopens, story)
        elif draw < REOPENS + CONFIRMS:
            self.at(self.later(now, 1, 120), self.village_confirms, story)
        # else the village stays silent: the watcher warns it, then closes the case

    def village_confirms(self, story, now):
        case = story.case
        if case.status == domain.RESOLVED:
            village = views.actor_ref(self.world.operators[case.village_code])
            self.record(story, domain.confirm(case, village, now, self.rng.choice(CONFIRM_NOTES)))

    def village_reopens(self, story, now):
        case = story.case
        if case.status != domain.RESOLVED:
            return
        story.reopened = True
        village = views.actor_ref(self.world.operators[case.village_code])
        given_back = [task for task in case.tasks if task.status == domain.COMPLETED]
        self.record(story, domain.reopen(
            case, village, now, self.rng.choice(REOPEN_REASONS),
            lambda task: ladder.restart_deadlines(task, now, case.village_code)))
        for task in given_back:
            self.agency_answers_later(story, now, task)

    # -- the coordinator, and anyone

    def coordinator(self, case):
        return views.actor_ref(self.world.coordinators[case.district_code])

    def triage_later(self, story, now):
        if self.rng.random() < TRIAGES:
            self.at(self.later(now, 1, 72), self.coordinator_routes, story)

    def coordinator_withdraws(self, story, now, task):
        """commands.supervise_task: a task its agency never answered, taken back; a lead
        taken back leaves the case in triage, for the coordinator to route again."""
        case = story.case
        if task.status == domain.PENDING and case.status not in domain.FINAL_STATUSES:
            self.record(story, domain.withdraw_task(case, task, self.coordinator(case), now,
                                                    "Tidak ada tanggapan dari instansi."))
            if case.status == domain.NEEDS_TRIAGE and not story.done:
                self.triage_later(story, now)

    def coordinator_routes(self, story, now):
        """A case in triage routed by hand (routing's plan_manual_route, commands.route) to an
        agency that serves its category and has not declined it."""
        case = story.case
        if case.status != domain.NEEDS_TRIAGE:
            return
        tried = {task.agency_id for task in case.tasks}
        choices = [a for a in self.world.lead_for[case.regency_code, case.category]
                   if a not in tried] or [
            a for a, agency in self.world.agencies.items()
            if agency.regency_code == case.regency_code and a not in tried]
        if not choices:
            return  # nobody left: it waits in triage
        lead = self.world.agencies[self.rng.choice(choices)]
        actor = self.coordinator(case)
        note = self.rng.choice(ROUTE_NOTES)
        planned = routing.plan_tasks(lead, [], now, routing.deadlines_for(case.severity),
                                     case.village_code)
        self.route(story, now, planned, actor, rule_id=None, note=note,
                   explanation=routing.explain_manual(actor["name"], note, lead, []))

    def coordinator_cancels(self, story, now):
        case = story.case
        if case.status not in domain.FINAL_STATUSES:
            self.record(story, domain.cancel(case, self.coordinator(case), now,
                                             self.rng.choice(CANCEL_REASONS)))

    def coordinator_escalates(self, story, now):
        case = story.case
        if case.status not in domain.FINAL_STATUSES and case.escalation_level < ladder.REGENCY:
            self.record(story, ladder.escalate_by_hand(case, self.coordinator(case), now,
                                                       self.rng.choice(ESCALATE_REASONS)))

    def coordinator_merges(self, story, now):
        """commands.merge: the repeated report into the case it was flagged as likely the same
        as, while both are open."""
        case = story.case
        target = next((s for s in self.open_cases.get((case.village_code, case.category), [])
                       if s.case.id == case.likely_duplicate_of), None)
        if target is None or case.status in domain.FINAL_STATUSES:
            return
        into, merged_from = domain.merge(case, target.case, self.coordinator(case), now,
                                         self.rng.choice(MERGE_REASONS))
        self.record(story, into)
        self.record(target, merged_from)

    def someone_comments(self, story, now):
        case = story.case
        if case.status in domain.FINAL_STATUSES:
            return
        leads = [t for t in domain.working_tasks(case) if t.role == "lead"]
        who = self.rng.random()
        if who < 0.5:
            actor = self.world.operators[case.village_code]
        elif who < 0.75 or not leads:
            actor = self.world.coordinators[case.district_code]
        else:
            actor = self.world.officers[leads[0].agency_id]
        self.record(story, domain.comment(case, views.actor_ref(actor), now,
                                          self.rng.choice(COMMENT_BODIES), self.new_id()))


def parse(moment):
    """An ISO time as an event carries it, as the consumer loads it."""
    return datetime.fromisoformat(moment)


# -- writing the rows -----------------------------------------------------------------------

def stored(value):
    """A value as the service's column types store it: naive UTC times (shared.db.UTCDateTime),
    JSON as text."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


class Rows:
    """The rows of finished cases, gathered until a batch is full, then written."""

    def __init__(self, flush, batch=20000):
        self.flush, self.batch = flush, batch
        self.cases, self.tasks, self.timeline = [], [], []
        self.counts = {"cases": 0, "tasks": 0, "timeline": 0}

    def __call__(self, case, entries):
        self.cases.append({c: getattr(case, c) for c in CASE_COLUMNS})
        self.tasks += [{c: getattr(t, c) for c in TASK_COLUMNS} for t in case.tasks]
        self.timeline += entries
        if len(self.cases) >= self.batch:
            self.done()

    def done(self):
        if self.cases:
            self.flush(self.cases, self.tasks, self.timeline)
            for name in self.counts:
                self.counts[name] += len(getattr(self, name))
        self.cases, self.tasks, self.timeline = [], [], []


def copy_rows(connection):
    """Write a batch with PostgreSQL's COPY (CSV), in one transaction."""
    def flush(cases, tasks, timeline):
        # COPY refuses eventlet's green wait (a test session has it): this blocks meanwhile.
        green = psycopg2.extensions.get_wait_callback()
        psycopg2.extensions.set_wait_callback(None)
        try:
            copy(cases, tasks, timeline)
        finally:
            psycopg2.extensions.set_wait_callback(green)

    def copy(cases, tasks, timeline):
        with connection.cursor() as cursor:
            for table, columns, rows in (("cases", CASE_COLUMNS, cases),
                                         ("tasks", TASK_COLUMNS, tasks),
                                         ("timeline", TIMELINE_COLUMNS, timeline)):
                buffer = io.StringIO()
                # Every value but a number is quoted, None as "": NULL in the columns that may
                # hold one (the history writes no empty text).
                writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
                writer.writerows([stored(row[c]) for c in columns] for row in rows)
                buffer.seek(0)
                nullable = ", ".join(c.name for c in Base.metadata.tables[table].columns
                                     if c.nullable and c.name in columns)
                force_null = f", FORCE_NULL ({nullable})" if nullable else ""
                cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH "
                                   f"(FORMAT csv{force_null})", buffer)
        connection.commit()
    return flush


def insert_rows(store):
    """Write a batch with plain INSERTs (SQLite, for tests)."""
    def flush(cases, tasks, timeline):
        with store.engine.begin() as connection:
            for table, rows in (("cases", cases), ("tasks", tasks), ("timeline", timeline)):
                if rows:
                    connection.execute(insert(Base.metadata.tables[table]), rows)
    return flush


# The tables the history fills. Their secondary indexes and foreign keys are set aside while
# it does (COPY into bare tables, then one CREATE INDEX and one check of each key, is several
# times faster than keeping them up to date row by row), and put back as they were.
TABLES = ("cases", "tasks", "timeline", "agency_cases")


def set_aside(connection):
    """Drop the filled tables' secondary indexes and foreign keys; returns the statements that
    make them again."""
    tables = {"tables": list(TABLES)}
    indexes = connection.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = 'public' "
        "AND tablename = ANY(:tables) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conname = i.indexname)"), tables).all()
    keys = connection.execute(text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid::regclass::text = ANY(:tables)"), tables).all()
    for table, name, _definition in keys:
        connection.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _definition in indexes:
        connection.execute(text(f'DROP INDEX "{name}"'))
    return ([definition for _name, definition in indexes]
            + [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
               for table, name, definition in keys])


def fill(store, cases, province="35", batu_share=0.08, regencies=None, years=3, seed=1,
         end=None, workers=2, progress=None):
    """Fill the empty, migrated database of a requests `store` with `cases` cases; returns
    how many rows each table got.

    On PostgreSQL: `workers` processes, each living the history of its own regencies and
    writing it with COPY, indexes and keys set aside meanwhile; then VACUUM ANALYZE. Elsewhere
    (SQLite, for tests): in this process, with INSERTs."""
    world = World(province, batu_share, regencies)
    end = end or events.utcnow()
    say = progress or (lambda _line: None)
    if store.engine.dialect.name != "postgresql":
        rows = Rows(insert_rows(store))
        History(world, cases, years, end, seed, rows, regencies=regencies).run()
        rows.done()
        with store.engine.begin() as connection:
            board.refresh(connection)
        return rows.counts
    # An engine of its own: the service's statement timeout (15 s) would stop an index build.
    url = store.engine.url.render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            put_back = set_aside(connection)
        parts = [(url, (province, batu_share, regencies), codes, round(cases * share), years,
                  end, seed, (number, workers), progress is not None)
                 for number, (share, codes) in enumerate(world.split(workers))]
        if len(parts) == 1:
            counted = [fill_part(*parts[0])]
        else:
            with multiprocessing.get_context("spawn").Pool(len(parts)) as pool:
                counted = pool.starmap(fill_part, parts)
        # What the service keeps in step with the cases and tasks as it writes them (the next
        # deadlines, the agencies' rows), by its own rule, at once for every case.
        say("board.refresh: next deadlines, agency_cases")
        with engine.begin() as connection:
            board.refresh(connection)
        with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text("SET maintenance_work_mem = '512MB'"))
            for statement in put_back:
                say(statement)
                connection.execute(text(statement))
            say("VACUUM ANALYZE")
            for table in TABLES:
                connection.execute(text(f"VACUUM ANALYZE {table}"))
    finally:
        engine.dispose()
    return {table: sum(counts[table] for counts in counted) for table in counted[0]}


def fill_part(url, world_options, regencies, cases, years, end, seed, part, verbose):
    """One part of `fill`: the history of some regencies, written with COPY."""
    world = World(*world_options)
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        rows = Rows(copy_rows(raw.driver_connection))
        if verbose:
            rows.flush = reporting(rows.flush, part)
        History(world, cases, years, end, seed + 7919 * part[0], rows, regencies=regencies,
                part=part).run()
        rows.done()
    finally:
        raw.close()
        engine.dispose()
    return rows.counts


def reporting(flush, part):
    started, written = time.monotonic(), [0]

    def flush_and_say(cases, tasks, timeline):
        flush(cases, tasks, timeline)
        written[0] += len(cases)
        print(f"  part {part[0] + 1}/{part[1]}: {written[0]:>9,} cases written "
              f"({time.monotonic() - started:4.0f} s)", flush=True)
    return flush_and_say


# -- the database ---------------------------------------------------------------------------

def server_url(database):
    """The URL of a database on the PostgreSQL of the tests (JEMBATAN_TEST_POSTGRES_URL)."""
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("+psycopg2", "") + f"/{database}"


def prepare(database, fresh=False):
    """Create the database when it is not there (again, with `fresh`); its URL."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if fresh:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            there = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                      {"name": database})
            if not there:
                connection.execute(text(f'CREATE DATABASE "{database}"'))
    finally:
        admin.dispose()
    return server_url(database)


def ensure(database, cases, fresh=False, say=print, **options):
    """A requests database named `database` holding a history (made of `cases` cases if it
    holds none yet); its URL."""
    url = prepare(database, fresh)
    store = Store("requests", Base.metadata, url=url)
    try:
        store.migrate()
        with store.engine.connect() as connection:
            held = connection.scalar(select(func.count()).select_from(Case))
        if held:
            say(f"{database}: already holds {held:,} cases (--fresh to make it again)")
            return url
        say(f"{database}: making a history of {cases:,} cases")
        started = time.monotonic()
        counts = fill(store, cases, progress=say, **options)
        say(f"{database}: {counts['cases']:,} cases, {counts['tasks']:,} tasks, "
            f"{counts['timeline']:,} timeline entries in {time.monotonic() - started:.0f} s")
    finally:
        store.close()
    return url


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="jembatan_bench_board")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--province", default="35")
    parser.add_argument("--batu-share", type=float, default=0.08)
    parser.add_argument("--years", type=float, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="processes living the history")
    parser.add_argument("--fresh", action="store_true", help="drop the database and start again")
    args = parser.parse_args()
    print(f"command: {' '.join([sys.executable, '-m', 'bench.big_history'] + sys.argv[1:])}")
    ensure(args.database, args.cases, fresh=args.fresh, province=args.province,
           batu_share=args.batu_share, years=args.years, seed=args.seed, workers=args.workers)


if __name__ == "__main__":
    main()
