"""What a caller may ask of the services: the bodies of the HTTP API's writes.

The gateway parses requests with these schemas (and documents them in OpenAPI); each service
loads what it receives through the same schema, so its RPC is safe for any caller.
"""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.categories import CODES as CATEGORY_CODES
from shared.errors import ValidationFailed
from shared.events import SEVERITIES, TASK_ROLES
from shared.i18n import text

VILLAGE_CODE = r"\d{2}\.\d{2}\.\d{2}\.\d{4}"
MAX_TEXT = 5000


class NotBlank(validate.Validator):
    error = text("Tidak boleh kosong.", "Must not be blank.")

    def __call__(self, value):
        if not value or not value.strip():
            raise ValidationError(self.error)
        return value


def required_text(max_length=MAX_TEXT, **kwargs):
    return fields.String(required=True, validate=[NotBlank(), validate.Length(max=max_length)],
                         **kwargs)


def optional_text(max_length=MAX_TEXT, **kwargs):
    return fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=max_length), **kwargs)


class Location(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))


class ReportInput(Schema):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORY_CODES),
                             metadata={"description": "A code of GET /categories."})
    title = required_text(200)
    description = required_text()
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    affected_people = fields.Integer(strict=True, load_default=None, allow_none=True,
                                     validate=validate.Range(0, 100_000_000))
    location = fields.Nested(Location, load_default=None, allow_none=True)


class NoteInput(Schema):
    note = optional_text()


class RequiredNoteInput(Schema):
    note = required_text()


class ReasonInput(Schema):
    reason = required_text()


class MergeInput(Schema):
    into = fields.String(required=True, validate=NotBlank(),
                         metadata={"description": "id or tracking number of the case to keep"})
    reason = required_text()


class CommentInput(Schema):
    body = required_text()


class AgencyAssignment(Schema):
    agency_id = fields.String(required=True, validate=NotBlank())
    role = fields.String(required=True, validate=validate.OneOf(TASK_ROLES))


class RouteInput(Schema):
    agencies = fields.List(fields.Nested(AgencyAssignment), required=True,
                           validate=validate.Length(min=1, max=20))
    note = required_text()

    @validates_schema
    def one_lead_at_most(self, data, **_kwargs):
        agencies = data.get("agencies", [])
        if sum(1 for a in agencies if a["role"] == "lead") > 1:
            raise ValidationError(text("Paling banyak satu instansi pemimpin (lead).",
                                       "At most one lead agency."), "agencies")
        ids = [a["agency_id"] for a in agencies]
        if len(set(ids)) != len(ids):
            raise ValidationError(text("Instansi yang sama disebut dua kali.",
                                       "The same agency is named twice."), "agencies")


class PreviewInput(Schema):
    village_code = fields.String(required=True, validate=validate.Regexp(VILLAGE_CODE))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORY_CODES))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    affected_people = fields.Integer(strict=True, load_default=None, allow_none=True,
                                     validate=validate.Range(0, 100_000_000))


def load(schema_class, data):
    """Load `data` through a command schema; raises shared.errors.ValidationFailed."""
    if not isinstance(data, dict):
        raise ValidationFailed(text("Isi permintaan harus berupa objek JSON.",
                                    "The body must be a JSON object."),
                               {"body": [text("Harus berupa objek JSON.", "Must be a JSON object.")]})
    try:
        return schema_class().load(data)
    except ValidationError as exc:
        raise ValidationFailed(text("Isian tidak sah.", "Invalid input."), exc.messages) from None
