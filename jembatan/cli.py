"""`jembatan`: start the system, run one service, seed the demo, manage actors (README)."""
import json
import os
import sys

import click

from shared import config

BROKER_PASSWORD_PREFIX = "JEMBATAN_BROKER_PASSWORD_"


def _data_dir_option(function):
    def remember(ctx, _param, value):
        if value:
            os.environ["JEMBATAN_DATA_DIR"] = value
        return value

    return click.option("--data-dir", type=click.Path(file_okay=False), callback=remember,
                        expose_value=False, is_eager=True,
                        help="Where the SQLite files live (JEMBATAN_DATA_DIR, default ./var).")(function)


@click.group()
def main():
    """Jembatan: village issues routed to the agencies that solve them."""


def _replicas(_ctx, _param, value):
    from jembatan.runner import parse_replicas

    try:
        return parse_replicas(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command()
@click.option("--port", type=int, help="HTTP port of the API (JEMBATAN_HTTP_PORT, default 8000).")
@click.option("--replicas", envvar="JEMBATAN_REPLICAS", default="1", callback=_replicas,
              help="Processes of each service: N for every service, or e.g. "
                   "'gateway=2,requests=3' (JEMBATAN_REPLICAS, default 1).")
@click.option("--demo", is_flag=True, help="Seed the demo city first and print its tokens.")
@_data_dir_option
def up(port, replicas, demo):
    """Start every service and the HTTP gateway, until Ctrl-C or SIGTERM."""
    from jembatan.runner import Supervisor

    if port:
        os.environ["JEMBATAN_HTTP_PORT"] = str(port)
    if demo:
        print_seeded(as_json=False)
    _or_exit(lambda: Supervisor(replicas).run())


@main.command()
@click.argument("service", type=click.Choice(config.SERVICES))
@click.option("--replica", type=click.IntRange(min=1),
              help="Number this process as one of several of the service (named SERVICE#N in "
                   "its logs); a gateway replica shares the HTTP port with the others.")
@_data_dir_option
def run(service, replica):
    """Start one service (for compose and scaling out)."""
    from jembatan.runner import run_service

    _or_exit(lambda: run_service(service, replica))


@main.group()
def demo():
    """The demo jurisdiction (Kota Batu)."""


@demo.command("seed")
@click.option("--json", "as_json", is_flag=True, help="Print the actors as JSON.")
@_data_dir_option
def demo_seed(as_json):
    """Load Kota Batu, its agencies and rules, and one actor per party; print their tokens."""
    print_seeded(as_json)


def print_seeded(as_json):
    from jembatan.demo import seed

    result = seed()
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    click.echo(f"Demo loaded: {result['regency']['name']} ({result['regency']['code']}), "
               f"{result['districts']} kecamatan, {result['villages']} desa/kelurahan, "
               f"{result['agencies']} instansi.")
    if result["password"]:
        click.echo(f"Every demo actor signs in with its username and the password "
                   f"{result['password']}")
    else:
        click.echo("The demo actors keep the password they were given when first seeded.")
    click.echo(f"Usernames, and a session token each for the API (valid "
               f"{config.session_hours():g} hours, shown once):")
    for actor in result["actors"]:
        click.echo(f"  {actor['role']:<12} {actor['username']:<24} {actor['name']:<45} "
                   f"{actor['token']}")


@main.group()
def actors():
    """People and systems that use the API."""


ROLE_CHOICE = click.Choice(("village", "agency", "coordinator", "regency", "admin"))


def _actors_call(work):
    """Run an actors command; its refusal is a usage error with the reason."""
    from jembatan.actors import ActorError

    try:
        return work()
    except ActorError as exc:
        raise click.UsageError(str(exc)) from None


def _read_password(from_stdin):
    if not from_stdin:
        return None
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.UsageError("--password-stdin: standard input gave no password")
    return password


def _echo_actor(actor, as_json):
    if as_json:
        click.echo(json.dumps(actor, ensure_ascii=False))
        return
    state = " (disabled)" if actor.get("disabled_at") else ""
    click.echo(f"{actor['id']}  {actor['role']:<11} {actor['scope'] or '-':<16} "
               f"{actor['username'] or '-':<20} {actor['name']}{state}")


def _channel_options(command):
    """--email, --phone, --whatsapp/--no-whatsapp, --language: how an actor is reached."""
    for option in reversed((
            click.option("--email", default=None, help="Email address ('' clears it)."),
            click.option("--phone", default=None,
                         help="Indonesian mobile number for SMS, e.g. 0812… or +62812… "
                              "('' clears it)."),
            click.option("--whatsapp/--no-whatsapp", default=None,
                         help="WhatsApp messages to the phone number."),
            click.option("--language", type=click.Choice(("id", "en")), default=None,
                         help="Language of the messages sent to the actor."))):
        command = option(command)
    return command


def _channels(email, phone, whatsapp, language):
    given = {"email": email, "phone": phone, "whatsapp": whatsapp, "language": language}
    return {name: (value if value != "" else None) for name, value in given.items()
            if value is not None}


@actors.command("add")
@click.option("--role", required=True, type=ROLE_CHOICE)
@click.option("--scope", default=None, help="Village, agency, district or regency code.")
@click.option("--name", required=True)
@click.option("--username", default=None, help="For a person who signs in (needs a password).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@_channel_options
@click.option("--json", "as_json", is_flag=True)
@_data_dir_option
def actors_add(role, scope, name, username, password_stdin, email, phone, whatsapp, language,
               as_json):
    """Create an actor: a person (--username, password on standard input) signs in; a system
    gets an API token, printed once (only a hash is stored)."""
    from jembatan.actors import add_actor

    password = _read_password(password_stdin)
    channels = _channels(email, phone, whatsapp, language)
    actor = _actors_call(lambda: add_actor(role, scope, name, username, password, channels))
    if as_json:
        click.echo(json.dumps(actor, ensure_ascii=False))
        return
    _echo_actor(actor, False)
    if actor.get("token"):
        click.echo(f"token (shown once): {actor['token']}")


@actors.command("channels")
@click.argument("actor")
@_channel_options
@click.option("--json", "as_json", is_flag=True)
@_data_dir_option
def actors_channels(actor, email, phone, whatsapp, language, as_json):
    """Set how ACTOR (an id or username) is reached outside the app; without options, show it."""
    from jembatan.actors import set_channels

    shown = _actors_call(lambda: set_channels(actor, _channels(email, phone, whatsapp, language)))
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False))
        return
    for name, value in shown.items():
        click.echo(f"{name:<9} {'-' if value is None else value}")


