"""Test session set-up: eventlet patches the standard library before anything else runs, and
the processes the tests start sign their messages with a key of this session's own."""
import os
import secrets

import jembatan  # noqa: F401  (patches sockets first: see jembatan/__init__.py)

os.environ.setdefault("JEMBATAN_SECRET_KEY", secrets.token_hex(32))


# -- the whole suite in two shares at once (scripts/test) ------------------------------------------

def pytest_addoption(parser):
    parser.addoption(
        "--share", choices=("1", "2"),
        help="run one share of the suite (scripts/test runs both at once, one per core): "
             "1, the end-to-end tests on PostgreSQL, the contract fuzzing and the browser "
             "tests; 2, every other test. Tests marked `alone` are in neither: they run after.")


def in_first_share(item):
    path = item.nodeid.split("::")[0]
    return path.startswith("tests/e2e/") and (
        "[postgresql" in item.nodeid or path.endswith("test_contract_fuzzing.py")
        or path.startswith("tests/e2e/test_web_"))


def pytest_collection_modifyitems(config, items):
    share = config.getoption("--share")
    if share is None:
        return
    kept = [item for item in items if in_first_share(item) == (share == "1")
            and item.get_closest_marker("alone") is None]
    chosen = set(map(id, kept))
    config.hook.pytest_deselected(items=[item for item in items if id(item) not in chosen])
    items[:] = kept
