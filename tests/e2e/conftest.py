import pytest

from tests.databases import require_postgres
from tests.e2e.system import System


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def system(request, tmp_path_factory):
    """Every service running against a fresh vhost and fresh databases, demo seeded: once on
    SQLite (the embedded default), once on PostgreSQL (the production profile)."""
    if request.param == "postgresql":
        require_postgres()
    running = System(tmp_path_factory.mktemp("jembatan"), database=request.param).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def sqlite_system(tmp_path_factory):
    """The same, on SQLite only: for what is decided above the database (the gateway's edge,
    accounts, the broker), whose PostgreSQL side the service tests cover."""
    running = System(tmp_path_factory.mktemp("jembatan")).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session", autouse=True)
def broker_management():
    """The end-to-end tests make a vhost each through RabbitMQ's management API."""
    import requests

    from tests.broker import BROKER_USER, MANAGEMENT

    try:
        requests.get(f"{MANAGEMENT}/api/overview", auth=BROKER_USER, timeout=5).raise_for_status()
    except requests.RequestException as exc:
        pytest.exit(f"RabbitMQ's management API is not reachable at {MANAGEMENT} ({exc}). "
                    "Start RabbitMQ and run `rabbitmq-plugins enable rabbitmq_management`.",
                    returncode=3)


@pytest.fixture
def browsers(system):
    """`browsers(name)` opens one more person's browser on the system; all close at the end."""
    from tests.e2e.browser import Browser, missing_tools

    assert not missing_tools(), f"the browser tests need {missing_tools()} (scripts/test)"
    opened = []

    def open_browser(name):
        opened.append(Browser(system, name))
        return opened[-1]

    yield open_browser
    for browser in opened:
        browser.close()