@actors.command("list")
@click.option("--role", type=ROLE_CHOICE, default=None)
@click.option("--scope", default=None)
@click.option("--json", "as_json", is_flag=True)
@_data_dir_option
def actors_list(role, scope, as_json):
    """Every actor: id, role, scope, username, name."""
    from jembatan.actors import list_actors

    found = list_actors(role, scope)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    for actor in found:
        _echo_actor(actor, False)


@actors.command("disable")
@click.argument("actor")
@click.option("--reason", default=None)
@_data_dir_option
def actors_disable(actor, reason):
    """Disable ACTOR (an id or username): every token of it is refused at once."""
    from jembatan.actors import set_disabled

    _echo_actor(_actors_call(lambda: set_disabled(actor, True, reason)), False)


@actors.command("enable")
@click.argument("actor")
@_data_dir_option
def actors_enable(actor):
    """Enable ACTOR (an id or username) again."""
    from jembatan.actors import set_disabled

    _echo_actor(_actors_call(lambda: set_disabled(actor, False)), False)


@actors.command("password")
@click.argument("actor")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the new password from standard input.")
@_data_dir_option
def actors_password(actor, password_stdin):
    """Set the password of ACTOR (an id or username); its sessions are signed out."""
    from jembatan.actors import set_password

    password = _read_password(password_stdin)
    _echo_actor(_actors_call(lambda: set_password(actor, password)), False)


@actors.command("token")
@click.argument("actor")
@click.option("--label", default=None, help="What the token is for.")
@click.option("--expires-in-days", type=click.IntRange(1, 3650), default=None)
@click.option("--json", "as_json", is_flag=True)
@_data_dir_option
def actors_token(actor, label, expires_in_days, as_json):
    """Issue an API token to ACTOR (an id or username), printed once."""
    from jembatan.actors import issue_token

    token = _actors_call(lambda: issue_token(actor, label, expires_in_days))
    if as_json:
        click.echo(json.dumps(token, ensure_ascii=False))
        return
    click.echo(f"token {token['id']} (expires {token['expires_at'] or 'never'}), "
               f"shown once: {token['token']}")


