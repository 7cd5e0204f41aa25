"""The OpenAPI 3 document of the HTTP API, generated from the endpoints' declarations, the
marshmallow schemas (apispec) and the access policy (who may call each operation).

docs/openapi.json is this document as committed; tests/unit/test_openapi_document.py keeps the
two the same (`python -m services.gateway.openapi > docs/openapi.json` writes it again).
"""
import json
import re
from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from services.gateway import accounts, open311, photos, schemas
from services.gateway.http import DOCUMENTED, PREFIX
from shared import commands, policy
from shared.commands import Unique

ERRORS = {
    400: "validation_error: malformed JSON, unknown or missing field, wrong type, bad value",
    401: "unauthorized: no token, or an unknown, expired or revoked one",
    403: "forbidden: the caller's role may not do this",
    404: "not_found: no such resource, or outside the caller's jurisdiction",
    409: "conflict: the action does not fit the current state",
    413: "payload_too_large: body over the limit",
    429: "rate_limited: too many requests; wait the seconds of `Retry-After`",
    503: "unavailable: a service needed for the answer did not reply in time",
}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
DESCRIPTION = """\
Village issues routed through the kecamatan to the agencies of the kabupaten/kota, tracked to
the end. The reference, with examples, is docs/api.md.

* **Who may call**: each operation names the roles that may call it (`x-roles`); any other
  role is answered 403. A resource outside the caller's jurisdiction is answered 404.
* **Sign in**: `POST /api/v1/auth/login` gives a token; send it as `Authorization: Bearer …`.
* **Lists** are paged: `page`, `per_page` (at most 100) in, `{items, total, page, per_page}` out.
* **Language**: texts are Bahasa Indonesia; send `Accept-Language: en` or `?lang=en` for English.
* **Errors** always read `{"error": {"code", "message", "details": {field: [messages]}}}`.
"""


CASE_OPERATIONS = ("cases.read", "cases.timeline", "cases.comment", "cases.confirm",
                   "cases.reopen", "cases.route", "cases.escalate", "cases.cancel", "cases.merge")
TASK_OPERATIONS = ("tasks.accept", "tasks.decline", "tasks.progress", "tasks.complete",
                   "tasks.withdraw", "tasks.lead")
ACTOR_OPERATIONS = ("actors.read", "actors.disable", "actors.enable", "actors.password",
                    "actors.token")


def _links(parameter, value, targets, **more):
    return {target.replace(".", "_"): {"operationId": target,
                                        "parameters": {parameter: value, **more}}
            for target in targets}


# Where the identifiers an operation needs come from (OpenAPI links): a client, or a fuzzer
# following them, goes from a list or a new resource to the operations on it.
LINKS = {
    ("reports.create", 202): _links("case_id", "$response.body#/case_id", CASE_OPERATIONS),
    ("cases.list", 200): _links("case_id", "$response.body#/items/0/id", CASE_OPERATIONS),
    ("escalations.list", 200): _links("case_id", "$response.body#/items/0/id", CASE_OPERATIONS),
    ("cases.read", 200): _links("case_id", "$request.path.case_id", TASK_OPERATIONS,
                                task_id="$response.body#/tasks/0/id"),
    ("notifications.list", 200): _links("notification_id", "$response.body#/items/0/id",
                                        ("notifications.read",)),
    ("actors.list", 200): _links("actor_id", "$response.body#/items/0/id", ACTOR_OPERATIONS),
    ("actors.create", 201): _links("actor_id", "$response.body#/id", ACTOR_OPERATIONS),
    ("actors.token", 201): _links("token_id", "$response.body#/id", ("tokens.revoke",)),
}


def _path(url):
    return PREFIX + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", url)


# The numbers in paths, and the values they take.
PATH_NUMBERS = {"year": {"type": "integer", "minimum": commands.MUSRENBANG_YEARS[0],
                         "maximum": commands.MUSRENBANG_YEARS[1]}}
IMAGE = "image"  # an answer that is a photo's bytes
BINARY = {"type": "string", "format": "binary"}


