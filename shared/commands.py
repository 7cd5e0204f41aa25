"""What a caller may ask of the services: the bodies of the HTTP API's writes.

The gateway parses requests with these schemas (and documents them in OpenAPI); each service
loads what it receives through the same schema, so its RPC is safe for any caller.
"""
import re
from functools import lru_cache

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from shared.categories import CODES as CATEGORY_CODES
from shared.channels import PERSONAL_CHANNELS
from shared.errors import ValidationFailed
from shared.events import NOTIFIED_EVENTS, SEVERITIES
from shared.i18n import text

# The official codes of a regency, a district and a village (the wilayah data), and an agency's id.
REGENCY_CODE = r"^[0-9]{2}\.[0-9]{2}$"
DISTRICT_CODE = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$"
VILLAGE_CODE = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"
AGENCY_ID = r"^[a-z0-9][a-z0-9-]{1,63}$"
MAX_TEXT = 5000


# A character of text: anything but the control characters (tab and line breaks are text).
CHARACTER = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
# A character that shows: not a control character and not a space (as JavaScript's \s knows
# them, so that the OpenAPI document's patterns mean the same everywhere).
VISIBLE = (r"[^\x00-\x20\x7f\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f"
           r"\u3000\ufeff]")
PLAIN_TEXT = rf"^{CHARACTER}*$"
CONTROL_CHARACTERS = text("Tidak boleh berisi karakter kendali.",
                          "Must not contain control characters.")


class Text(validate.Regexp):
    """Text a person writes: no control characters (a NUL no database keeps) and, unless
    `blank`, something besides spaces. The OpenAPI document shows the rule as the field's
    pattern."""

    def __init__(self, blank=False):
        super().__init__(PLAIN_TEXT if blank else rf"^{CHARACTER}*{VISIBLE}{CHARACTER}*$")

    def __call__(self, value):
        if not re.fullmatch(PLAIN_TEXT, value):
            raise ValidationError(CONTROL_CHARACTERS)
        if self.regex.match(value) is None:
            raise ValidationError(text("Tidak boleh kosong.", "Must not be blank."))
        return value


NOT_BLANK = Text()


def required_text(max_length=MAX_TEXT, **kwargs):
    return fields.String(required=True, validate=[NOT_BLANK, validate.Length(1, max_length)],
                         **kwargs)


def optional_text(max_length=MAX_TEXT, **kwargs):
    return fields.String(load_default=None, allow_none=True,
                         validate=[Text(blank=True), validate.Length(max=max_length)], **kwargs)


class Number(fields.Float):
    """A JSON number, never a string that looks like one (marshmallow's Float takes "1.5")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (str, bool)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class JsonBoolean(fields.Boolean):
    """A JSON true or false, never 1, 0 or a string that looks like one."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Location(Schema):
    lat = Number(required=True, validate=validate.Range(-90, 90))
    lon = Number(required=True, validate=validate.Range(-180, 180))


class ReportInput(Schema):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORY_CODES),
                             metadata={"description": "A code of GET /categories."})
    title = required_text(200)
    description = required_text()
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    affected_people = fields.Integer(strict=True, load_default=None, allow_none=True,
                                     validate=validate.Range(0, 100_000_000))
    location = fields.Nested(Location, load_default=None, allow_none=True)
    confidential = JsonBoolean(load_default=False, metadata={"description": (
        "A complaint about an official: only the coordinator, the regency office, the "
        "agencies routed to and the village itself see it; never public (Open311, public "
        "pages, open data).")})


LONGEST_RECORD_DAYS = 366  # the agencies' record: a period of at most a year
MUSRENBANG_YEARS = (2000, 2100)  # the years a Musrenbang input may be asked for


class ProposalInput(Schema):
    """A coordinator's proposal of an issue to the Musrenbang (usulan)."""
    note = required_text(2000)


class Unique(validate.Validator):
    def __call__(self, value):
        if len(set(value)) != len(value):
            raise ValidationError(text("Setiap nilai hanya sekali.", "Each value only once."))
        return value


class NoteInput(Schema):
    note = optional_text()


class RequiredNoteInput(Schema):
    note = required_text()


class ReasonInput(Schema):
    reason = required_text()


class MergeInput(Schema):
    into = fields.String(required=True, validate=NOT_BLANK,
                         metadata={"description": "id or tracking number of the case to keep"})
    reason = required_text()


