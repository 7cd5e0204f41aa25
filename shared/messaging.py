"""RabbitMQ topology, confirmed publishing and the event consumer of every service.

The holes nameko leaves (docs/decisions/0003) are closed here, once:

* every queue of every service exists (durable, quorum, delivery limit, dead-lettering)
  before anything is published or consumed, so no event meets a missing queue: an
  administrator declares them (`jembatan broker users`), or the first process whose broker
  user may (`require_topology`); one that may not refuses to start;
* events are published persistent, `mandatory`, with publisher confirms: a publish either
  reached a queue or raises, and the outbox row stays pending;
* a handler that raises is retried later: its message waits in a delay queue (1 s, then 5 s,
  30 s, 2 min) and comes back to its service's queue, so failing messages never hold up the
  ones behind them; past the last attempt, or when the message cannot be parsed, the message
  goes to the dead-letter queue with the reason and its original headers.
"""
import json
import logging
import socket
import time
import traceback
import uuid
from dataclasses import dataclass, field
from functools import partial

import amqp
import eventlet
from amqp.exceptions import AccessRefused, ChannelError, PreconditionFailed
from kombu import Connection, Exchange, Queue, binding, serialization
from kombu.exceptions import OperationalError
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, QueueConsumer
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, DEFAULT_SERIALIZER, LOGIN_METHOD_CONFIG_KEY,
    NON_PERSISTENT, SERIALIZER_CONFIG_KEY,
)
from nameko.rpc import (
    RPC_QUEUE_TEMPLATE, ReplyListener, Responder, Rpc as NamekoRpc, RpcConsumer, get_rpc_exchange,
)
from nameko.utils import sanitize_url

from shared import events, signing
from shared.events import InvalidEvent, iso, parse_event, utcnow

log = logging.getLogger(__name__)

# JSON is plain JSON between Jembatan's processes: kombu's own JSON would turn an object such
# as {"__type__": "datetime", …} that a client sent into something else on the way.
serialization.register("json", json.dumps, json.loads, content_type="application/json",
                       content_encoding="utf-8")

EVENTS_EXCHANGE = Exchange("jembatan.events", type="topic", durable=True)
DEAD_LETTER_EXCHANGE = Exchange("jembatan.dead-letter", type="fanout", durable=True)
DEAD_LETTER_QUEUE = Queue(
    "jembatan.dead-letters", exchange=DEAD_LETTER_EXCHANGE, durable=True,
    queue_arguments={"x-queue-type": "quorum"},
)
# Where a failed message is parked to wait: each retry queue is bound by its own name.
RETRY_EXCHANGE = Exchange("jembatan.retry", type="topic", durable=True)
EXCHANGES = (EVENTS_EXCHANGE, DEAD_LETTER_EXCHANGE, RETRY_EXCHANGE)

# Which events each service consumes. One durable queue per consuming service.
SUBSCRIPTIONS = {
    "requests": (events.ISSUE_REPORTED, events.ROUTING_DECIDED),
    "routing": (events.CASE_OPENED, events.TASK_DECLINED),
    "notifications": (
        events.CASE_OPENED, events.CASE_ROUTED, events.CASE_NEEDS_TRIAGE,
        events.TASK_ACCEPTED, events.TASK_DECLINED, events.TASK_PROGRESSED,
        events.TASK_COMPLETED, events.CASE_RESOLVED, events.CASE_REOPENED,
        events.CASE_CLOSED, events.COMMENT_ADDED, events.DEADLINE_MISSED,
        events.CASE_ESCALATED, events.CASE_CLOSING_SOON, events.CASE_CANCELLED,
        events.TASK_WITHDRAWN, events.LEAD_CHANGED, events.LIKELY_DUPLICATE,
        events.CASE_MERGED, events.DUPLICATE_MERGED, events.ACTOR_CHANGED,
    ),
}

# Which events each service publishes (the broker lets each service's user publish only these).
PUBLICATIONS = {
    "villages": (events.ISSUE_REPORTED,),
    "routing": (events.ROUTING_DECIDED,),
    "requests": tuple(t for t in events.EVENT_TYPES if t not in (
        events.ISSUE_REPORTED, events.ROUTING_DECIDED, events.ACTOR_CHANGED)),
    "gateway": (events.ACTOR_CHANGED,),
}

