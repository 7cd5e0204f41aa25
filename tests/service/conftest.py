import pytest

from tests.broker import Vhost


@pytest.fixture
def amqp_uri():
    """A fresh RabbitMQ vhost for one test."""
    vhost = Vhost()
    uri = vhost.create()
    try:
        yield uri
    finally:
        vhost.delete()
