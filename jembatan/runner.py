"""Starting services: one in this process (`run`), or all of them as child processes (`up`)."""
import importlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time

import eventlet
from nameko.runners import ServiceRunner

from shared import config
from shared.errors import ClientErrorsAreInfo
from shared.messaging import (
    check_broker, connect, require_queues_of_this_version, require_topology,
)

log = logging.getLogger("jembatan")

SERVICE_CLASSES = {
    "villages": "services.villages.service:VillagesService",
    "requests": "services.requests.service:RequestsService",
    "routing": "services.routing.service:RoutingService",
    "notifications": "services.notifications.service:NotificationsService",
    "gateway": "services.gateway.service:GatewayService",
}
STOP_GRACE_SECONDS = 20
START_POLL_SECONDS = 0.2  # how often a starting service looks whether it was asked to stop
START_GRACE_SECONDS = 5    # how long, once asked to stop, it lets a start under way finish


def service_class(name):
    module, _, attribute = SERVICE_CLASSES[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def configure_logging(label=None):
    """Log lines to stderr; a service's lines carry its `label` (`requests`, `requests#2`)."""
    logging.basicConfig(
        level=os.environ.get("JEMBATAN_LOG_LEVEL", "INFO"), stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s {label + ' ' if label else ''}%(name)s: %(message)s")
    logging.getLogger("nameko.containers").addFilter(ClientErrorsAreInfo())


def prepare_broker(service=None):
    """Fail fast with a clear message when RabbitMQ is unreachable, or its queues are not
    declared and may not be by this broker user (shared.messaging.require_topology), or a
    queue `service` consumes is an earlier version's."""
    check_broker(config.amqp_uri())
    connection = connect(config.amqp_uri())
    try:
        require_topology(connection)
        if service is not None:
            require_queues_of_this_version(connection, service)
    finally:
        connection.release()


def replica_label(name, replica):
    return name if replica is None else f"{name}#{replica}"


def run_service(name, replica=None):
    """Run one service in this process until SIGTERM or Ctrl-C, then stop it cleanly.

    `replica` numbers one of several processes of the service: a gateway replica shares the
    HTTP port with the others (SO_REUSEPORT, set by eventlet.listen), so the port is checked
    only for a gateway that is not one."""
    label = replica_label(name, replica)
    configure_logging(label)
    if name == "gateway" and replica is None:
        check_port_free(config.http_port())
    prepare_broker(name)
    runner = ServiceRunner(config.nameko_config(name))
    runner.add_service(service_class(name))
    stopping = eventlet.event.Event()
    stop_requested = []

    def request_stop(signum, _frame):
        if not stopping.ready() and not stop_requested:
            stop_requested.append(signum)
            log.info("stopping (signal %s)", signum)
            eventlet.spawn_n(stopping.send, True)

    def watch_container():
        """A container that dies (nameko kills it on an error it cannot handle) ends the
        process, so that whoever supervises it (jembatan up, compose) starts it again."""
        try:
            runner.wait()
        except Exception:  # the container's own error, already logged by nameko
            log.exception("the service died")
        if not stop_requested:
            died.append(name)
            stopping.send(True)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # A start waits until every consumer is set up, which may never happen (a permission
    # missing on a queue: nameko tries again and again): a stop asked for meanwhile ends it,
    # once a start under way had START_GRACE_SECONDS to finish.
    starting = eventlet.spawn(runner.start)
    while not (starting.dead or stopping.ready()):
        eventlet.sleep(START_POLL_SECONDS)
    with eventlet.Timeout(START_GRACE_SECONDS, False):  # a start under way may finish first
        while not starting.dead:
            eventlet.sleep(START_POLL_SECONDS)
    if not starting.dead:
        starting.kill()
        runner.kill()
        sys.exit(f"{label}: stopped before it had started (its consumers could not be set up; "
                 "the lines above say why)")
    starting.wait()  # what the start raised, if it failed
    died = []
    eventlet.spawn_n(watch_container)
    log.info("started (pid %s)", os.getpid())
    stopping.wait()
    if died:
        runner.kill()
        sys.exit(f"{label}: stopped after an unrecoverable error; start it again")
    try:
        with eventlet.Timeout(STOP_GRACE_SECONDS):
            runner.stop()
    except eventlet.Timeout:
        log.warning("in-flight work did not finish in %ss; killing", STOP_GRACE_SECONDS)
        runner.kill()
    log.info("stopped")


def check_port_free(port):
    """Refuse to start when the HTTP port is taken (the gateway would fail over and over)."""
    # Bound without SO_REUSEPORT: the gateway's own socket has it, and would otherwise share.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError as exc:
            raise ConnectionError(f"port {port} is already in use ({exc.strerror}); stop what "
                                  "uses it or choose another with --port") from None


def parse_replicas(text):
    """`jembatan up --replicas` (JEMBATAN_REPLICAS): how many processes of each service.

    "2" runs two of every service; "gateway=2,requests=3" those, and one of the others;
    "2,gateway=1" two of every service but the gateway. Raises ValueError naming the bad part.
    """
    every, named = 1, {}
    for part in (part.strip() for part in str(text).split(",")):
        service, _, count = part.rpartition("=")
        service = service.strip()
        if service and service not in config.SERVICES:
            raise ValueError(f"{service!r} is not a service ({', '.join(config.SERVICES)})")
        try:
            number = int(count)
        except ValueError:
            number = 0
        if number < 1:
            raise ValueError(f"{part!r}: the number of processes must be a whole number, 1 or more")
        if service:
            named[service] = number
        else:
            every = number
    return {service: named.get(service, every) for service in config.SERVICES}


class Supervisor:
    """`jembatan up`: `replicas` processes of every service (parse_replicas), each a child
    process named `service#n`; one that dies is started again."""

    def __init__(self, replicas=None):
        self.replicas = replicas or parse_replicas("1")
        self.children = {}  # (service, n) -> its process
        self.stopping = False

    def spawn(self, service, replica):
        self.children[(service, replica)] = subprocess.Popen(
            [sys.executable, "-m", "jembatan", "run", service, "--replica", str(replica)])

    def run(self):
        configure_logging()
        check_port_free(config.http_port())  # once: the gateway replicas then share it
        prepare_broker()
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for service, count in self.replicas.items():
            for replica in range(1, count + 1):
                self.spawn(service, replica)
        log.info("Jembatan is starting: http://localhost:%s/api/v1/health", config.http_port())
        restarts = dict.fromkeys(self.children, 0)
        due = {}  # (service, n) -> when to start that one again
        while not self.stopping:
            now = time.monotonic()
            for key, child in self.children.items():
                if key not in due and child.poll() is not None:
                    restarts[key] += 1
                    delay = min(restarts[key], 10)
                    log.error("%s exited with %s; starting it again in %s s",
                              replica_label(*key), child.returncode, delay)
                    due[key] = now + delay
            for key, when in list(due.items()):
                if when <= now:
                    del due[key]
                    self.spawn(*key)
            time.sleep(0.5)
        self._wait_for_children()

    def _stop(self, _signum, _frame):
        self.stopping = True

    def _wait_for_children(self):
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS + 5
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        log.info("Jembatan stopped")
