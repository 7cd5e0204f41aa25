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
from shared.messaging import check_broker, connect, require_topology

log = logging.getLogger("jembatan")

SERVICE_CLASSES = {
    "villages": "services.villages.service:VillagesService",
    "requests": "services.requests.service:RequestsService",
    "routing": "services.routing.service:RoutingService",
    "notifications": "services.notifications.service:NotificationsService",
    "gateway": "services.gateway.service:GatewayService",
}
STOP_GRACE_SECONDS = 20


def service_class(name):
    module, _, attribute = SERVICE_CLASSES[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def configure_logging():
    logging.basicConfig(
        level=os.environ.get("JEMBATAN_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("nameko.containers").addFilter(ClientErrorsAreInfo())


def prepare_broker():
    """Fail fast with a clear message when RabbitMQ is unreachable, or its queues are not
    declared and may not be by this broker user (shared.messaging.require_topology)."""
    check_broker(config.amqp_uri())
    connection = connect(config.amqp_uri())
    try:
        require_topology(connection)
    finally:
        connection.release()


def run_service(name):
    """Run one service in this process until SIGTERM or Ctrl-C, then stop it cleanly."""
    configure_logging()
    if name == "gateway":
        check_port_free(config.http_port())
    prepare_broker()
    runner = ServiceRunner(config.nameko_config(name))
    runner.add_service(service_class(name))
    stopping = eventlet.event.Event()
    stop_requested = []

    def request_stop(signum, _frame):
        if not stopping.ready() and not stop_requested:
            stop_requested.append(signum)
            log.info("%s: stopping (signal %s)", name, signum)
            eventlet.spawn_n(stopping.send, True)

    def watch_container():
        """A container that dies (nameko kills it on an error it cannot handle) ends the
        process, so that whoever supervises it (jembatan up, compose) starts it again."""
        try:
            runner.wait()
        except Exception:  # the container's own error, already logged by nameko
            log.exception("%s: the service died", name)
        if not stop_requested:
            died.append(name)
            stopping.send(True)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    runner.start()
    died = []
    eventlet.spawn_n(watch_container)
    log.info("%s: started (pid %s)", name, os.getpid())
    stopping.wait()
    if died:
        runner.kill()
        sys.exit(f"{name}: stopped after an unrecoverable error; start it again")
    try:
        with eventlet.Timeout(STOP_GRACE_SECONDS):
            runner.stop()
    except eventlet.Timeout:
        log.warning("%s: in-flight work did not finish in %ss; killing", name, STOP_GRACE_SECONDS)
        runner.kill()
    log.info("%s: stopped", name)


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


class Supervisor:
    """`jembatan up`: every service as a child process; one that dies is started again."""

    def __init__(self, services=config.SERVICES):
        self.services = services
        self.children = {}
        self.stopping = False

    def spawn(self, name):
        self.children[name] = subprocess.Popen([sys.executable, "-m", "jembatan", "run", name])

    def run(self):
        configure_logging()
        check_port_free(config.http_port())
        prepare_broker()
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for name in self.services:
            self.spawn(name)
        log.info("Jembatan is starting: http://localhost:%s/api/v1/health", config.http_port())
        restarts = {name: 0 for name in self.services}
        while not self.stopping:
            for name, child in list(self.children.items()):
                if child.poll() is not None and not self.stopping:
                    restarts[name] += 1
                    log.error("%s exited with %s; starting it again", name, child.returncode)
                    time.sleep(min(restarts[name], 10))
                    self.spawn(name)
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
