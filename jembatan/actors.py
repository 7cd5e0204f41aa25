"""Managing actors from the command line (`jembatan actors …`): the same rules as the API's
(services/gateway/accounts.py), with the scope checked against what exists, and every change
in the audit log as done by the command line."""
import getpass
import socket
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import or_, select

from services.gateway import accounts
from services.gateway.http import load_body
from services.gateway.models import Actor, Token
from services.gateway.schemas import ChannelsInput
from services.gateway.models import Base as GatewayBase
from services.routing.models import Agency
from services.routing.models import Base as RoutingBase
from services.villages import registry
from shared import policy
from shared.db import Store
from shared.errors import JembatanError
from shared.events import utcnow
from shared.i18n import localize

SCOPE_LEVEL = {"village": "village", "coordinator": "district", "regency": "regency"}


class ActorError(ValueError):
    """A command that cannot be carried out; the message says why (in English)."""


def operator():
    """Who acts, in the audit log, when the command line does."""
    return {"id": "cli", "role": "admin", "name": f"jembatan CLI ({getpass.getuser()}@"
                                                  f"{socket.gethostname()})"}


@contextmanager
def store_of(service, metadata):
    store = Store(service, metadata)
    store.migrate()
    try:
        yield store
    finally:
        store.close()


@contextmanager
def gateway():
    """A transaction on the gateway's database; the rules' refusals become ActorError."""
    with store_of("gateway", GatewayBase.metadata) as store:
        try:
            with store.transaction() as unit:
                yield unit.session
        except JembatanError as exc:
            raise ActorError(explain(exc)) from None


def explain(error):
    details = localize(error.details, "en")
    fields = "; ".join(f"{field}: {' '.join(map(str, messages))}" for field, messages in
                       details.items()) if isinstance(details, dict) else ""
    return localize(error.message, "en") + (f" ({fields})" if fields else "")


def regency_of(role, scope):
    """The regency of a scope that exists, else ActorError."""
    if role == policy.ADMIN:
        return None
    if role in SCOPE_LEVEL:
        if registry.level_of(scope) != SCOPE_LEVEL[role]:
            raise ActorError(f"--scope {scope}: no {SCOPE_LEVEL[role]} has this code")
        return scope[:5]
    with store_of("routing", RoutingBase.metadata) as store, store.read() as session:
        agency = session.get(Agency, scope)
        if agency is None:
            raise ActorError(f"--scope {scope}: no agency has this id (see GET /api/v1/agencies)")
        return agency.regency_code


def checked_channels(channels):
    """The channels as the API takes them (services/gateway/schemas.ChannelsInput)."""
    try:
        return load_body(channels, ChannelsInput)
    except JembatanError as exc:
        raise ActorError(explain(exc)) from None


def add_actor(role, scope, name, username=None, password=None, channels=None):
    """A new actor; without a username, with an API token (shown once)."""
    try:
        accounts.check_scope(role, scope)
    except JembatanError as exc:
        raise ActorError(explain(exc)) from None
    channels = checked_channels(channels or {})
    regency = regency_of(role, scope)
    now = utcnow()
    if (username is None) != (password is None):
        raise ActorError("--username and --password-stdin go together (a person signs in); "
                         "without them the actor gets an API token")
    with gateway() as session:
        actor = accounts.create_actor(session, role, scope, name, regency, now, by=operator(),
                                      username=username)
        if password is not None:
            accounts.set_password(session, actor, password, now, by=operator())
        if channels:
            accounts.set_channels(session, actor, channels, now, by=operator())
        view = accounts.actor_view(actor)
        if username is None:
            _token, view["token"] = accounts.issue_token(session, actor, now, by=operator())
        return view


def find(session, who):
    """An actor by id or username."""
    actor = session.scalar(select(Actor).where(or_(Actor.id == who,
                                                   Actor.username == who.strip().lower())))
    if actor is None:
        raise ActorError(f"no actor has the id or username {who}")
    return actor


def list_actors(role=None, scope=None):
    with store_of("gateway", GatewayBase.metadata) as store, store.read() as session:
        query = select(Actor).order_by(Actor.role, Actor.scope, Actor.name)
        if role:
            query = query.where(Actor.role == role)
        if scope:
            query = query.where(Actor.scope == scope)
        return [accounts.actor_view(actor) for actor in session.scalars(query)]


def set_disabled(who, disabled, reason=None):
    with gateway() as session:
        actor = find(session, who)
        accounts.set_disabled(session, actor, disabled, utcnow(), by=operator(), reason=reason)
        return accounts.actor_view(actor)


def set_password(who, password):
    with gateway() as session:
        actor = find(session, who)
        accounts.set_password(session, actor, password, utcnow(), by=operator())
        return accounts.actor_view(actor)


def set_channels(who, channels):
    """Change how an actor is reached (the fields given); what it is now."""
    channels = checked_channels(channels)
    with gateway() as session:
        actor = find(session, who)
        accounts.set_channels(session, actor, channels, utcnow(), by=operator())
        return accounts.channels_view(actor)


def issue_token(who, label=None, expires_in_days=None):
    now = utcnow()
    with gateway() as session:
        actor = find(session, who)
        token, secret = accounts.issue_token(
            session, actor, now, label=label, by=operator(),
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None)
        return {**accounts.token_view(token), "actor_id": actor.id, "token": secret}


def revoke_token(token_id):
    with gateway() as session:
        token = session.get(Token, token_id)
        if token is None:
            raise ActorError(f"no token has the id {token_id}")
        accounts.revoke(session, token, utcnow(), by=operator())
        return accounts.token_view(token)