# A message redelivered this many times (each time its consumer died holding it) is
# dead-lettered by the broker itself.
DELIVERY_LIMIT = 10
# How long a failed message waits before each further attempt; after the last, dead letters.
# Together they outlast a database restart or a deploy (about two and a half minutes).
RETRY_DELAYS_SECONDS = (1, 5, 30, 120)
ATTEMPT_HEADER = "x-jembatan-attempt"
DEAD_LETTER_ID_HEADER = "x-jembatan-dead-letter-id"
CONFIRM_TIMEOUT_SECONDS = 10


def handler_attempts():
    return len(RETRY_DELAYS_SECONDS) + 1


def retry_queue(service, delay):
    """Where a failed message of `service` waits `delay` seconds, then returns to its queue.

    A quorum queue, like every queue that outlives its connection: in a cluster, a classic
    queue is on one node, and while that node is down a message routed to it is confirmed
    and lost. The expired message moves on `at-least-once` (RabbitMQ 3.10+), which needs the
    overflow `reject-publish`; nothing is rejected, as the queue has no length limit. (These
    were classic queues named `…retry-<ms>ms` before: docs/deployment.md, "Upgrading".)
    """
    milliseconds = int(delay * 1000)
    name = f"jembatan.{service}.delay-{milliseconds}ms"
    return Queue(
        name, exchange=RETRY_EXCHANGE, routing_key=name, durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-message-ttl": milliseconds,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": f"jembatan.{service}.events",
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )


def event_queue(service):
    return Queue(
        f"jembatan.{service}.events",
        bindings=[binding(EVENTS_EXCHANGE, routing_key=t) for t in SUBSCRIPTIONS[service]],
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
        },
    )


def all_queues():
    return [DEAD_LETTER_QUEUE] + [
        queue for service in SUBSCRIPTIONS
        for queue in [event_queue(service)] + [retry_queue(service, delay)
                                               for delay in RETRY_DELAYS_SECONDS]]


HEARTBEAT_SECONDS = 30  # the AMQP heartbeat our connections ask for


def connect(amqp_uri, **options):
    return Connection(
        amqp_uri, heartbeat=HEARTBEAT_SECONDS, connect_timeout=5,
        transport_options={"confirm_publish": True, "confirm_timeout": CONFIRM_TIMEOUT_SECONDS},
        **options,
    )


def declare_topology(connection):
    """Declare the exchanges, every service's queues and the dead-letter queue (idempotent):
    it takes a broker user that may (an administrator's, or a single-user setup's)."""
    channel = connection.channel()
    try:
        for exchange in EXCHANGES:
            exchange(channel).declare()
        for queue in all_queues():
            try:
                queue(channel).declare()
            except PreconditionFailed as exc:
                raise queue_of_another_version(connection, queue.name, exc) from None
    finally:
        if channel.is_open:
            channel.close()


def queue_of_another_version(connection, name, refusal):
    """The error that says what to do with a queue the broker holds with other arguments than
    this version declares it with (RabbitMQ refuses such a declaration, `refusal`)."""
    return ConnectionError(
        f"the broker's queue {name} was declared by an earlier version of Jembatan (or by hand) "
        f"with other arguments ({refusal.reply_text}). Stop every Jembatan process, move what "
        f"it holds elsewhere if anything, delete it once (`rabbitmqctl delete_queue -p "
        f"{connection.virtual_host} {name}`) and start again; docs/deployment.md, \"Upgrading "
        "a deployment from before the cluster\", tells more")


def missing_queues(connection):
    """The queues of the topology that do not exist (asked without declaring anything)."""
    missing = []
    for queue in all_queues():
        channel = connection.channel()
        try:
            channel.queue_declare(queue.name, passive=True)
        except ChannelError:
            missing.append(queue.name)
        finally:
            if channel.is_open:
                channel.close()
    return missing


