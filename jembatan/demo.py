"""The demo jurisdiction: Kota Batu (35.79), its agencies and rules, one actor per party, each
with a username and the demo password (JEMBATAN_DEMO_PASSWORD, or one made up and printed)."""
import os
import re
import secrets
from datetime import timedelta

from sqlalchemy import select

from services.gateway import accounts
from services.gateway.models import Actor
from services.gateway.models import Base as GatewayBase
from services.routing import jurisdiction
from services.routing.models import Agency
from services.routing.models import Base as RoutingBase
from services.villages import registry
from services.villages import service as villages_service
from services.villages.models import Base as VillagesBase
from services.villages.models import District, Village
from shared import config
from shared.db import Store
from shared.events import utcnow
from shared.regions import village_kind

REGENCY = "35.79"


def open_store(service, metadata):
    store = Store(service, metadata)
    store.migrate()
    return store


def demo_actors(villages, districts, agencies):
    """(role, scope, regency, name, username) of every demo actor."""
    yield "admin", None, None, "Admin Jembatan", "admin"
    yield "regency", REGENCY, REGENCY, "Kantor Walikota Batu", "walikota.batu"
    for district in districts:
        yield ("coordinator", district.code, REGENCY, f"Koordinator Kecamatan {district.name}",
               f"kec.{slug(district.name)}")
    for agency in agencies:
        yield ("agency", agency.id, agency.regency_code, f"Petugas {agency.short_name}",
               agency.id)
    for village in villages:
        kind = village_kind(village.code)
        yield ("village", village.code, REGENCY, f"Operator {kind} {village.name}",
               f"{'kel' if kind == 'Kelurahan' else 'desa'}.{slug(village.name)}")


def slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def demo_password():
    """JEMBATAN_DEMO_PASSWORD, or a new one (printed by the seed)."""
    return os.environ.get("JEMBATAN_DEMO_PASSWORD") or f"demo-{secrets.token_urlsafe(9)}"


def seed():
    """Load the demo into each service's database; returns the actors with fresh tokens.

    Running it again keeps everything and gives each demo actor one more token.
    """
    villages_store = open_store("villages", VillagesBase.metadata)
    villages_service.prepare(villages_store)
    with villages_store.read() as session:
        districts = session.scalars(select(District).where(District.regency_code == REGENCY)
                                    .order_by(District.code)).all()
        villages = session.scalars(select(Village).where(
            Village.district_code.in_([d.code for d in districts])).order_by(Village.code)).all()

    routing_store = open_store("routing", RoutingBase.metadata)
    with routing_store.transaction() as unit:
        jurisdiction.load(unit.session)
    with routing_store.read() as session:
        agencies = session.scalars(select(Agency).where(Agency.regency_code == REGENCY)
                                   .order_by(Agency.id)).all()

    gateway_store = open_store("gateway", GatewayBase.metadata)
    issued = []
    now = utcnow()
    seeder = {"id": "demo", "role": "admin", "name": "jembatan demo seed"}
    password = demo_password()
    accounts.check_password(password)
    hashed = accounts.passwords.hash(password)  # one hash for all: they share the password
    given = False
    with gateway_store.transaction() as unit:
        for role, scope, regency, name, username in demo_actors(villages, districts, agencies):
            actor = unit.session.scalar(select(Actor).where(Actor.username == username)) or \
                unit.session.scalar(select(Actor).where(  # seeded before it had usernames
                    Actor.role == role, Actor.name == name, Actor.username.is_(None),
                    Actor.scope.is_(None) if scope is None else Actor.scope == scope))
            if actor is None:
                actor = accounts.create_actor(unit.session, role, scope, name, regency, now,
                                              by=seeder, username=username)
            actor.regency_code, actor.username = regency, username
            if actor.password_hash is None:
                actor.password_hash, given = hashed, True
            # A person's token is a session, as signing in gives (API tokens are for systems).
            _row, token = accounts.open_session(unit.session, actor, now,
                                                timedelta(hours=config.session_hours()))
            issued.append({"id": actor.id, "role": role, "scope": scope, "name": name,
                           "username": username, "token": token})
    for store in (villages_store, routing_store, gateway_store):
        store.close()
    return {"regency": {"code": REGENCY,
                        "name": registry.pretty_regency_name(registry.names("regencies.csv")[REGENCY])},
            "districts": len(districts), "villages": len(villages), "agencies": len(agencies),
            "password": password if given else None, "actors": issued}
