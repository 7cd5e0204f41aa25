"""The operator's view of the dead-letter queue: list, show and replay (`jembatan dlq`).

A message lands there when its handler failed on every attempt, when it could not be read, or
when its consumer died holding it too often (the broker's delivery limit). Once the cause is
fixed, replay sends it back to the queue it came from, as if new.
"""
import hashlib
from dataclasses import dataclass

from shared.signing import SIGNATURE_HEADER
from shared.messaging import (
    DEAD_LETTER_ID_HEADER, DEAD_LETTER_QUEUE, EventPublisher, connect, declare_topology,
)

BROWSE_LIMIT = 100_000


@dataclass
class DeadLetter:
    id: str
    queue: str
    routing_key: str
    reason: str
    failed_at: str
    headers: dict
    body: bytes
    content_type: str
    content_encoding: str
    message_id: str | None

    def summary(self):
        return {"id": self.id, "queue": self.queue, "routing_key": self.routing_key,
                "reason": self.reason, "failed_at": self.failed_at}


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def read(message):
    """A dead letter from a message of the dead-letter queue, whoever put it there."""
    headers = dict(message.headers or {})
    deaths = headers.get("x-death") or [{}]
    body = message.body if isinstance(message.body, bytes) else message.body.encode()
    return DeadLetter(
        id=headers.get(DEAD_LETTER_ID_HEADER) or message.properties.get("message_id")
        or hashlib.sha1(body).hexdigest()[:12],
        queue=_text(headers.get("x-jembatan-queue") or deaths[0].get("queue", "?")),
        routing_key=_text(headers.get("x-jembatan-original-routing-key")
                          or (deaths[0].get("routing-keys") or ["?"])[0]),
        reason=_text(headers.get("x-jembatan-reason") or f"broker: {deaths[0].get('reason', '?')}"),
        failed_at=_text(headers.get("x-jembatan-failed-at") or deaths[0].get("time", "?")),
        headers=headers, body=body, content_type=message.content_type,
        content_encoding=message.content_encoding,
        message_id=message.properties.get("message_id"))


def _each(amqp_uri, visit):
    """Take every dead letter in turn; `visit(letter)` says whether to remove it (ack).

    The rest go back to the queue, in their order, when the channel closes.
    """
    connection = connect(amqp_uri)
    try:
        declare_topology(connection)
        channel = connection.channel()
        queue = DEAD_LETTER_QUEUE.bind(channel)
        for _ in range(BROWSE_LIMIT):
            message = queue.get(no_ack=False, accept=None)
            if message is None:
                break
            if visit(read(message)):
                message.ack()
        channel.close()
    finally:
        connection.release()


def list_all(amqp_uri):
    letters = []

    def keep(letter):
        letters.append(letter)
        return False  # only looking: it stays in the queue

    _each(amqp_uri, keep)
    return letters


def find(amqp_uri, letter_id):
    return next((letter for letter in list_all(amqp_uri) if letter.id == letter_id), None)


def replay(amqp_uri, ids=None):
    """Send dead letters (those of `ids`, or all) back to their queues; returns their ids."""
    publisher = EventPublisher(amqp_uri)
    replayed = []

    def send_back(letter):
        if ids is not None and letter.id not in ids:
            return False
        headers = {key: value for key, value in letter.headers.items()  # a signature stays
                   if key == SIGNATURE_HEADER or not key.startswith("x-jembatan-")
                   and key != "x-death"}
        headers["x-jembatan-original-routing-key"] = letter.routing_key
        publisher.publish_raw(letter.body, exchange="", routing_key=letter.queue,
                              headers=headers, message_id=letter.message_id,
                              content_type=letter.content_type,
                              content_encoding=letter.content_encoding)
        replayed.append(letter.id)
        return True

    try:
        _each(amqp_uri, send_back)
    finally:
        publisher.close()
    return replayed