def require_topology(connection):
    """Every queue exists before this process publishes or consumes, so that no event is
    routed to some of its consumers and not to others: declare what is missing, if this
    process's broker user may; if not, refuse to start."""
    if not missing_queues(connection):
        return
    try:
        declare_topology(connection)
    except AccessRefused as exc:
        raise ConnectionError(
            f"the broker's queues are not declared, and this broker user may not declare them "
            f"({exc}); run `jembatan broker users` as a RabbitMQ administrator first") from None


# nameko's queue of a service's calls, `rpc-<service>`, is a quorum queue (ResilientRpcConsumer).
RPC_QUEUE_ARGUMENTS = {"x-queue-type": "quorum"}


def queues_consumed_by(service):
    """[(name, arguments)] of the queues `service` consumes: its calls' (every service but the
    gateway, which calls), its events' and their delay queues (those that consume events)."""
    queues = [] if service == "gateway" else [(RPC_QUEUE_TEMPLATE.format(service),
                                               RPC_QUEUE_ARGUMENTS)]
    if service in SUBSCRIPTIONS:
        queues += [(queue.name, queue.queue_arguments) for queue in
                   [event_queue(service)] + [retry_queue(service, delay)
                                             for delay in RETRY_DELAYS_SECONDS]]
    return queues


def require_queues_of_this_version(connection, service):
    """Refuse to start, saying what to do, when a queue `service` consumes exists with other
    arguments than this version's (the classic `rpc-<service>` of a version from before the
    cluster, say): RabbitMQ would refuse every declaration of it, and the service would only
    try to set up its consumers again and again."""
    for name, arguments in queues_consumed_by(service):
        channel = connection.channel()
        try:
            channel.queue_declare(name, durable=True, auto_delete=False, arguments=arguments)
        except PreconditionFailed as exc:
            raise queue_of_another_version(connection, name, exc) from None
        finally:
            if channel.is_open:
                channel.close()


def check_broker(amqp_uri, timeout=5):
    """Raise ConnectionError with a helpful message when the broker cannot be reached."""
    connection = Connection(amqp_uri, connect_timeout=timeout)
    try:
        connection.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:  # kombu raises OperationalError, socket errors, auth errors
        raise ConnectionError(
            f"RabbitMQ is not reachable at {connection.as_uri()} ({exc}). "
            "Start a broker (Debian: `apt-get install rabbitmq-server && rabbitmq-server -detached`, "
            "or `docker compose up -d rabbitmq`) or point AMQP_URI at one."
        ) from exc
    finally:
        connection.release()


@dataclass
class Outgoing:
    """One message to publish: persistent, mandatory, confirmed."""

    body: bytes
    exchange: str
    routing_key: str
    message_id: str | None = None
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"
    content_encoding: str = "utf-8"


def event_message(body, event_type, event_id):
    """The message of an event envelope already serialised as `body` (a str), signed."""
    content = body.encode("utf-8")
    return Outgoing(content, EVENTS_EXCHANGE.name, event_type, event_id,
                    {signing.SIGNATURE_HEADER: signing.signature(content)})


class NotConfirmed(Exception):
    """The broker did not take a message: unroutable (no queue), refused, or no answer."""


