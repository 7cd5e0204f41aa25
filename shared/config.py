"""Settings read from the environment (the contract in API.md), with their defaults."""
import os
from pathlib import Path

SERVICES = ("villages", "requests", "routing", "notifications", "gateway")

DEFAULT_AMQP_URI = "amqp://guest:guest@localhost:5672/"


def amqp_uri():
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def data_dir():
    return Path(os.environ.get("JEMBATAN_DATA_DIR", "./var")).resolve()


def database_url(service):
    """The SQLAlchemy URL of one service's own database.

    `JEMBATAN_DATABASE_URL_<SERVICE>` wins; otherwise a SQLite file in the data directory.
    """
    url = os.environ.get(f"JEMBATAN_DATABASE_URL_{service.upper()}")
    if url:
        return url
    directory = data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / (service + '.db')}"


def http_port():
    return int(os.environ.get("JEMBATAN_HTTP_PORT", "8000"))


def rpc_timeout():
    """Seconds the gateway waits for a service before answering 503."""
    return float(os.environ.get("JEMBATAN_RPC_TIMEOUT", "5"))


def max_body_bytes():
    return int(os.environ.get("JEMBATAN_MAX_BODY_BYTES", str(64 * 1024)))


def scheduler_seconds():
    """How often the deadlines are checked (JEMBATAN_SCHEDULER_SECONDS)."""
    return float(os.environ.get("JEMBATAN_SCHEDULER_SECONDS", "30"))


def max_workers():
    """Concurrent workers of a service (nameko's max_workers; the database pool follows)."""
    return int(os.environ.get("JEMBATAN_MAX_WORKERS", "10"))


def nameko_config(service):
    """The nameko container configuration of one service."""
    return {
        "AMQP_URI": amqp_uri(),
        "HEARTBEAT": 30,
        "max_workers": max_workers(),
        "WEB_SERVER_ADDRESS": f"{os.environ.get('JEMBATAN_HTTP_HOST', '0.0.0.0')}:{http_port()}",
        "SERVICE_NAME": service,
    }