@actors.command("revoke")
@click.argument("token_id")
@_data_dir_option
def actors_revoke(token_id):
    """Revoke the token TOKEN_ID (the part after jbt_, before the second _): refused at once."""
    from jembatan.actors import revoke_token

    token = _actors_call(lambda: revoke_token(token_id))
    click.echo(f"token {token['id']} revoked at {token['revoked_at']}")


@main.group()
def regency():
    """Another regency: a starter file of its agencies and routing rules."""


@regency.command("init")
@click.argument("code")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the file here (it must not exist yet); default: standard output.")
def regency_init(code, output):
    """Write a starter jurisdiction file for the regency CODE (e.g. 73.71): its kecamatan, the
    usual agencies named for it, a rule for every category. Edit it, then `jembatan rules
    check` and `jembatan rules load` it."""
    from services.routing import starter

    try:
        document = starter.starter(code)
    except starter.UnknownRegency as exc:
        raise click.UsageError(str(exc)) from None
    content = starter.to_json(document)
    if output is None:
        click.echo(content, nl=False)
        return
    try:
        with open(output, "x", encoding="utf-8") as handle:
            handle.write(content)
    except FileExistsError:
        raise click.UsageError(f"{output} exists already; remove it or name another file") \
            from None
    click.echo(f"{output}: {document['regency']['name']} ({code}), "
               f"{len(document['districts'])} kecamatan, {len(document['agencies'])} agencies, "
               f"{len(document['rules'])} rules. Edit it, then: jembatan rules check {output}")


@main.group()
def rules():
    """A regency's agencies and routing rules."""


class InvalidFile(click.ClickException):
    """A jurisdiction file that may not be loaded: each problem on its own line."""

    exit_code = 2

    def __init__(self, path, problems):
        super().__init__(f"{path} is not valid:\n" + "\n".join(f"  {p}" for p in problems))


@rules.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def rules_check(path):
    """Check a jurisdiction file without loading it: every problem, each naming its rule,
    agency or field (exit status 2), or a summary (exit status 0)."""
    from services.routing import jurisdiction

    try:
        document = jurisdiction.read(path)
    except jurisdiction.InvalidJurisdiction as exc:
        raise InvalidFile(path, exc.problems) from None
    regency = document["regency"]
    triage = ", ".join(document["triage"]) or "none"
    click.echo(f"{path} is valid: {regency['name']} ({regency['code']}), "
               f"{len(document['agencies'])} agencies, {len(document['rules'])} rules; "
               f"left to the coordinator's triage: {triage}")


@rules.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@_data_dir_option
def rules_load(path):
    """Replace a regency's agencies and rules with those of a JSON file (see
    services/routing/data/ for the format), once `rules check` finds nothing wrong with it."""
    from services.routing import jurisdiction
    from services.routing.models import Base
    from shared.db import Store

    store = Store("routing", Base.metadata)
    store.migrate()
    try:
        with store.transaction() as unit:
            regency, agencies, loaded = jurisdiction.load(unit.session, path)
    except jurisdiction.InvalidJurisdiction as exc:
        raise InvalidFile(path, exc.problems) from None
    finally:
        store.close()
    click.echo(f"{regency['name']} ({regency['code']}): {agencies} agencies, {loaded} rules")


@main.group()
def broker():
    """RabbitMQ: each service's own user."""


@broker.command("users")
@click.option("--management-url", envvar="RABBITMQ_MANAGEMENT_URL",
              default="http://localhost:15672", show_default=True)
@click.option("--admin-user", envvar="RABBITMQ_ADMIN_USER", required=True,
              help="A management administrator (RABBITMQ_ADMIN_USER).")
@click.option("--admin-password", envvar="RABBITMQ_ADMIN_PASSWORD", required=True,
              help="Its password (RABBITMQ_ADMIN_PASSWORD).")
@click.option("--vhost", default="/", show_default=True)
def broker_users(management_url, admin_user, admin_password, vhost):
    """Declare every exchange and queue (over AMQP_URI, as an administrator), then create or
    update the user of every service (jembatan-<service>), allowed only what that service
    uses; each one's password comes from JEMBATAN_BROKER_PASSWORD_<SERVICE>."""
    from jembatan.broker import ensure_users, user_name
    from shared.messaging import check_broker, connect, declare_topology

    passwords = {service: os.environ.get(f"{BROKER_PASSWORD_PREFIX}{service.upper()}")
                 for service in config.SERVICES}
    missing = [f"{BROKER_PASSWORD_PREFIX}{s.upper()}" for s, p in passwords.items() if not p]
    if missing:
        raise click.UsageError(f"set {', '.join(missing)}")
    _or_exit(lambda: check_broker(config.amqp_uri()))
    with connect(config.amqp_uri()) as connection:
        _or_exit(lambda: declare_topology(connection))
    ensure_users(management_url, (admin_user, admin_password), vhost, passwords)
    for service in config.SERVICES:
        click.echo(f"{user_name(service)}: ready on vhost {vhost}")


