"""Adding actors from the command line, with their scope checked against what exists."""
from services.gateway import auth
from services.gateway.models import Base as GatewayBase
from services.routing.models import Agency
from services.routing.models import Base as RoutingBase
from services.villages import registry
from shared.db import Store

SCOPE_LEVEL = {"village": "village", "coordinator": "district", "regency": "regency"}


def check_scope_exists(role, scope):
    if role in SCOPE_LEVEL:
        if registry.level_of(scope) != SCOPE_LEVEL[role]:
            raise ValueError(f"--scope {scope}: no {SCOPE_LEVEL[role]} has this code")
    elif role == "agency":
        store = Store("routing", RoutingBase.metadata)
        store.migrate()
        try:
            with store.read() as session:
                if session.get(Agency, scope) is None:
                    raise ValueError(f"--scope {scope}: no agency has this id "
                                     "(see GET /api/v1/agencies)")
        finally:
            store.close()


def add_actor(role, scope, name):
    name = (name or "").strip()
    if not name:
        raise ValueError("--name must not be blank")
    problem = auth.scope_problem(role, scope)
    if problem:
        raise ValueError(f"--scope: {problem}")
    if scope:
        check_scope_exists(role, scope)
    store = Store("gateway", GatewayBase.metadata)
    store.migrate()
    try:
        with store.transaction() as unit:
            actor, token = auth.create_actor(unit.session, role, scope, name)
            return {"id": actor.id, "role": role, "scope": scope, "name": name, "token": token}
    finally:
        store.close()
