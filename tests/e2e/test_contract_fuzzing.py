"""The OpenAPI document is true: schemathesis, a fuzzer we did not write, drives every operation
with a token of each role that may call it (and the public ones) and finds no failure of the
contract's checks. That a role is refused the others is the access matrix's to show
(tests/e2e/test_access_matrix.py), for every operation and role.

It follows the document's links from new and listed resources to the operations on them, so
it reaches real cases, tasks, notifications and actors, not only unknown identifiers. The runs
share one system (SQLite); those that can disable actors (regency, admin) run last.
"""
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from services.gateway import open311, service  # noqa: F401  (declares every endpoint)
from shared import policy
from tests.e2e.system import System

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "negative_data_rejection", "positive_data_acceptance",
          "unsupported_method")
ROLES = (("village", "35.79.02.2001"), ("agency", "pdam-batu"), ("coordinator", "35.79.02"),
         ("regency", "35.79"), ("admin", None))
# Examples per operation in the fuzzing phase; the coverage phase adds its boundary values.
MAX_EXAMPLES = 5
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    running = System(tmp_path_factory.mktemp("fuzzed")).start()
    try:
        yield running
    finally:
        running.stop()


def callable_by(role):
    """A regular expression of the operations `role` may call, the public ones included; the
    village's run also covers Open311 (public whoever calls; its POST takes a village's
    token as `api_key`)."""
    allowed = [operation for operation, roles in policy.OPERATIONS.items()
               if roles is policy.PUBLIC or role in roles]
    if role == policy.VILLAGE:
        allowed += [doc["operation"] for doc in open311.DOCUMENTED.values()]
    return "^(" + "|".join(re.escape(operation) for operation in allowed) + ")$"


def fuzz(system, role, scope, tmp_path):
    """Run schemathesis as one role; (exit code, what it printed)."""
    folder = tmp_path / role  # its reports, and the cache schemathesis keeps where it runs
    folder.mkdir()
    token = system.actors[(role, scope)]["token"]  # the demo actor's own
    command = [str(SCHEMATHESIS), "--config-file", str(CONFIG), "run",
               f"{system.base}/openapi.json",
               "-H", f"Authorization: Bearer {token}", "--checks", ",".join(CHECKS),
               "--max-examples", str(MAX_EXAMPLES), "--workers", "1", "--seed", "20261202",
               # Signing out would revoke the token the rest of the run uses.
               "--exclude-operation-id", "auth.logout",
               "--include-operation-id-regex", callable_by(role),
               "--report", "junit", "--report-dir", str(folder)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=folder)
    return run.returncode, f"$ {' '.join(command)}\n{run.stdout[-20000:]}\n{run.stderr[-5000:]}"


def test_every_role_finds_the_contract_true(fuzzed, tmp_path):
    # Two at a time: the three roles that manage nobody, then regency and admin, who may
    # disable the actors the others use.
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = list(pool.map(lambda rs: fuzz(fuzzed, *rs, tmp_path), ROLES[:3]))
        last = list(pool.map(lambda rs: fuzz(fuzzed, *rs, tmp_path), ROLES[3:]))
    failed = [(role, output) for (role, _scope), (code, output) in zip(ROLES, first + last)
              if code != 0]
    assert not failed, "\n\n".join(f"== {role} ==\n{output}" for role, output in failed)