class CommentInput(Schema):
    body = required_text()


def agency_id(**kwargs):
    return fields.String(validate=validate.Regexp(AGENCY_ID), **kwargs)


class RouteInput(Schema):
    """Agencies a coordinator gives a case: a new lead, supports, or both (at least one). An
    agency named both as lead and as support leads."""

    lead = agency_id(metadata={"description": "the agency that leads from now on"})
    supports = fields.List(agency_id(), load_default=list,
                           validate=[validate.Length(max=20), Unique()],
                           metadata={"uniqueItems": True})
    note = required_text()

    @validates_schema
    def names_an_agency(self, data, **_kwargs):
        if not data.get("lead") and not data.get("supports"):
            raise ValidationError(text("Sebutkan instansi pemimpin atau pendukung.",
                                       "Name a lead or a supporting agency."), "lead")

    @post_load
    def a_lead_does_not_also_support(self, data, **_kwargs):
        data["supports"] = [a for a in data["supports"] if a != data.get("lead")]
        return data


class PreviewInput(Schema):
    village_code = fields.String(required=True, validate=validate.Regexp(VILLAGE_CODE))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORY_CODES))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    affected_people = fields.Integer(strict=True, load_default=None, allow_none=True,
                                     validate=validate.Range(0, 100_000_000))


def channel_list(**kwargs):
    return fields.List(fields.String(validate=validate.OneOf(PERSONAL_CHANNELS)),
                       validate=Unique(), **kwargs)


# One optional field per kind of event a party hears of: {event type: [channels]}.
EventChannelsInput = Schema.from_dict(
    {event_type: channel_list() for event_type in NOTIFIED_EVENTS}, name="EventChannelsInput")


class PreferencesInput(Schema):
    """The channels an actor is told on, per kind of event ([] for the inbox only; the kinds
    not named keep what they had), and whether its email comes as one daily digest."""

    events = fields.Nested(EventChannelsInput)
    digest = JsonBoolean(metadata={"description": "email once a day, all news together"})


class SubscriptionInput(Schema):
    """Follow, in one's area, the cases of a category, of a village, or the overdue ones (or
    a category in a village)."""

    category = fields.String(validate=validate.OneOf(CATEGORY_CODES))
    village = fields.String(validate=validate.Regexp(VILLAGE_CODE))
    overdue = JsonBoolean(load_default=False, metadata={
        "description": "deadlines missed and escalations, instead of every big step"})

    @validates_schema
    def follows_something(self, data, **_kwargs):
        if not (data.get("category") or data.get("village") or data.get("overdue")):
            raise ValidationError(text("Pilih kategori, desa, atau kasus terlambat.",
                                       "Choose a category, a village, or the overdue cases."),
                                  "category")


class WebhookInput(Schema):
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                     validate=validate.Length(1, 2000),
                     metadata={"description": "where each notification is POSTed"})
    events = fields.List(fields.String(validate=validate.OneOf(NOTIFIED_EVENTS)), required=True,
                         validate=[validate.Length(min=1), Unique()])


class AnnouncementInput(Schema):
    """An announcement to every village of a district, or of a regency."""

    title = required_text(200)
    body = required_text()
    district = fields.String(validate=validate.Regexp(DISTRICT_CODE))
    regency = fields.String(validate=validate.Regexp(REGENCY_CODE))

    @validates_schema
    def names_one_area(self, data, **_kwargs):
        if ("district" in data) == ("regency" in data):
            raise ValidationError(text("Sebutkan satu wilayah: district atau regency.",
                                       "Name one area: district or regency."), "district")


def not_an_object():
    return ValidationFailed(text("Isi permintaan harus berupa objek JSON.",
                                 "The body must be a JSON object."),
                            {"body": [text("Harus berupa objek JSON.", "Must be a JSON object.")]})


@lru_cache(maxsize=None)
def schema(schema_class):
    """The one instance of a schema class (a schema holds no state between loads, and building
    one costs more than a load)."""
    return schema_class()


def load(schema_class, data):
    """Load `data` through a command schema; raises shared.errors.ValidationFailed."""
    if not isinstance(data, dict):
        raise not_an_object()
    try:
        return schema(schema_class).load(data)
    except ValidationError as exc:
        raise ValidationFailed(text("Isian tidak sah.", "Invalid input."), exc.messages) from None