@main.group()
def db():
    """Each service's database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("services", nargs=-1, type=click.Choice(config.SERVICES))
@_data_dir_option
def db_upgrade(services):
    """Apply pending migrations (every service when none is named)."""
    from shared.db import make_engine
    from shared.migrations import upgrade

    for service in services or config.SERVICES:
        engine = make_engine(config.database_url(service))
        upgrade(engine, service)
        engine.dispose()
        click.echo(f"{service}: up to date")


@db.command("revision")
@click.argument("service", type=click.Choice(config.SERVICES))
@click.option("-m", "--message", required=True, help="What the change is, in a few words.")
@_data_dir_option
def db_revision(service, message):
    """Write the next migration of SERVICE from its models (read it before committing)."""
    from shared.db import make_engine
    from shared.migrations import revision

    engine = make_engine(config.database_url(service))
    revision(engine, service, message)
    engine.dispose()


@main.group()
def board():
    """What the requests service keeps for the coordinator's board."""


@board.command("refresh")
@_data_dir_option
def board_refresh():
    """Compute again, from the cases and their tasks, what the requests service keeps for the
    board: each case's next deadline, the agencies' rows of their cases, the counts of cases
    per area and status. Needed only where a process of a version before migration 0008 wrote
    cases beside a newer one (docs/deployment.md, "Upgrading"). One transaction, which rewrites
    every agency's rows: writes to the cases wait for it."""
    from services.requests import board as kept
    from shared.db import make_engine
    from shared.migrations import upgrade

    engine = make_engine(config.database_url("requests"))
    upgrade(engine, "requests")
    with engine.begin() as connection:
        kept.refresh(connection)
    engine.dispose()
    click.echo("requests: the board's counts, agencies' rows and next deadlines computed again")


@main.group()
def dlq():
    """Messages no service could handle (the dead-letter queue)."""
    from shared.messaging import check_broker

    _or_exit(lambda: check_broker(config.amqp_uri()))


@dlq.command("list")
@click.option("--json", "as_json", is_flag=True)
def dlq_list(as_json):
    """Every dead letter: id, when, which queue, why."""
    from shared import dead_letters

    letters = _or_exit(lambda: dead_letters.list_all(config.amqp_uri()))
    if as_json:
        click.echo(json.dumps([letter.summary() for letter in letters], ensure_ascii=False))
        return
    click.echo(f"{len(letters)} dead letter(s)")
    for letter in letters:
        click.echo(f"  {letter.id}  {letter.failed_at}  {letter.queue}  {letter.routing_key}\n"
                   f"      {letter.reason[:300]}")


@dlq.command("show")
@click.argument("letter_id")
def dlq_show(letter_id):
    """One dead letter: its reason, headers and body."""
    from shared import dead_letters

    letter = _or_exit(lambda: dead_letters.find(config.amqp_uri(), letter_id))
    if letter is None:
        raise click.UsageError(f"no dead letter has the id {letter_id} (see `jembatan dlq list`)")
    click.echo(json.dumps({**letter.summary(), "headers": letter.headers},
                          indent=2, ensure_ascii=False, default=str))
    click.echo(letter.body.decode("utf-8", "replace"))


@dlq.command("replay")
@click.argument("letter_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Replay every dead letter.")
def dlq_replay(letter_ids, everything):
    """Send dead letters back to the queue they came from, once their cause is fixed."""
    from shared import dead_letters

    if bool(letter_ids) == everything:
        raise click.UsageError("name the dead letters to replay, or say --all")
    replayed = _or_exit(lambda: dead_letters.replay(config.amqp_uri(),
                                                    None if everything else set(letter_ids)))
    missing = set(letter_ids) - set(replayed)
    click.echo(f"replayed {len(replayed)}: {' '.join(replayed)}")
    if missing:
        raise click.ClickException(f"not found: {' '.join(sorted(missing))}")


def _or_exit(start):
    try:
        return start()
    except ConnectionError as exc:
        click.echo(f"jembatan: {exc}", err=True)
        sys.exit(2)
