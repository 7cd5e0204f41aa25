"""`jembatan`: start the system, run one service, seed the demo, add actors (API.md)."""
import json
import os
import sys

import click

from shared import config


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


@main.command()
@click.option("--port", type=int, help="HTTP port of the API (JEMBATAN_HTTP_PORT, default 8000).")
@click.option("--demo", is_flag=True, help="Seed the demo city first and print its tokens.")
@_data_dir_option
def up(port, demo):
    """Start every service and the HTTP gateway, until Ctrl-C or SIGTERM."""
    from jembatan.runner import Supervisor

    if port:
        os.environ["JEMBATAN_HTTP_PORT"] = str(port)
    if demo:
        print_seeded(as_json=False)
    _or_exit(lambda: Supervisor().run())


@main.command()
@click.argument("service", type=click.Choice(config.SERVICES))
@_data_dir_option
def run(service):
    """Start one service (for compose and scaling out)."""
    from jembatan.runner import run_service

    _or_exit(lambda: run_service(service))


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
               f"{result['agencies']} instansi. Tokens (shown once, keep them):")
    for actor in result["actors"]:
        click.echo(f"  {actor['role']:<12} {actor['scope'] or '-':<16} {actor['name']:<45} "
                   f"{actor['token']}")


@main.group()
def actors():
    """People and systems that use the API."""


@actors.command("add")
@click.option("--role", required=True, type=click.Choice(("village", "agency", "coordinator",
                                                          "regency", "admin")))
@click.option("--scope", default=None, help="Village, agency, district or regency code.")
@click.option("--name", required=True)
@click.option("--json", "as_json", is_flag=True)
@_data_dir_option
def actors_add(role, scope, name, as_json):
    """Create an actor and print its token once (only a hash is stored)."""
    from jembatan.actors import add_actor

    try:
        actor = add_actor(role, scope, name)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(actor, ensure_ascii=False))
    else:
        click.echo(f"{actor['role']} {actor['scope'] or '-'} {actor['name']}\n"
                   f"token (shown once): {actor['token']}")


@main.group()
def rules():
    """A regency's agencies and routing rules."""


@rules.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@_data_dir_option
def rules_load(path):
    """Replace a regency's agencies and rules with those of a JSON file (see
    services/routing/data/ for the format)."""
    from services.routing import jurisdiction
    from services.routing.models import Base
    from shared.db import Store

    store = Store("routing", Base.metadata)
    store.migrate()
    try:
        with store.transaction() as unit:
            regency, agencies, loaded = jurisdiction.load(unit.session, path)
    except (jurisdiction.InvalidJurisdiction, KeyError, ValueError) as exc:
        raise click.UsageError(f"{path}: {exc}") from None
    finally:
        store.close()
    click.echo(f"{regency['name']} ({regency['code']}): {agencies} agencies, {loaded} rules")


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