class EventPublisher:
    """Publishes to the broker with publisher confirms, many messages at a time.

    A batch is written to the channel at once and its confirms are awaited together (one
    round trip for the batch, not one per message); a message is taken only when the broker
    confirmed it and did not return it as unroutable (`mandatory`). One connection per
    publisher, used by one greenthread at a time; while it is open, a greenthread of its own
    keeps it alive (heartbeats), so that a publisher idle for minutes still publishes at once.
    """

    def __init__(self, amqp_uri):
        self.amqp_uri = amqp_uri
        self._connection = None
        self._channel = None
        self._lock = eventlet.semaphore.Semaphore()
        self._declared = False
        self._beating = None     # the greenthread that keeps the open connection alive
        self._next_tag = 1
        self._unconfirmed = {}   # delivery tag -> message id
        self._refused = set()    # message ids returned or nacked

    def _open(self):
        if self._channel is None:
            self._connection = Connection(self.amqp_uri, heartbeat=HEARTBEAT_SECONDS,
                                          connect_timeout=5)
            self._connection.ensure_connection(max_retries=3)
            self._beating = eventlet.spawn(self._beat)
            if not self._declared:
                require_topology(self._connection)
                self._declared = True
            channel = self._connection.channel()
            channel.confirm_select()
            channel.events["basic_ack"].add(self._acknowledged)
            channel.events["basic_nack"].add(self._refused_by_broker)
            channel.events["basic_return"].add(self._returned)
            self._channel, self._next_tag = channel, 1
        return self._channel

    def _settled(self, delivery_tag, multiple):
        tags = ([t for t in self._unconfirmed if t <= delivery_tag] if multiple
                else [delivery_tag])
        return [self._unconfirmed.pop(t) for t in tags if t in self._unconfirmed]

    def _acknowledged(self, delivery_tag, multiple):
        self._settled(delivery_tag, multiple)

    def _refused_by_broker(self, delivery_tag, multiple):
        self._refused.update(self._settled(delivery_tag, multiple))

    def _returned(self, exc, exchange, routing_key, message):
        # The broker returns an unroutable message before it confirms it.
        self._refused.add(message.properties.get("message_id"))

    def publish_many(self, messages):
        """Publish `messages` (Outgoing), waiting for the broker's confirms of all of them;
        the ids of those the broker took. Raises when the connection fails."""
        with self._lock:
            try:
                channel = self._open()
                self._refused.clear()
                for message in messages:
                    channel.basic_publish(
                        amqp.Message(message.body, delivery_mode=2,
                                     content_type=message.content_type,
                                     content_encoding=message.content_encoding,
                                     message_id=message.message_id,
                                     application_headers=message.headers),
                        exchange=message.exchange, routing_key=message.routing_key,
                        mandatory=True)
                    self._unconfirmed[self._next_tag] = message.message_id
                    self._next_tag += 1
                deadline = time.monotonic() + CONFIRM_TIMEOUT_SECONDS
                while self._unconfirmed:
                    self._connection.drain_events(timeout=max(0.01, deadline - time.monotonic()))
            except Exception:
                self.close()
                raise
            return [m.message_id for m in messages if m.message_id not in self._refused]

    def publish(self, envelope):
        """Publish one event envelope, routed by its type, signed (shared/signing.py)."""
        self.publish_one(event_message(json.dumps(envelope), envelope["type"],
                                       envelope["event_id"]))

    def publish_one(self, message):
        if message.message_id is None:
            message.message_id = uuid.uuid4().hex
        if not self.publish_many([message]):
            raise NotConfirmed(f"the broker did not take the message for {message.exchange!r} "
                               f"/ {message.routing_key!r} (no queue, or refused)")

    def publish_raw(self, body, exchange, routing_key, headers=None, message_id=None,
                    content_type="application/json", content_encoding="utf-8"):
        """Publish a body as it is: persistent, mandatory, confirmed; raises if not taken."""
        if isinstance(body, str):
            body = body.encode(content_encoding or "utf-8")
        exchange = exchange.name if isinstance(exchange, Exchange) else exchange
        self.publish_one(Outgoing(body, exchange, routing_key, message_id, dict(headers or {}),
                                  content_type or "application/octet-stream",
                                  content_encoding or "binary"))

    def keep_alive(self):
        """Read what the broker sent meanwhile (its heartbeats) and send ours when one is due,
        so that neither side takes an idle connection for a dead one."""
        with self._lock:
            if self._connection is None:
                return
            try:
                while True:
                    self._connection.drain_events(timeout=0.01)
            except socket.timeout:  # nothing more to read
                pass
            except Exception:  # gone: the next publish connects again
                self.close()
                return
            try:
                self._connection.heartbeat_check()
            except Exception:
                self.close()

    def _beat(self):
        while self._beating is eventlet.getcurrent():  # until its connection is closed
            eventlet.sleep(HEARTBEAT_SECONDS / 4)
            self.keep_alive()

    def declare(self):
        with self._lock:
            try:
                self._open()
            except Exception:
                self.close()
                raise

    def messages_waiting(self, queue):
        """How many messages wait in a queue (the dead letters, for health)."""
        with self._lock:
            try:
                return self._open().queue_declare(queue.name, passive=True).message_count
            except Exception:
                self.close()
                raise

    def close(self):
        beating, self._beating = self._beating, None
        if beating is not None and beating is not eventlet.getcurrent():
            beating.kill()
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # already broken: nothing left to release
                pass
        self._connection = self._channel = None
        self._declared = False  # a new connection may find a broker that lost the topology
        self._unconfirmed.clear()


