"""Each service's own RabbitMQ user, allowed only what that service uses.

No service connects as `guest` or as an administrator. The topology (every exchange and
queue) is declared by an administrator first (`jembatan broker users` does both); then each
service may touch only its own queues — consume from them, bind them — and publish only:

* on `jembatan.events`, the events it produces (`shared.messaging.PUBLICATIONS`): the
  the notifications service publishes none, the gateway only `actor_changed`;
* on `nameko-rpc`, the gateway only calls the services' methods, and the services only reply
  (to a reply queue, whose routing key is a UUID);
* on `jembatan.retry`, a failed message into its own retry queues; on `jembatan.dead-letter`,
  a message it gives up on.

It may neither read nor bind another service's queue, nor publish through the default
exchange. So a service's credentials, were they stolen, let nobody read another service's
messages, publish another service's events or call a service as the gateway; and every message
must also carry its signature (shared/signing.py).
"""
import re
from urllib.parse import quote

import requests

from shared import config
from shared.messaging import EVENTS_EXCHANGE, EXCHANGES, PUBLICATIONS, RETRY_EXCHANGE

RPC_EXCHANGE = "nameko-rpc"
EXCHANGE_NAMES = [exchange.name for exchange in EXCHANGES] + [RPC_EXCHANGE]
NOTHING = "^$"


def permissions(service):
    """(configure, write, read) regular expressions of a service's user: the exchanges, and its
    own queues (the dead-letter queue, `jembatan.dead-letters`, is no service's)."""
    exchanges = "|".join(re.escape(name) for name in EXCHANGE_NAMES)
    own = rf"jembatan\.{service}\..*|rpc-{service}|rpc\.reply-{service}-.*"
    allowed = f"^({exchanges}|{own})$"
    return allowed, allowed, allowed


def topic_permissions(service):
    """{topic exchange: the routing keys the service may publish with}."""
    published = PUBLICATIONS.get(service, ())
    events = f"^({'|'.join(map(re.escape, published))})$" if published else NOTHING
    if service == "gateway":
        calls = rf"^({'|'.join(s for s in config.SERVICES if s != 'gateway')})\.[a-z_]+$"
    else:
        calls = "^[0-9a-f-]{36}$"  # replies only
    return {EVENTS_EXCHANGE.name: events, RPC_EXCHANGE: calls,
            RETRY_EXCHANGE.name: rf"^jembatan\.{service}\.delay-[0-9]+ms$"}


def user_name(service, prefix="jembatan"):
    return f"{prefix}-{service}"


def ensure_users(management_url, admin, vhost, passwords, prefix="jembatan"):
    """Create (or update) each service's user in `vhost` with its permissions; `passwords`
    maps service -> password, `admin` is (user, password) of a management administrator."""
    api = management_url.rstrip("/") + "/api"
    where = quote(vhost, safe="")
    for service, password in passwords.items():
        name = quote(user_name(service, prefix), safe="")
        configure, write, read = permissions(service)
        calls = [
            (f"{api}/users/{name}", {"password": password, "tags": ""}),
            (f"{api}/permissions/{where}/{name}",
             {"configure": configure, "write": write, "read": read}),
        ] + [(f"{api}/topic-permissions/{where}/{name}",
              {"exchange": exchange, "write": keys, "read": ".*"})
             for exchange, keys in topic_permissions(service).items()]
        for url, body in calls:
            requests.put(url, json=body, auth=admin, timeout=10).raise_for_status()


def delete_users(management_url, admin, services, prefix="jembatan"):
    api = management_url.rstrip("/") + "/api"
    for service in services:
        requests.delete(f"{api}/users/{quote(user_name(service, prefix), safe='')}",
                        auth=admin, timeout=10)