def _answer(status, schema=None):
    answer = {"description": "OK" if status < 300 else ERRORS.get(status, "error")}
    if status == 429:
        answer["headers"] = RETRY_AFTER
    if schema == IMAGE:
        answer["content"] = {kind: {"schema": BINARY} for kind in photos.FORMATS.values()}
    elif schema == schemas.CSV:
        answer["content"] = {"text/csv": {"schema": {"type": "string"}}}
    elif schema == schemas.PDF:
        answer["content"] = {"application/pdf": {"schema": BINARY}}
    elif schema is not None:
        answer["content"] = {"application/json": {"schema": schema}}
    return answer


def _errors(method, doc, path):
    """The error statuses an operation can answer."""
    public = policy.roles_of(doc["operation"]) is policy.PUBLIC
    statuses = {429, 503}
    if doc["body"] is not None:
        statuses |= {400, 413}
    if (doc["query"] is not None or path.endswith("/reports")
            or any(f"{{{name}}}" in path for name in PATH_NUMBERS)):  # a number out of bounds
        statuses.add(400)
    if not public:
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    if method != "GET" and not public:
        statuses.add(409)
    return statuses


def operation(method, url, doc):
    path = _path(url)
    roles = policy.roles_of(doc["operation"])
    op = {"operationId": doc["operation"], "summary": doc["summary"], "responses": {},
          "tags": [doc["operation"].split(".")[0]]}
    if roles is not policy.PUBLIC:
        op["security"] = [{"bearer": []}]
        op["x-roles"] = list(roles)
        op["description"] = f"Who: {', '.join(roles)}."
    parameters = [{"in": "path", "name": name, "required": True,
                   "schema": PATH_NUMBERS.get(name, {"type": "integer"}) if converter == "int:"
                   else {"type": "string", "minLength": 1}}
                  for converter, name in re.findall(r"<(\w+:)?(\w+)>", url)]
    if doc["query"] is not None:
        parameters.append({"in": "query", "schema": doc["query"]})
    if url == "/reports":
        parameters.append({"in": "header", "name": "Idempotency-Key", "required": False,
                           "schema": {"type": "string", "minLength": 1, "maxLength": 200,
                                      "pattern": r"\S"},
                           "description": "The same key again returns the same case."})
    if parameters:
        op["parameters"] = parameters
    if doc["body"] is not None:
        content = {"schema": doc["body"]}
        if doc["body_type"] == "multipart/form-data":
            content["encoding"] = {photos.FIELD: {"contentType": photos.ACCEPTED}}
        op["requestBody"] = {"required": not doc["body_optional"],
                             "content": {doc["body_type"]: content}}
    for status, schema in doc["answers"].items():
        op["responses"][str(status)] = _answer(status, schema)
        if (doc["operation"], status) in LINKS:
            op["responses"][str(status)]["links"] = LINKS[(doc["operation"], status)]
    if not doc["answers"]:
        op["responses"]["200"] = _answer(200)
    for status in sorted(_errors(method, doc, path)):
        op["responses"].setdefault(str(status), _answer(status, "Error"))
    return op


OPEN311_ERRORS = {400: "a parameter or field is not valid (named in the description)",
                  403: "api_key is not a valid village token",
                  404: "no such service, request, token, format or jurisdiction",
                  429: "too many requests; wait the seconds of `Retry-After`",
                  503: "a service needed for the answer did not reply in time"}