class Acknowledgements:
    """The acknowledgements of one consuming channel, sent in groups.

    A message is acknowledged once its handler has finished (committed) — never before. What
    finishes within one turn of the event loop is acknowledged together: the messages below
    the oldest one still being handled by one `basic.ack` with `multiple` (it acknowledges
    every message delivered up to that one that is not acknowledged yet, so it must not reach
    one still being handled), the others each by their own, as before. Under load that is one
    frame for many messages, for the consumer and for the broker.
    """

    def __init__(self):
        self._channel = None
        self._handling = set()  # delivery tags of the channel given to a handler, not finished
        self._finished = []  # finished, to acknowledge
        self._flush_due = False

    def received(self, message):
        """A message is given to its handler."""
        if message.channel is not self._channel:  # a new connection: its tags start again
            self._channel, self._handling, self._finished = message.channel, set(), []
        self._handling.add(message.delivery_tag)

    def settled(self, message):
        """A message was handed back to the broker (requeued): nothing to acknowledge."""
        if message.channel is self._channel:
            self._handling.discard(message.delivery_tag)

    def finished(self, message):
        """A message's handler finished: acknowledge it (at the end of this turn)."""
        if message.channel is not self._channel:
            return self._ack(message.channel, message.delivery_tag, multiple=False)
        self._handling.discard(message.delivery_tag)
        self._finished.append(message.delivery_tag)
        self._flush_soon()

    def _flush_soon(self):
        if not self._flush_due:
            self._flush_due = True
            eventlet.spawn_n(self.flush)

    def flush(self):
        """Acknowledge what finished; one flush at a time (sending may wait on the socket, and
        what finishes meanwhile is sent next, from the state as it is then), on the channel it
        started with (another connection's tags start again: never send them an old tag)."""
        channel = self._channel
        try:
            while self._finished and self._channel is channel:
                finished, self._finished = self._finished, []
                oldest_handled = min(self._handling, default=None)
                below = [tag for tag in finished
                         if oldest_handled is None or tag < oldest_handled]
                if below:
                    self._ack(channel, max(below), multiple=True)
                for tag in finished:
                    if oldest_handled is not None and tag > oldest_handled:
                        self._ack(channel, tag, multiple=False)
        finally:
            self._flush_due = False
            if self._finished:  # a new connection's, that came while this one was sending
                self._flush_soon()

    @staticmethod
    def _ack(channel, tag, multiple):
        # A closed channel's messages are given back by the broker (consumers are idempotent).
        if channel is None or not channel.connection:
            return
        try:
            channel.basic_ack(tag, multiple=multiple)
        except OSError as exc:
            log.warning("could not acknowledge (connection lost, it will be redelivered): %s", exc)


class ResilientQueueConsumer(QueueConsumer):
    """nameko's queue consumer, except that

    * a connection lost while acknowledging does not kill the service (nameko lets the socket
      error escape and the container dies): the broker gives back whatever was not
      acknowledged, and consumers are idempotent. The consumers are then set up again on a new
      connection, to the next node of AMQP_URI that answers;
    * acknowledgements are sent in groups (`Acknowledgements`)."""

    def __init__(self):
        super().__init__()
        self.acknowledgements = Acknowledgements()

    def handle_message(self, provider, body, message):
        self.acknowledgements.received(message)
        super().handle_message(provider, body, message)

    def ack_message(self, message):
        self.acknowledgements.finished(message)

    def requeue_message(self, message):
        self.acknowledgements.settled(message)
        try:
            super().requeue_message(message)
        except OSError as exc:
            log.warning("could not requeue (connection lost, it will be redelivered): %s", exc)

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        self.consuming_on = channel.connection  # py-amqp's, which kombu's would replace
        super().on_consume_ready(connection, channel, consumers, **kwargs)

    def on_iteration(self):
        # A write that failed (an acknowledgement, as a broker node goes away) marks the
        # connection lost; kombu then quietly opens another one (to the next node of AMQP_URI)
        # the next time it waits for a message, and waits there forever, the consumers left on
        # the lost one. Set them up again instead.
        if not self.consuming_on.connected:
            self.consuming_on.collect()  # what is left of it
            raise ConnectionResetError("the connection to the broker was lost")
        super().on_iteration()

    def on_connection_error(self, exc, interval):
        # nameko's own warning hides the password of the first node of AMQP_URI only
        log.warning("could not connect to the broker at %s (%s); retrying in %s s",
                    ";".join(map(sanitize_url, self.amqp_uri.split(";"))), exc, interval)


