"""The contract as committed (docs/openapi.json, docs/api.md) is the one the code declares."""
import json
import re
from pathlib import Path

from services.gateway import open311, openapi, service  # noqa: F401  (declares every endpoint)
from services.gateway.http import DOCUMENTED
from shared import policy

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_committed_openapi_document_is_the_generated_one():
    committed = json.loads((DOCS / "openapi.json").read_text())
    assert committed == json.loads(json.dumps(openapi.document())), (
        "docs/openapi.json is out of date: python -m services.gateway.openapi > docs/openapi.json")


def test_docs_api_md_names_every_endpoint_with_its_roles():
    page = (DOCS / "api.md").read_text()
    for (method, url), doc in DOCUMENTED.items():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", url)
        row = next((line for line in page.splitlines()
                    if line.startswith(f"| {method} `{path}` |")), None)
        assert row, f"docs/api.md has no row for {method} {path}"
        roles = policy.roles_of(doc["operation"])
        who = ("anyone" if roles is policy.PUBLIC else "signed in" if roles == policy.SIGNED_IN
               else ", ".join(roles))
        assert row.split("|")[2].strip() == who, f"{method} {path}: docs/api.md says otherwise"


def test_docs_api_md_names_every_open311_endpoint():
    page = (DOCS / "api.md").read_text()
    for method, url in open311.DOCUMENTED:
        path = open311.PREFIX + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", url)
        assert any(line.startswith(f"| {method} `{path}` | anyone |")
                   for line in page.splitlines()), f"docs/api.md has no row for {method} {path}"


def test_every_operation_says_who_may_call_it():
    for path, operations in openapi.document()["paths"].items():
        for method, operation in operations.items():
            if path.startswith(open311.PREFIX + "/"):  # the specification's: anyone
                assert "x-roles" not in operation and "security" not in operation, path
                continue
            roles = policy.roles_of(operation["operationId"])
            assert operation.get("x-roles") == (None if roles is policy.PUBLIC else list(roles)), \
                f"{method} {path}"
