"""docker-compose.yml, the Dockerfile and the code agree.

Read as text and YAML only: no Docker engine, no broker, nothing started.
"""
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from shared.config import SERVICES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SOURCE_DIRS = ("shared", "services", "jembatan")
DATABASE_URL_PREFIX = "JEMBATAN_DATABASE_URL_"
BROKER_PASSWORD_PREFIX = "JEMBATAN_BROKER_PASSWORD_"
ONE_SHOTS = {"seed": ["jembatan", "demo", "seed"], "broker-users": ["jembatan", "broker", "users"]}


@pytest.fixture(scope="module")
def compose():
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE.name} is missing"
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document.get("services"), dict), "docker-compose.yml has no services"
    return document


@pytest.fixture(scope="module")
def sources():
    """Every Python source of the code, as one text per file."""
    files = [path for folder in SOURCE_DIRS for path in (ROOT / folder).rglob("*.py")]
    assert files, f"no Python sources under {SOURCE_DIRS}"
    return {path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8") for path in files}


def command_of(service):
    command = service.get("command")
    if command is None:
        return None
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def environment_of(service):
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in environment)
    return {str(key): value for key, value in environment.items()}


def builds_from_dockerfile(service):
    build = service.get("build")
    if build is None:
        return False
    if isinstance(build, str):
        context, dockerfile = build, "Dockerfile"
    else:
        context, dockerfile = build.get("context", "."), build.get("dockerfile", "Dockerfile")
    return (ROOT / context / dockerfile).resolve() == DOCKERFILE.resolve()


def app_services(compose):
    """name -> definition of every container that runs Jembatan code."""
    return {name: service for name, service in compose["services"].items()
            if builds_from_dockerfile(service) or (command_of(service) or [""])[0] == "jembatan"}


def run_containers(compose):
    """service -> compose name of each `jembatan run <service>` container."""
    found = {}
    for name, service in app_services(compose).items():
        command = command_of(service) or []
        if command[:2] == ["jembatan", "run"] and len(command) == 3:
            found.setdefault(command[2], []).append(name)
    return found


def test_the_dockerfile_exists_and_runs_a_service():
    assert DOCKERFILE.is_file(), "Dockerfile is missing"
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM\s+python:3\.11-slim\b", text, re.M), \
        "the Dockerfile does not start FROM python:3.11-slim"
    assert re.search(r"^ENV\b[^\n]*(\\\n[^\n]*)*JEMBATAN_DATA_DIR=/data", text, re.M), \
        "the Dockerfile does not set JEMBATAN_DATA_DIR=/data"
    cmd = re.search(r"^CMD\s+(\[.*\])\s*$", text, re.M)
    assert cmd, "the Dockerfile has no exec-form CMD"
    command = yaml.safe_load(cmd.group(1))
    assert command[:2] == ["jembatan", "run"] and command[2] in SERVICES, \
        f"the Dockerfile's CMD {command} is not `jembatan run <one of {list(SERVICES)}>`"


