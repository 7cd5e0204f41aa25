"""The audit log: every change to an account, every sign-in, every refused sign-in and every
denied request, with who, from where and when. Admins read it (GET /api/v1/audit).

Written in the same transaction as the change it records.
"""
from sqlalchemy import select

from services.gateway.models import AuditEntry
from shared.events import iso

ACTIONS = (
    "auth.login", "auth.login_refused", "auth.login_throttled", "auth.logout",
    "auth.password_refused",
    "access.unauthorized", "access.forbidden",
    "actor.created", "actor.disabled", "actor.enabled", "actor.password_set",
    "actor.channels_set",
    "token.issued", "token.revoked",
)


def record(session, now, action, by=None, target=None, detail=None, address=None):
    """Add one entry. `by` is who acted (a principal or a dict with id, role, name; None for
    nobody known); `address` the client's address, when it came over HTTP."""
    assert action in ACTIONS, action
    if by is not None and not isinstance(by, dict):
        by = by.as_dict()
    by = by or {}
    session.add(AuditEntry(
        at=now, action=action, actor_id=by.get("id"), actor_role=by.get("role"),
        actor_name=by.get("name"), address=address or by.get("address"),
        target=(target or "")[:300] or None, detail=detail or {}))


def entry_view(entry):
    return {"id": entry.seq, "at": iso(entry.at), "action": entry.action,
            "actor": {"id": entry.actor_id, "role": entry.actor_role, "name": entry.actor_name}
            if entry.actor_id else None,
            "address": entry.address, "target": entry.target, "detail": entry.detail}


def entries(filters):
    """The entries (newest first) of an action, of an actor, or all."""
    conditions = []
    if filters.get("action"):
        conditions.append(AuditEntry.action == filters["action"])
    if filters.get("actor"):
        conditions.append(AuditEntry.actor_id == filters["actor"])
    return select(AuditEntry).where(*conditions).order_by(AuditEntry.seq.desc())
