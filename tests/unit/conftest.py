import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine

from jembatan.cli import main
from services.requests.models import Base as RequestsBase


@pytest.fixture(scope="module")
def requests_database():
    """The requests service's tables in an in-memory SQLite database (for SQL twin tests)."""
    engine = create_engine("sqlite://")
    RequestsBase.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """`cli(*args)` runs a `jembatan` command, its databases under tmp_path."""
    monkeypatch.setenv("JEMBATAN_DATA_DIR", str(tmp_path))

    def invoke(*args):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke
