"""The real RabbitMQ for tests: a vhost of their own, and polling with a deadline."""
import os
import socket
import time
import uuid
from urllib.parse import quote, urlsplit

import requests
from kombu import Connection

MANAGEMENT = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://localhost:15672")
# A broker administrator: guest on Debian's RabbitMQ; with docker-compose.yml's broker, set
# RABBITMQ_ADMIN_USER and RABBITMQ_ADMIN_PASSWORD as its rabbitmq service has them.
BROKER_USER = (os.environ.get("RABBITMQ_ADMIN_USER", "guest"),
               os.environ.get("RABBITMQ_ADMIN_PASSWORD", "guest"))


def eventually(check, timeout=15.0, interval=0.05):
    """Poll `check` until it returns a truthy value (returned) or stops raising AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
            failure = AssertionError(f"still falsy: {result!r}")
        except AssertionError as exc:
            failure = exc
        if time.monotonic() > deadline:
            raise failure
        time.sleep(interval)


def queue_counts(amqp_uri, queue):
    """What the broker says of a queue of the vhost of `amqp_uri`: (messages ready, messages
    delivered but not acknowledged). From its statistics, which lag a few seconds."""
    vhost = quote(urlsplit(amqp_uri).path.lstrip("/"), safe="")
    found = requests.get(f"{MANAGEMENT}/api/queues/{vhost}/{queue}", auth=BROKER_USER,
                         timeout=10).json()
    return found.get("messages_ready"), found.get("messages_unacknowledged")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Vhost:
    """A RabbitMQ virtual host of its own, removed afterwards: on this machine's broker, or on a
    cluster (`management`: the management API of one of its nodes; `ports`: each node's AMQP
    port on this machine)."""

    def __init__(self, management=MANAGEMENT, admin=BROKER_USER, ports=(5672,)):
        self.name = f"jembatan-test-{uuid.uuid4().hex[:10]}"
        self.management, self.admin, self.ports = management, admin, ports

    def create(self):
        response = requests.put(f"{self.management}/api/vhosts/{self.name}", auth=self.admin,
                                timeout=10)
        response.raise_for_status()
        requests.put(f"{self.management}/api/permissions/{self.name}/{self.admin[0]}",
                     auth=self.admin, json={"configure": ".*", "write": ".*", "read": ".*"},
                     timeout=10).raise_for_status()
        self.uri = self.uri_of(*self.admin)
        return self.uri

    def uri_of(self, user, password):
        """The AMQP URI of `user` on this vhost: with several nodes, a URL per node separated
        by ';', which kombu tries in turn (failover)."""
        user, password = (quote(part, safe="") for part in (user, password))
        return ";".join(f"amqp://{user}:{password}@127.0.0.1:{port}/{self.name}"
                        for port in self.ports)

    def messages_in(self, queue):
        """How many messages wait in a queue (asked of the broker itself, not its statistics)."""
        with Connection(self.uri) as connection:
            return connection.default_channel.queue_declare(queue, passive=True).message_count

    def delete(self):
        requests.delete(f"{self.management}/api/vhosts/{self.name}", auth=self.admin, timeout=10)