def open311_operation(method, url, doc):
    """An Open311 endpoint (services/gateway/open311.py): public, JSON or XML by the path's
    extension, errors as the specification's list of {code, description}."""
    op = {"operationId": doc["operation"], "summary": doc["summary"], "tags": ["open311"],
          "description": "GeoReport v2 (https://wiki.open311.org/GeoReport_v2); anyone.",
          "responses": {}}
    parameters = [{"in": "path", "name": name, "required": True,
                   "schema": ({"type": "string", "enum": list(open311.FORMATS)}
                              if name == "format" else {"type": "string", "minLength": 1})}
                  for name in re.findall(r"<(?:\w+:)?(\w+)>", url)]
    if doc["query"] is not None:
        parameters.append({"in": "query", "schema": doc["query"]})
    op["parameters"] = parameters
    if doc["body"] is not None:
        op["requestBody"] = {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": doc["body"]}}}
    for status, schema in doc["answers"].items():
        listed = {"type": "array", "items": schema[0]} if isinstance(schema, list) else schema
        op["responses"][str(status)] = {"description": "OK", "content": {
            "application/json": {"schema": listed}, "text/xml": {"schema": {"type": "string"}}}}
    errors = {404, 429, 503} | ({400} if doc["query"] or doc["body"] else set())
    if doc["body"] is not None:
        errors.add(403)
    for status in sorted(errors):
        op["responses"][str(status)] = {"description": OPEN311_ERRORS[status], "content": {
            "application/json": {"schema": {"type": "array", "items": open311.Open311Error}},
            "text/xml": {"schema": {"type": "string"}}}}
    return op


def actor_variants(base):
    """ActorInput as one variant per role, each with the scope that role has (an admin: none),
    from the same patterns the gateway checks (services/gateway/accounts.py)."""
    variants = []
    for role in policy.ROLES:
        properties = {**base["properties"], "role": {"type": "string", "enum": [role]}}
        required = ["role", "name"]
        if role == policy.ADMIN:
            del properties["scope"]
        else:
            properties["scope"] = {"type": "string", "pattern": accounts.SCOPE_PATTERNS[role]}
            required.append("scope")
        variants.append({"type": "object", "title": role, "properties": properties,
                         "required": required, "additionalProperties": False})
    return {"oneOf": variants}


def unique_items(self, field, **kwargs):
    """A list whose values may each come once (shared/commands.Unique) says so."""
    return {"uniqueItems": True} if any(isinstance(v, Unique) for v in field.validators) else {}


@lru_cache(maxsize=1)
def document():
    marshmallow = MarshmallowPlugin()
    spec = APISpec(
        title="Jembatan API", version="1.1.0", openapi_version="3.0.3",
        plugins=[marshmallow], info={"description": DESCRIPTION}, servers=[{"url": "/"}],
    )
    marshmallow.converter.add_attribute_function(unique_items)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=schemas.Error)
    paths = {}
    for (method, url), doc in DOCUMENTED.items():
        paths.setdefault(url, {})[method.lower()] = operation(method, url, doc)
    for url in sorted(paths):
        spec.path(path=_path(url), operations=paths[url])
    open311_paths = {}
    for (method, url), doc in open311.DOCUMENTED.items():
        open311_paths.setdefault(url, {})[method.lower()] = open311_operation(method, url, doc)
    for url in sorted(open311_paths):
        spec.path(path=open311.PREFIX + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", url),
                  operations=open311_paths[url])
    document = spec.to_dict()
    schemas_of = document["components"]["schemas"]
    schemas_of["ActorInput"] = actor_variants(schemas_of["ActorInput"])
    # RouteInput.names_an_agency (shared/commands.py): a lead, or at least one support.
    schemas_of["RouteInput"]["anyOf"] = [
        {"required": ["lead"]},
        {"required": ["supports"], "properties": {"supports": {"minItems": 1}}}]
    # AnnouncementInput.names_one_area: a district or a regency, not both.
    schemas_of["AnnouncementInput"]["oneOf"] = [
        {"required": ["district"], "not": {"required": ["regency"]}},
        {"required": ["regency"], "not": {"required": ["district"]}}]
    # SubscriptionInput.follows_something: a category, a village, or the overdue cases.
    schemas_of["SubscriptionInput"]["anyOf"] = [
        {"required": ["category"]}, {"required": ["village"]},
        {"required": ["overdue"], "properties": {"overdue": {"enum": [True]}}}]
    only_null_besides(document)
    return document


def only_null_besides(node):
    """apispec writes an object that may be null as anyOf [its schema, {"type": "object",
    "nullable": true}]; the second would take any object. Make it take null only."""
    if isinstance(node, dict):
        for option in node.get("anyOf", ()):
            if option == {"type": "object", "nullable": True}:
                option["enum"] = [None]
        for value in node.values():
            only_null_besides(value)
    elif isinstance(node, list):
        for value in node:
            only_null_besides(value)


if __name__ == "__main__":
    import jembatan  # noqa: F401  (eventlet first)
    from services.gateway import service  # noqa: F401  (declares every endpoint)

    print(json.dumps(document(), indent=2, ensure_ascii=False))
