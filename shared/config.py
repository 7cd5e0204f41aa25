"""Settings read from the environment (docs/api.md, "Configuration"), with their defaults."""
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


def upload_max_bytes():
    """The largest photo a person may upload (JEMBATAN_UPLOAD_MAX_BYTES), 5 MB by default."""
    return int(os.environ.get("JEMBATAN_UPLOAD_MAX_BYTES", str(5 * 1000 * 1000)))


def board_poll_seconds():
    """How often an open board asks whether a case changed (JEMBATAN_BOARD_POLL_SECONDS)."""
    return float(os.environ.get("JEMBATAN_BOARD_POLL_SECONDS", "15"))


def session_hours():
    """How long a session made by signing in lasts (JEMBATAN_SESSION_HOURS)."""
    return float(os.environ.get("JEMBATAN_SESSION_HOURS", "12"))


def rate_limit_per_token():
    """Requests a minute one token may make; 0 turns the limit off."""
    return _rate_limit("JEMBATAN_RATE_LIMIT_PER_TOKEN", 600)


def rate_limit_per_address():
    """Requests a minute one client address may make; 0 turns the limit off."""
    return _rate_limit("JEMBATAN_RATE_LIMIT_PER_ADDRESS", 1200)


def _rate_limit(name, default):
    value = os.environ.get(name, str(default)).strip().lower()
    return 0 if value in ("0", "off", "") else int(value)


def cors_origins():
    """Origins whose pages may call the API from a browser (JEMBATAN_CORS_ORIGINS, comma
    separated); none by default."""
    return {origin.strip() for origin in os.environ.get("JEMBATAN_CORS_ORIGINS", "").split(",")
            if origin.strip()}


def trusted_proxies():
    """How many proxies in front of the gateway set X-Forwarded-For (JEMBATAN_TRUSTED_PROXIES);
    0 by default: the client's address is the connection's."""
    return int(os.environ.get("JEMBATAN_TRUSTED_PROXIES", "0"))


def public_cache_seconds():
    """How long the requests service keeps a public record it counted before counting it
    again (JEMBATAN_PUBLIC_CACHE_SECONDS)."""
    return float(os.environ.get("JEMBATAN_PUBLIC_CACHE_SECONDS", "60"))


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


# -- delivery outside the app (services/notifications; docs/api.md, "Notifications that reach
# people") -------------------------------------------------------------------------------------

def public_url():
    """The web app's address as people reach it, for links in messages (JEMBATAN_PUBLIC_URL)."""
    return os.environ.get("JEMBATAN_PUBLIC_URL", f"http://localhost:{http_port()}").rstrip("/")


def smtp_url():
    """`smtp://user:pass@host:587?starttls=true` or `smtps://…:465` (JEMBATAN_SMTP_URL); unset,
    no email is sent."""
    return os.environ.get("JEMBATAN_SMTP_URL", "").strip() or None


def mail_from():
    return os.environ.get("JEMBATAN_MAIL_FROM", "Jembatan <jembatan@localhost>")


def message_gateway(channel):
    """An SMS or WhatsApp provider's HTTP API (JEMBATAN_SMS_GATEWAY_URL, …_AUTH, …_BODY,
    …_CONTENT_TYPE; JEMBATAN_WHATSAPP_GATEWAY_… likewise), or None when the URL is unset."""
    prefix = f"JEMBATAN_{channel.upper()}_GATEWAY_"
    url = os.environ.get(prefix + "URL", "").strip()
    if not url:
        return None
    return {"url": url, "auth": os.environ.get(prefix + "AUTH") or None,
            "body": os.environ.get(prefix + "BODY") or None,
            "content_type": os.environ.get(prefix + "CONTENT_TYPE", "application/json")}


def delivery_retry_seconds():
    """The wait after a delivery's first failed attempt; it doubles after each (at most 1 h)."""
    return float(os.environ.get("JEMBATAN_DELIVERY_RETRY_SECONDS", "30"))


def delivery_attempts():
    """Attempts of a delivery before it is failed for good."""
    return int(os.environ.get("JEMBATAN_DELIVERY_ATTEMPTS", "8"))


def delivery_poll_seconds():
    """How often the sender looks for deliveries that are due (besides being woken)."""
    return float(os.environ.get("JEMBATAN_DELIVERY_POLL_SECONDS", "1"))


def send_timeout_seconds():
    """How long one attempt may take (connecting, and each answer) before it fails."""
    return float(os.environ.get("JEMBATAN_SEND_TIMEOUT_SECONDS", "10"))


def webhooks_may_reach_private_addresses():
    """Whether a webhook may point at a private, loopback or link-local address
    (JEMBATAN_WEBHOOKS_ALLOW_PRIVATE; off: a webhook cannot reach the machines inside)."""
    return os.environ.get("JEMBATAN_WEBHOOKS_ALLOW_PRIVATE", "").lower() in ("1", "true", "yes")


def digest_hour():
    """The hour (local time of the actor's area) the daily digests go out."""
    return int(os.environ.get("JEMBATAN_DIGEST_HOUR", "7"))
