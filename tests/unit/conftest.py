import pytest
from sqlalchemy import create_engine

from services.requests.models import Base as RequestsBase


@pytest.fixture(scope="module")
def requests_database():
    """The requests service's tables in an in-memory SQLite database (for SQL twin tests)."""
    engine = create_engine("sqlite://")
    RequestsBase.metadata.create_all(engine)
    yield engine
    engine.dispose()