class SigningPublisher(Publisher):
    """Publishes an RPC answer with its signature (shared/signing.py).

    Without publisher confirms and not persistent: the answer goes to the caller's own
    transient queue, and a caller that gets none times out whatever the broker said."""

    use_confirms = False
    delivery_mode = NON_PERSISTENT

    def publish(self, payload, **kwargs):
        signature = signing.reply_signature(kwargs.get("correlation_id"), payload)
        kwargs["extra_headers"] = {**kwargs.get("extra_headers", {}),
                                   signing.SIGNATURE_HEADER: signature}
        return super().publish(payload, **kwargs)


class SignedResponder(Responder):
    publisher_cls = SigningPublisher


class ResilientRpcConsumer(RpcConsumer):
    queue_consumer = ResilientQueueConsumer()

    def setup(self):
        """nameko's queue of the service's calls, `rpc-<service>`, as a quorum queue: in a
        cluster it is still there when a node is down (see retry_queue)."""
        super().setup()
        self.queue.queue_arguments = RPC_QUEUE_ARGUMENTS

    def handle_result(self, message, result, exc_info):
        """Answer, signed; with the broker gone, give up the answer instead of the whole
        service. The call is acknowledged either way: it was carried out, and its caller, who
        has timed out by then, may not have it carried out again (left unacknowledged, it
        would also hold one of the consumer's prefetched messages until the connection
        ends)."""
        config = self.container.config
        responder = SignedResponder(
            config[AMQP_URI_CONFIG_KEY], get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        try:
            result, exc_info = responder.send_response(result, exc_info)
        except (OSError, OperationalError) as exc:
            log.warning("could not send an RPC reply (connection lost): %s", exc)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class UnsignedCall(Exception):
    """A call the gateway did not sign (or whose signature expired): it is not carried out."""


class Rpc(NamekoRpc):
    """nameko's @rpc on the resilient queue consumer, for calls signed by the gateway only
    (shared/signing.py): a call with a wrong, missing or expired signature is refused."""

    rpc_consumer = ResilientRpcConsumer()

    def handle_message(self, body, message):
        args, kwargs = ((body.get("args"), body.get("kwargs")) if isinstance(body, dict)
                        else (None, None))
        method = message.delivery_info.get("routing_key")
        if not (isinstance(args, list) and isinstance(kwargs, dict) and signing.call_is_signed(
                method, args, kwargs, kwargs.pop(signing.CALL_SIGNATURE, None))):
            log.warning("refused an unsigned or forged call of %s", method)
            raise UnsignedCall(f"{method}: the call is not signed, or its signature expired")
        return super().handle_message(body, message)


rpc = Rpc.decorator


class ResilientReplyListener(ReplyListener):
    """nameko's reply listener on the resilient queue consumer, taking only answers signed by
    the service that was called: a forged one is dropped (the call then times out)."""

    queue_consumer = ResilientQueueConsumer()

    def setup(self):
        """nameko's reply queue, but exclusive to its connection: when the node it is on
        stops, the listener declares it again on the node it connects to next (nameko's
        durable one could not be declared anywhere until that node is back)."""
        super().setup()
        self.queue.durable, self.queue.exclusive = False, True

    def handle_message(self, body, message):
        correlation_id = message.properties.get("correlation_id")
        if not signing.reply_is_signed(correlation_id, body,
                                       (message.headers or {}).get(signing.SIGNATURE_HEADER)):
            log.warning("dropped an unsigned or forged answer to call %s", correlation_id)
            self.queue_consumer.ack_message(message)
            return
        super().handle_message(body, message)


class DeadLetteringQueueConsumer(ResilientQueueConsumer):
    """nameko's queue consumer, except that a body it cannot decode is dead-lettered by its
    entrypoint instead of being logged and dropped."""

    def get_consumers(self, consumer_cls, channel):
        consumers = super().get_consumers(consumer_cls, channel)
        for provider, consumer in self._consumers.items():
            consumer.on_decode_error = partial(self._undecodable, provider)
        return consumers

    def _undecodable(self, provider, message, exc):
        self.acknowledgements.received(message)  # it is handled (parked) from here
        provider.undecodable(message, exc)


class EventConsumer(Consumer):
    """Consumes this service's event queue; the decorated method receives an `Event`.

    Usage: `@consume_events("requests")` on one method of the service, which dispatches by type.
    """

    queue_consumer = DeadLetteringQueueConsumer()

    def __init__(self, service, **kwargs):
        self.service = service
        self._parking = None
        super().__init__(queue=event_queue(service), requeue_on_error=False, **kwargs)

    def setup(self):
        super().setup()
        self._parking = EventPublisher(self.container.config["AMQP_URI"])

    def stop(self):
        super().stop()
        if self._parking is not None:
            self._parking.close()

    def handle_message(self, body, message):
        if not signing.valid(message.body if isinstance(message.body, bytes)
                             else str(message.body).encode("utf-8"),
                             (message.headers or {}).get(signing.SIGNATURE_HEADER)):
            self._dead_letter(message, "unsigned or forged event: its signature is not right")
            return
        try:
            event = parse_event(body)
        except InvalidEvent as exc:
            self._dead_letter(message, f"invalid event: {exc}")
            return
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0)) + 1
        try:
            self.container.spawn_worker(
                self, (event,), {}, context_data=self.unpack_message_headers(message),
                handle_result=partial(self._handled, event, message, attempt))
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def undecodable(self, message, exc):
        self._dead_letter(message, f"undecodable body: {exc}")

    def _handled(self, event, message, attempt, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
        elif attempt < handler_attempts():
            delay = RETRY_DELAYS_SECONDS[attempt - 1]
            log.warning("%s failed on %s %s (attempt %d), retrying in %ss: %s", self.service,
                        event.type, event.event_id, attempt, delay, exc_info[1])
            self._park(message, retry_queue(self.service, delay), {ATTEMPT_HEADER: attempt})
        else:
            reason = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
            self._dead_letter(message, f"handler failed {attempt} times: {reason}")
        return result, exc_info

    def _dead_letter(self, message, reason):
        """Park the message in the dead-letter queue with why, then let the next one flow."""
        log.error("dead-lettering a message of %s: %s", self.service, reason)
        self._park(message, DEAD_LETTER_QUEUE, {
            DEAD_LETTER_ID_HEADER: uuid.uuid4().hex[:12],
            "x-jembatan-reason": reason[:2000],
            "x-jembatan-queue": self.queue.name,
            "x-jembatan-consumer": self.service,
            "x-jembatan-failed-at": iso(utcnow()),
            "x-jembatan-host": socket.gethostname(),
        })

    def _park(self, message, queue, extra_headers):
        """Move the message, with its headers and `extra_headers`, to `queue`; ack it here."""
        headers = dict(message.headers or {})
        headers.pop("x-death", None)  # the broker's own record of earlier trips
        headers.setdefault("x-jembatan-original-routing-key", message.delivery_info.get("routing_key"))
        headers.update(extra_headers)
        try:
            self._parking.publish_raw(
                message.body, exchange=queue.exchange, routing_key=queue.name, headers=headers,
                message_id=message.properties.get("message_id"),
                content_type=message.content_type, content_encoding=message.content_encoding)
        except Exception:
            log.exception("could not move a message to %s; it goes back to its queue", queue.name)
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)


consume_events = EventConsumer.decorator
