"""How a case finds its agencies: the routing rules and their explanation, in plain Python.

A rule covers a scope (a regency, a district or a village code), one category, and optionally
conditions (a minimum severity, a minimum number of affected people). Among the rules that
apply to a report, the most specific wins: the narrowest scope first, then the rule with more
conditions, then the stricter conditions. The explanation says so in words a coordinator uses.
"""
from dataclasses import dataclass

from shared import workdays
from shared.categories import category_name
from shared.events import SEVERITIES, iso
from shared.i18n import text
from shared.policy import ENDED_TASK_STATUSES
from shared.regions import village_kind

SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}
SEVERITY_NAMES = {
    "low": text("rendah", "low"), "medium": text("sedang", "medium"),
    "high": text("tinggi", "high"), "critical": text("kritis", "critical"),
}
SCOPE_LEVELS = {1: "province", 2: "regency", 3: "district", 4: "village"}
SCOPE_NAMES = {
    "province": text("provinsi", "province"), "regency": text("kabupaten/kota", "regency"),
    "district": text("kecamatan", "district"), "village": text("desa/kelurahan", "village"),
}
# How long an agency has to accept, and to resolve, by severity (SP4N-LAPOR's 3 and 5
# working days for an ordinary report; hours on the clock when lives or health are at stake).
# A rule may override any of them.
DEFAULT_DEADLINES = {
    "low": {"accept": "3wd", "resolve": "10wd"},
    "medium": {"accept": "3wd", "resolve": "5wd"},
    "high": {"accept": "1wd", "resolve": "3wd"},
    "critical": {"accept": "2h", "resolve": "24h"},
}


@dataclass(frozen=True)
class Situation:
    """What routing knows of a report: where it is and what it is."""

    village: dict     # {code, name}
    district: dict
    regency: dict
    category: str
    severity: str
    affected_people: int | None = None

    def place(self, code):
        """The {code, name} of one of the report's areas."""
        for area in (self.village, self.district, self.regency):
            if area["code"] == code:
                return area
        return {"code": code, "name": code}

    @property
    def codes(self):
        return (self.village["code"], self.district["code"], self.regency["code"],
                self.regency["code"].split(".")[0])


def scope_level(code):
    """'province', 'regency', 'district' or 'village', by the number of code segments."""
    return SCOPE_LEVELS.get(len(code.split(".")))


def applies(rule, situation):
    """Whether a rule covers this report: its place, its category, and its conditions."""
    if rule.scope_code not in situation.codes or rule.category != situation.category:
        return False
    if rule.min_severity and SEVERITY_RANK[situation.severity] < SEVERITY_RANK[rule.min_severity]:
        return False
    if rule.min_affected_people is not None and (
            situation.affected_people is None
            or situation.affected_people < rule.min_affected_people):
        return False
    return True


def conditions(rule):
    return [c for c in (rule.min_severity, rule.min_affected_people) if c is not None]


def specificity(rule):
    """Sort key: narrower scope, then more conditions, then stricter ones; the id breaks ties."""
    return (len(rule.scope_code.split(".")), len(conditions(rule)),
            SEVERITY_RANK.get(rule.min_severity, -1), rule.min_affected_people or 0)


def choose_rule(rules, situation):
    """The most specific rule that applies, and every rule that applied (most specific first).

    Between equally specific rules the lowest id wins, so the choice never depends on order.
    """
    matching = sorted((r for r in rules if applies(r, situation)), key=lambda r: r.id)
    matching.sort(key=specificity, reverse=True)  # stable: equal specificity keeps id order
    return (matching[0] if matching else None), matching


def deadlines_for(severity, rule=None):
    """{"accept": spec, "resolve": spec} of a case: the rule's own for its severity, if any."""
    own = (rule.deadlines or {}).get(severity, {}) if rule is not None else {}
    return {**DEFAULT_DEADLINES[severity], **own}


def plan_tasks(lead, supports, now, deadlines, area_code):
    """The tasks of a decision: the lead agency, then the supporting ones, with deadlines
    counted in working days (or hours) where the case is."""
    accept_due = iso(workdays.due(now, deadlines["accept"], area_code))
    resolve_due = iso(workdays.due(now, deadlines["resolve"], area_code))

    def task(agency, role):
        return {"agency_id": agency.id, "agency_name": agency.name, "role": role,
                "accept_due_at": accept_due, "due_at": resolve_due,
                "accept_within": deadlines["accept"], "resolve_within": deadlines["resolve"]}

    return ([task(lead, "lead")] if lead else []) + [task(a, "support") for a in supports]


