"""actor channels, and the outbox that tells the notifications service of actors

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

Every actor that exists already is told once (`actor_changed`, version 1), so that the
notifications service knows the actors made before it listened.
"""
import json
import uuid
from datetime import datetime, timezone
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from shared.events import ACTOR_CHANGED, make_event

revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('actors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('whatsapp', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('language', sa.String(length=2), server_default='id', nullable=False))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    outbox = op.create_table('outbox',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('event_id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_published_at'), ['published_at'], unique=False)
    op.create_table('processed_events',
    sa.Column('consumer', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('processed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id')
    )
    actors = op.get_bind().execute(sa.text(
        "SELECT id, role, scope, name, disabled_at FROM actors")).all()
    now = datetime.now(timezone.utc)
    rows = []
    for actor_id, role, scope, name, disabled_at in actors:
        envelope = make_event(ACTOR_CHANGED, {
            "actor": {"id": actor_id, "role": role, "scope": scope, "name": name, "email": None,
                      "phone": None, "whatsapp": False, "language": "id",
                      "disabled": disabled_at is not None},
            "version": 1}, "gateway", str(uuid.uuid4()))
        rows.append({"event_id": envelope["event_id"], "type": ACTOR_CHANGED,
                     "body": json.dumps(envelope), "created_at": now.replace(tzinfo=None)})
    if rows:
        op.bulk_insert(outbox, rows)


def downgrade() -> None:
    op.drop_table('processed_events')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_published_at'))
    op.drop_table('outbox')
    with op.batch_alter_table('actors', schema=None) as batch_op:
        for column in ('version', 'language', 'whatsapp', 'phone', 'email'):
            batch_op.drop_column(column)
