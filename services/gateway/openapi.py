"""The OpenAPI 3 document of the HTTP API, generated from the marshmallow schemas (apispec)."""
import re
from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from services.gateway import schemas
from services.gateway.http import DOCUMENTED, PREFIX

ERRORS = {
    400: "validation_error: malformed JSON, unknown or missing field, wrong type, bad value",
    401: "unauthorized: no token, unknown or revoked token",
    403: "forbidden: the caller's role may not do this",
    404: "not_found: no such resource, or outside the caller's scope",
    409: "conflict: the action does not fit the current state",
    413: "payload_too_large: body over the limit",
    503: "unavailable: a service needed for the answer did not reply in time",
}


def _path(url):
    return PREFIX + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", url)


@lru_cache(maxsize=1)
def document():
    spec = APISpec(
        title="Jembatan API", version="1.0.0", openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Village issues routed through the kecamatan to the agencies of "
                             "the kabupaten/kota, tracked to the end. Texts are Bahasa "
                             "Indonesia; send `Accept-Language: en` or `?lang=en` for English."},
        servers=[{"url": "/"}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=schemas.Error)
    for (methods, url), doc in sorted(DOCUMENTED.items(), key=lambda item: item[0][1]):
        path = _path(url)
        operations = {}
        for method in methods.split(","):
            operation = {"summary": doc["summary"], "responses": {}}
            if doc["roles"]:
                operation["security"] = [{"bearer": []}]
                operation["description"] = f"Who: {doc['roles']}."
            parameters = [{"in": "path", "name": name, "required": True,
                           "schema": {"type": "string"}}
                          for name in re.findall(r"{(\w+)}", path)]
            if doc["query"] is not None:
                parameters.append({"in": "query", "schema": doc["query"]})
            if url == "/reports":
                parameters.append({"in": "header", "name": "Idempotency-Key", "required": False,
                                   "schema": {"type": "string", "maxLength": 200},
                                   "description": "The same key again returns the same case."})
            if parameters:
                operation["parameters"] = parameters
            if doc["body"] is not None:
                operation["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": doc["body"]}}}
            for status, schema in doc["answers"].items():
                operation["responses"][str(status)] = {
                    "description": "OK" if status < 300 else ERRORS.get(status, "error"),
                    "content": {"application/json": {"schema": schema}}}
            if not doc["answers"]:
                operation["responses"]["200"] = {"description": "OK"}
            for status, description in ERRORS.items():
                if str(status) not in operation["responses"] and (doc["roles"] or status in (400, 413, 503)):
                    operation["responses"][str(status)] = {
                        "description": description,
                        "content": {"application/json": {"schema": "Error"}}}
            operations[method.lower()] = operation
        spec.path(path=path, operations=operations)
    return spec.to_dict()