def _describe_rule(rule, situation, lang):
    level = scope_level(rule.scope_code)
    place = situation.place(rule.scope_code)["name"]
    # A regency's name says what it is already ("Kota Batu", "Kabupaten Malang").
    parts = [place if level == "regency" else f"{SCOPE_NAMES[level][lang]} {place}",
             (f"kategori {category_name(rule.category, 'id')}" if lang == "id"
              else f"category {category_name(rule.category, 'en')}")]
    if rule.min_severity:
        severity = SEVERITY_NAMES[rule.min_severity][lang]
        parts.append(f"keparahan minimal {severity}" if lang == "id" else f"severity {severity} or more")
    if rule.min_affected_people is not None:
        parts.append(f"minimal {rule.min_affected_people} warga terdampak" if lang == "id"
                     else f"at least {rule.min_affected_people} people affected")
    return ", ".join(parts)


def _describe_report(situation, lang):
    severity = SEVERITY_NAMES[situation.severity][lang]
    people = situation.affected_people
    if lang == "id":
        line = f"keparahan {severity}"
        return line + (f", {people} warga terdampak" if people is not None else "")
    line = f"severity {severity}"
    return line + (f", {people} people affected" if people is not None else "")


def explain(rule, matching, situation, lead, supports):
    """Why this decision, in both languages, in a coordinator's words."""
    if rule is None:
        return {lang: (
            f"Tidak ada aturan rute untuk kategori {category_name(situation.category, 'id')} di "
            f"{village_kind(situation.village['code'])} {situation.village['name']}, "
            f"Kecamatan {situation.district['name']}, "
            f"{situation.regency['name']}. Koordinator kecamatan perlu merutekan kasus ini."
            if lang == "id" else
            f"No routing rule covers category {category_name(situation.category, 'en')} in "
            f"{situation.village['name']}, {situation.district['name']} district, "
            f"{situation.regency['name']}. The district coordinator must route this case."
        ) for lang in ("id", "en")}
    others = len(matching) - 1
    support_names = ", ".join(a.name for a in supports)
    result = {}
    for lang in ("id", "en"):
        if lang == "id":
            why = ("satu-satunya aturan yang cocok" if not others else
                   f"paling spesifik di antara {len(matching)} aturan yang cocok")
            line = (f"Aturan «{rule.name}» ({rule.id}) dipakai: berlaku untuk "
                    f"{_describe_rule(rule, situation, lang)}. Laporan ini: "
                    f"{_describe_report(situation, lang)}. Dipilih karena {why}. "
                    f"Pemimpin: {lead.name}.")
            if supports:
                line += f" Pendukung: {support_names}."
        else:
            why = ("the only rule that applies" if not others else
                   f"the most specific of {len(matching)} rules that apply")
            line = (f"Rule «{rule.name}» ({rule.id}) applies to "
                    f"{_describe_rule(rule, situation, lang)}. This report: "
                    f"{_describe_report(situation, lang)}. Chosen as {why}. Lead: {lead.name}.")
            if supports:
                line += f" Support: {support_names}."
        result[lang] = line
    return result


def next_fallback(rule, declined_role, tasks_on_case, referred):
    """After a decline: the first fallback of the rule that may take the declined task.

    An agency that declined (or was withdrawn, or was referred the case before) never gets
    the case back from the rules. An agency already working on the case is passed over,
    except when the lead declined: then the first fallback that supports it becomes the lead.
    """
    ended = {t["agency_id"] for t in tasks_on_case if t["status"] in ENDED_TASK_STATUSES}
    working = {t["agency_id"] for t in tasks_on_case if t["status"] not in ENDED_TASK_STATUSES}
    for agency_id in rule.fallback_agency_ids:
        if agency_id in ended or agency_id in referred:
            continue
        if agency_id in working and declined_role != "lead":
            continue
        return agency_id
    return None


def explain_referral(declined_name, reason, rule, agency, promoted=False):
    if promoted:
        return text(f"{declined_name} menolak tugasnya ({reason}). {agency.name}, yang sudah "
                    f"mendukung, kini memimpin sebagai cadangan yang disebut aturan "
                    f"«{rule.name}» ({rule.id}).",
                    f"{declined_name} declined its task ({reason}). {agency.name}, already "
                    f"supporting, now leads as the fallback named by rule «{rule.name}» "
                    f"({rule.id}).")
    return text(f"{declined_name} menolak tugasnya ({reason}). Dirujuk ke {agency.name}, "
                f"cadangan yang disebut aturan «{rule.name}» ({rule.id}).",
                f"{declined_name} declined its task ({reason}). Referred to {agency.name}, "
                f"the fallback named by rule «{rule.name}» ({rule.id}).")


def explain_manual(actor_name, note, lead, supports):
    names = ", ".join(a.name for a in ([lead] if lead else []) + list(supports))
    return text(f"Dirutekan manual oleh {actor_name} ke {names}. Catatan: {note}",
                f"Routed by hand by {actor_name} to {names}. Note: {note}")
