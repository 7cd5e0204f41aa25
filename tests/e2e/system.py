"""A whole Jembatan on this machine for a test: a fresh RabbitMQ vhost, a fresh data
directory, every service as a real `jembatan run` process, the demo city seeded."""
import atexit
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from jembatan import broker
from shared.messaging import connect, declare_topology
from tests.broker import Vhost, eventually, free_port
from tests.databases import PostgresDatabases

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("villages", "requests", "routing", "notifications", "gateway")
DEMO_PASSWORD = "demo-jembatan-uji-2026"  # every demo actor's, in the tests
# The demo as the first system of the session seeded it, per database (System.seed): what the
# seed printed, and the folder (SQLite) or the template databases (PostgreSQL) it filled.
SEEDED = {}


class Client:
    """HTTP calls to the API as one actor."""

    def __init__(self, base, token=None, name=None):
        self.base, self.token, self.name = base, token, name

    def headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def request(self, method, path, body=None, **kwargs):
        if body is not None:
            kwargs["json"] = body
        return requests.request(method, self.base + path, timeout=20,
                                headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def post_file(self, path, files, data=None):
        """A multipart/form-data POST: `files` as requests takes them, `data` the other fields."""
        return self.request("POST", path, files=files, data=data)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


class System:
    """`database` is "sqlite" (a file per service) or "postgresql" (a database per service);
    `replicas` processes of every service (named `requests#1`, `requests#2`, … when more
    than one); `vhost` the virtual host to run on (tests/broker.py `Vhost`: by default a new
    one on this machine's RabbitMQ)."""

    def __init__(self, tmp_path, database="sqlite", scheduler_seconds=0.5, env=None, replicas=1,
                 vhost=None):
        self.scheduler_seconds = scheduler_seconds
        self.replicas = replicas
        self.extra_env = env or {}
        self.database = database
        self.postgres = PostgresDatabases() if database == "postgresql" else None
        self.urls = {}
        self.engines = {}
        self.vhost = vhost or Vhost()
        self.data_dir = tmp_path / "data"
        self.port = free_port()
        self.processes = {}
        self.logs = tmp_path / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = None
        self.actors = {}
        self.clock_file = tmp_path / "clock-offset"

    @property
    def root(self):
        """The web app's address."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base(self):
        return f"{self.root}/api/v1"

    def start(self):
        amqp_uri = self.vhost.create()
        self.env = {**os.environ, "AMQP_URI": amqp_uri, "JEMBATAN_DATA_DIR": str(self.data_dir),
                    "JEMBATAN_HTTP_PORT": str(self.port), "JEMBATAN_HTTP_HOST": "127.0.0.1",
                    "JEMBATAN_RPC_TIMEOUT": "3", "JEMBATAN_LOG_LEVEL": "INFO",
                    "JEMBATAN_CLOCK_OFFSET_FILE": str(self.clock_file),
                    "JEMBATAN_SCHEDULER_SECONDS": str(self.scheduler_seconds),
                    "JEMBATAN_DEMO_PASSWORD": DEMO_PASSWORD,
                    # The demo actors' tokens are sessions; the tests move the clock days on.
                    "JEMBATAN_SESSION_HOURS": str(24 * 365),
                    # The tests are the demo's own tools: no rate limits, unless one asks.
                    "JEMBATAN_RATE_LIMIT_PER_TOKEN": "0", "JEMBATAN_RATE_LIMIT_PER_ADDRESS": "0",
                    **self.extra_env}
        for name in list(self.env):
            if name.startswith("JEMBATAN_DATABASE_URL_"):
                del self.env[name]
        for actor in self.seed()["actors"]:
            self.actors[(actor["role"], actor["scope"])] = actor
        # Each service connects as its own broker user, allowed only what it uses, once an
        # administrator has declared every queue (as `jembatan broker users` does).
        with connect(amqp_uri) as connection:
            declare_topology(connection)
        self.broker_passwords = {service: secrets.token_urlsafe(16) for service in SERVICES}
        broker.ensure_users(self.vhost.management, self.vhost.admin, self.vhost.name,
                            self.broker_passwords, prefix=self.vhost.name)
        for service in SERVICES:
            for replica in (range(1, self.replicas + 1) if self.replicas > 1 else [None]):
                self.run(service, replica)
        self.wait_healthy()
        return self

    def seed(self):
        """The demo loaded into this system's databases; what `jembatan demo seed` printed.

        The first system of the test session on each database seeds a copy that the later
        ones take (loading the registry of 83,763 villages takes seconds; a copy, a fraction
        of one): a folder on SQLite, template databases on PostgreSQL."""
        if self.database not in SEEDED:
            SEEDED[self.database] = self._seed_once()
        seeded = SEEDED[self.database]
        if self.postgres is None:
            shutil.copytree(seeded["folder"], self.data_dir, dirs_exist_ok=True)
        else:
            for service in SERVICES:
                self.urls[service] = self.postgres.create(service, seeded["templates"][service])
                self.env[f"JEMBATAN_DATABASE_URL_{service.upper()}"] = self.urls[service]
        return seeded["printed"]

    def _seed_once(self):
        env = {name: value for name, value in self.env.items()
               if not name.startswith("JEMBATAN_DATABASE_URL_")}
        if self.postgres is None:
            folder = Path(tempfile.mkdtemp(prefix="jembatan-seeded-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            env["JEMBATAN_DATA_DIR"] = str(folder)
        else:
            templates = PostgresDatabases()
            atexit.register(templates.drop_all)
            for service in SERVICES:
                env[f"JEMBATAN_DATABASE_URL_{service.upper()}"] = templates.create(service)
        seeded = subprocess.run([sys.executable, "-m", "jembatan", "demo", "seed", "--json"],
                                env=env, cwd=ROOT, capture_output=True, text=True,
                                check=True, timeout=120)
        printed = json.loads(seeded.stdout)
        if self.postgres is None:
            return {"printed": printed, "folder": folder}
        return {"printed": printed, "templates": {
            service: f"{templates.prefix}_{service}" for service in SERVICES}}

    def amqp_uri_of(self, service):
        """The AMQP URI of a service's own broker user."""
        return self.vhost.uri_of(broker.user_name(service, prefix=self.vhost.name),
                                 self.broker_passwords[service])

    def run(self, service, replica=None):
        """Start a service; `replica` numbers one of several processes of it (`jembatan run
        SERVICE --replica N`), named `service#N` here and in its log."""
        name = service if replica is None else f"{service}#{replica}"
        numbered = [] if replica is None else ["--replica", str(replica)]
        log = open(self.logs / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "jembatan", "run", service, *numbered], cwd=ROOT,
            env={**self.env, "AMQP_URI": self.amqp_uri_of(service)},
            stdout=log, stderr=subprocess.STDOUT)

    def set_clock(self, moment):
        """Every process's clock shows `moment` from now on (and runs on from there)."""
        offset = (moment - datetime.now(timezone.utc)).total_seconds()
        self.clock_file.write_text(str(offset))

    def kill(self, service, sig=signal.SIGKILL):
        process = self.processes.pop(service)
        process.send_signal(sig)
        process.wait(timeout=30)

    def wait_healthy(self, timeout=60):
        def healthy():
            try:
                response = requests.get(self.base + "/health", timeout=5)
            except requests.RequestException:
                return False
            return response.status_code == 200

        for service, process in self.processes.items():
            assert process.poll() is None, f"{service} exited:\n{self.log(service)}"
        eventually(healthy, timeout=timeout, interval=0.2)

    def log(self, name, tail=5000):
        """The end of a process's log (all of it with `tail=None`)."""
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-tail if tail else 0:] if path.exists() else ""

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()
        for engine in self.engines.values():
            engine.dispose()
        self.vhost.delete()
        broker.delete_users(self.vhost.management, self.vhost.admin, SERVICES,
                            prefix=self.vhost.name)
        if self.postgres is not None:
            self.postgres.drop_all()

    def database_url(self, service):
        return self.urls.get(service) or f"sqlite:///{self.data_dir / service}.db"

    # -- callers -----------------------------------------------------------------------------

    def client(self, role, scope=None):
        actor = self.actors[(role, scope)]
        return Client(self.base, actor["token"], actor["name"])

    def village(self, code="35.79.02.2001"):
        return self.client("village", code)

    def agency(self, agency_id):
        return self.client("agency", agency_id)

    def coordinator(self, district="35.79.02"):
        return self.client("coordinator", district)

    def regency(self, code="35.79"):
        return self.client("regency", code)

    def admin(self):
        return self.client("admin")

    def anonymous(self):
        return Client(self.base)

    # -- what each service's own database holds ----------------------------------------------

    def count(self, service, table, **equal):
        """Rows of a table in a service's own database, where each column equals its value."""
        where = " AND ".join(f"{column} IS NULL" if value is None else f"{column} = :{column}"
                             for column, value in equal.items()) or "1=1"
        return self.rows(service, f"SELECT count(*) FROM {table} WHERE {where}", **equal)[0][0]

    def rows(self, service, sql, **params):
        """What a query of a service's own database answers, as a list of tuples."""
        engine = self.engines.get(service)
        if engine is None:
            engine = self.engines[service] = create_engine(self.database_url(service),
                                                           poolclass=NullPool)
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]