def test_the_dockerfile_copies_what_pip_install_needs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    needed = {project["project"]["readme"], "pyproject.toml"}
    needed |= {pattern.rstrip("*") for pattern
               in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = set()
    for line in re.findall(r"^COPY\s+(.+)$", DOCKERFILE.read_text(encoding="utf-8"), re.M):
        parts = [part for part in line.split() if not part.startswith("--")]
        copied |= {part.rstrip("/") for part in parts[:-1]}
    if "." not in copied:
        missing = sorted(needed - copied)
        assert not missing, f"the Dockerfile does not COPY {missing}, which `pip install .` needs"
    for name in needed:
        assert (ROOT / name).exists(), f"pyproject.toml needs {name}, which does not exist"


def test_every_app_container_builds_from_the_dockerfile(compose):
    for name, service in app_services(compose).items():
        assert builds_from_dockerfile(service), \
            f"compose service {name!r} runs jembatan but does not build from {DOCKERFILE.name}"


def test_every_app_container_is_a_service_or_the_seed(compose):
    for name, service in app_services(compose).items():
        command = command_of(service)
        if name in ONE_SHOTS:
            assert command == ONE_SHOTS[name], \
                f"compose service {name!r} runs {command}, expected {ONE_SHOTS[name]}"
            continue
        assert name in SERVICES, \
            f"compose service {name!r} is not one of shared.config.SERVICES {list(SERVICES)}"
        assert command == ["jembatan", "run", name], \
            f"compose service {name!r} runs {command}, expected ['jembatan', 'run', {name!r}]"


def test_every_service_has_a_container(compose):
    started = run_containers(compose)
    missing = [service for service in SERVICES if service not in started]
    assert not missing, f"no compose container runs `jembatan run` for {missing}"
    unknown = sorted(set(started) - set(SERVICES))
    assert not unknown, f"compose runs unknown services {unknown} (not in shared.config.SERVICES)"


def test_every_variable_set_for_an_app_container_is_read_by_the_code(compose, sources):
    def read_by_code(literal):
        return [path for path, text in sources.items() if re.search(literal, text)]

    for name, service in app_services(compose).items():
        for variable in environment_of(service):
            prefix = next((p for p in (DATABASE_URL_PREFIX, BROKER_PASSWORD_PREFIX)
                           if variable.startswith(p)), None)
            if prefix:
                owner = variable[len(prefix):].lower()
                assert owner in SERVICES, \
                    f"{name}: {variable} names no service of shared.config.SERVICES"
                literal = r"[\"']" + re.escape(prefix)
            else:
                literal = r"[\"']" + re.escape(variable) + r"[\"']"
            assert read_by_code(literal), \
                f"{name}: the code under {'/, '.join(SOURCE_DIRS)}/ never reads {variable}"


def test_each_service_is_configured_for_itself(compose):
    for service, names in run_containers(compose).items():
        for name in names:
            environment = environment_of(compose["services"][name])
            assert environment.get("AMQP_URI"), f"{name}: AMQP_URI is not set"
            own = DATABASE_URL_PREFIX + service.upper()
            assert str(environment.get(own, "")).startswith("postgresql://"), \
                f"{name}: {own} is not a postgresql:// URL"
            others = [v for v in environment if v.startswith(DATABASE_URL_PREFIX) and v != own]
            assert not others, f"{name}: sets {others}, the databases of other services"


def test_each_service_connects_as_its_own_broker_user_never_guest(compose):
    users = {}
    for service, names in run_containers(compose).items():
        for name in names:
            uri = str(environment_of(compose["services"][name])["AMQP_URI"])
            user = re.match(r"amqp://([^:@/]+)", uri).group(1)
            assert user == f"jembatan-{service}", f"{name} connects as {user}"
            users[service] = user
    administrator = environment_of(compose["services"]["rabbitmq"])["RABBITMQ_DEFAULT_USER"]
    assert "guest" not in str(administrator)
    made = environment_of(compose["services"]["broker-users"])
    assert {f"{BROKER_PASSWORD_PREFIX}{service.upper()}" for service in SERVICES} <= set(made)


def test_every_service_may_be_scaled(compose):
    """`docker compose up --scale <service>=N`: no service container has a fixed name or
    publishes a port of this machine (a second one could not take it)."""
    for service, names in run_containers(compose).items():
        for name in names:
            definition = compose["services"][name]
            assert "container_name" not in definition, f"{name} has a fixed container_name"
            assert not definition.get("ports"), \
                f"{name} publishes {definition['ports']}: a second {service} could not start"


def proxy_of(compose):
    """The compose service that publishes the API: nginx, in front of the gateways."""
    proxies = [name for name, service in compose["services"].items()
               if str(service.get("image", "")).startswith("nginx:")]
    assert len(proxies) == 1, f"expected one nginx proxy in front of the gateways, found {proxies}"
    return compose["services"][proxies[0]]


def mounted_config(proxy):
    """The repository's file the proxy mounts as its configuration."""
    for volume in proxy.get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if target.startswith("/etc/nginx/"):
            path = (ROOT / source).resolve()
            assert path.is_file() and ROOT in path.parents, f"{source} is not a file of the repository"
            return path.read_text(encoding="utf-8")
    raise AssertionError("the proxy mounts no configuration under /etc/nginx/")


def test_the_proxy_publishes_the_api_and_passes_it_to_every_gateway(compose):
    proxy = proxy_of(compose)
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+(-alpine)?", proxy["image"]), \
        f"the proxy's image {proxy['image']} is not pinned to a version"
    config = mounted_config(proxy)
    gateway = compose["services"][run_containers(compose)["gateway"][0]]
    port = str(environment_of(gateway).get("JEMBATAN_HTTP_PORT", "8000"))
    # Re-resolved (`resolve`, with Docker's DNS), so that every gateway container, however
    # many and whenever started, gets connections; and on the port the gateway listens on.
    assert re.search(rf"^\s*server\s+gateway:{port}\s+resolve;", config, re.M), \
        f"the proxy does not pass to gateway:{port} with `resolve`"
    assert re.search(r"^\s*resolver\s+127\.0\.0\.11\b", config, re.M)
    listens = re.findall(r"^\s*listen\s+(\d+);", config, re.M)
    published = [str(mapping).rsplit(":", 1)[-1] for mapping in proxy.get("ports", [])]
    assert listens and set(listens) <= set(published), \
        f"the proxy listens on {listens} but publishes {published}"
    # The gateway trusts the one proxy for the client's address (its rate limit per address).
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in config
    assert str(environment_of(gateway).get("JEMBATAN_TRUSTED_PROXIES")) == "1"


def test_the_gateways_share_one_data_volume_for_the_photos(compose):
    gateway = compose["services"][run_containers(compose)["gateway"][0]]
    data_dir = str(environment_of(gateway).get("JEMBATAN_DATA_DIR", "/data"))
    mounts = [str(volume).split(":")[:2] for volume in gateway.get("volumes", [])]
    named = [source for source, target in mounts
             if target == data_dir and source in (compose.get("volumes") or {})]
    assert named, f"the gateway's {data_dir} is not a named volume (every replica's photos)"


def test_the_readme_shows_scaling_and_the_port_the_proxy_publishes(compose):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Docker Compose"):]
    section = section[:section.index("\n## ", 1)]
    assert "docker compose up" in section and "--scale" in section, \
        "README's Docker Compose section does not show `--scale`"
    host_ports = {str(mapping).split(":")[-2] for mapping in proxy_of(compose).get("ports", [])}
    shown = set(re.findall(r"http://localhost:(\d+)/", section))
    assert shown and shown <= host_ports, \
        f"README's Docker Compose section shows ports {shown}, the proxy publishes {host_ports}"


def test_every_database_a_container_names_is_created(compose):
    scripts = ROOT / "docker" / "postgres-init"
    created = {match.lower() for script in scripts.glob("*")
               for match in re.findall(r"CREATE\s+DATABASE\s+\"?(\w+)",
                                       script.read_text(encoding="utf-8"), re.I)}
    postgres = compose["services"].get("postgres", {})
    mounts = [str(volume) for volume in postgres.get("volumes", [])]
    assert any("docker/postgres-init" in m and "/docker-entrypoint-initdb.d" in m for m in mounts), \
        "the postgres container does not mount docker/postgres-init as its init scripts"
    for name, service in app_services(compose).items():
        for variable, url in environment_of(service).items():
            if variable.startswith(DATABASE_URL_PREFIX):
                database = str(url).rsplit("/", 1)[-1].split("?")[0]
                assert database.lower() in created, \
                    f"{name}: {variable} names database {database!r}, which no script " \
                    f"in docker/postgres-init creates (created: {sorted(created)})"
