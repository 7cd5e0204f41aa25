"""The adapters that carry a message out of Jembatan: SMTP for email, a provider's HTTP API for
SMS and WhatsApp, and signed POSTs for webhooks. Each either returns what the other side
answered or raises `SendFailed` with why; each gives up after `config.send_timeout_seconds()`.

Every message carries its delivery's id, the same on every attempt (the email's Message-ID,
`X-Jembatan-Delivery`), so that a receiver can recognise a message it already has: after a
crash between sending and recording, the message is sent again with the same id.
"""
import hashlib
import hmac
import ipaddress
import json
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from jinja2 import Environment, StrictUndefined

from shared import config

USER_AGENT = "Jembatan/1 (+notifications)"
SIGNATURE_HEADER = "X-Jembatan-Signature"


class SendFailed(Exception):
    """An attempt that did not deliver; the message says why (kept with the attempt)."""


# -- email ------------------------------------------------------------------------------------------

def smtp_settings(url):
    """Host, port, TLS mode, login and CA file of `smtp://user:pass@host:587?starttls=true` or
    `smtps://user:pass@host:465` (`?cafile=/path` trusts a private CA)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("JEMBATAN_SMTP_URL is smtp://[user:pass@]host[:port][?starttls=true] "
                         "or smtps://[user:pass@]host[:port]")
    options = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    tls = "implicit" if parts.scheme == "smtps" else (
        "starttls" if options.get("starttls", "false").lower() in ("1", "true", "yes") else None)
    return {"host": parts.hostname, "port": parts.port or (465 if tls == "implicit" else 25),
            "tls": tls, "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "cafile": options.get("cafile")}


def email_message(delivery_id, event_type, to_name, to_address, subject, body, lang):
    sender = config.mail_from()
    domain = parseaddr(sender)[1].rpartition("@")[2] or "jembatan.localhost"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((to_name, to_address))
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = f"<{delivery_id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Jembatan-Delivery"] = delivery_id
    message["X-Jembatan-Event"] = event_type
    message.set_content(body, charset="utf-8")
    message["Content-Language"] = lang  # after the content, which sets the Content-* headers
    return message


def send_email(message):
    settings = smtp_settings(config.smtp_url())
    timeout = config.send_timeout_seconds()
    context = ssl.create_default_context(cafile=settings["cafile"])
    try:
        if settings["tls"] == "implicit":
            client = smtplib.SMTP_SSL(settings["host"], settings["port"], timeout=timeout,
                                      context=context)
        else:
            client = smtplib.SMTP(settings["host"], settings["port"], timeout=timeout)
        with client:
            if settings["tls"] == "starttls":
                client.starttls(context=context)
            if settings["username"]:
                client.login(settings["username"], settings["password"] or "")
            refused = client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendFailed(f"SMTP {settings['host']}:{settings['port']}: "
                         f"{type(exc).__name__}: {exc}"[:500]) from None
    if refused:
        raise SendFailed(f"SMTP refused {', '.join(refused)}")
    return f"SMTP {settings['host']}:{settings['port']} accepted"


# -- SMS and WhatsApp through a provider's HTTP API ------------------------------------------------

_gateway_templates = Environment(undefined=StrictUndefined, autoescape=False)
DEFAULT_GATEWAY_BODY = ('{"to": {{ to|tojson }}, "text": {{ text|tojson }}, '
                        '"reference": {{ delivery_id|tojson }}}')


def gateway_request(channel, delivery_id, phone, text):
    """(url, headers, body) of the provider's request: its body is the configured template
    (Jinja2; `to` is +62…, `to_digits` 62…, `text`, `delivery_id`, `channel`)."""
    gateway = config.message_gateway(channel)
    template = _gateway_templates.from_string(gateway["body"] or DEFAULT_GATEWAY_BODY)
    body = template.render(to=phone, to_digits=phone.lstrip("+"), text=text,
                           delivery_id=delivery_id, channel=channel)
    headers = {"Content-Type": gateway["content_type"], "User-Agent": USER_AGENT,
               "X-Jembatan-Delivery": delivery_id, "Idempotency-Key": delivery_id}
    if gateway["auth"]:
        headers["Authorization"] = gateway["auth"]
    return gateway["url"], headers, body.encode("utf-8")


def post(url, headers, body, what):
    """POST, without following redirects: a 2xx answer is delivered, anything else is not."""
    try:
        answer = requests.post(url, data=body, headers=headers, allow_redirects=False,
                               timeout=config.send_timeout_seconds())
    except requests.RequestException as exc:
        raise SendFailed(f"{what}: {type(exc).__name__}: {exc}"[:500]) from None
    if not 200 <= answer.status_code < 300:
        raise SendFailed(f"{what}: HTTP {answer.status_code} {answer.text[:200]}")
    return f"{what}: HTTP {answer.status_code}"


def send_text(channel, delivery_id, phone, text):
    url, headers, body = gateway_request(channel, delivery_id, phone, text)
    return post(url, headers, body, f"{channel} gateway")


# -- webhooks ---------------------------------------------------------------------------------------

def signature(secret, timestamp, body):
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (the receiver's recipe:
    docs/api.md, "Webhooks")."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body,
                   hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def private_address(host):
    """Whether a host is, or resolves to, an address inside (loopback, private, link-local,
    reserved): a webhook may not reach those unless the deployment allows it."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False  # it does not resolve: the attempt fails on its own
    return any(not ipaddress.ip_address(address.split("%")[0]).is_global
               for address in addresses)


def send_webhook(url, secret, event_type, delivery_id, payload):
    host = urlsplit(url).hostname or ""
    if not config.webhooks_may_reach_private_addresses() and private_address(host):
        raise SendFailed(f"webhook: {host} is a private address (JEMBATAN_WEBHOOKS_ALLOW_PRIVATE)")
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
               "X-Jembatan-Event": event_type, "X-Jembatan-Delivery": delivery_id,
               SIGNATURE_HEADER: signature(secret, int(time.time()), body)}
    return post(url, headers, body, "webhook")
