"""accounts and audit

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('audit',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.String(length=36), nullable=True),
    sa.Column('actor_role', sa.String(length=20), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('target', sa.String(length=300), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_at'), ['at'], unique=False)

    op.create_table('login_failures',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(), nullable=False),
    sa.Column('blocked_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failures_last_failed_at'), ['last_failed_at'], unique=False)
    with op.batch_alter_table('actors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('regency_code', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('username', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('password_hash', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_actors_regency_code'), ['regency_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_actors_username'), ['username'], unique=True)

    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=10), server_default='api', nullable=False))
        batch_op.add_column(sa.Column('label', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))

    # The regency of the actors there are: an agency's is set when the demo is seeded again
    # (or the agency's actor is added again); the others follow from their scope.
    op.execute("UPDATE actors SET regency_code = substr(scope, 1, 5) "
               "WHERE role IN ('village', 'coordinator', 'regency')")
    # Tokens were kept as argon2 hashes, now as SHA-256 digests: the old ones end here (no
    # release had them; `jembatan demo seed` or `actors token` gives new ones).
    op.execute("UPDATE tokens SET revoked_at = CURRENT_TIMESTAMP "
               "WHERE secret_hash LIKE '$argon2%' AND revoked_at IS NULL")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('label')
        batch_op.drop_column('kind')

    with op.batch_alter_table('actors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actors_username'))
        batch_op.drop_index(batch_op.f('ix_actors_regency_code'))
        batch_op.drop_column('disabled_at')
        batch_op.drop_column('password_hash')
        batch_op.drop_column('username')
        batch_op.drop_column('regency_code')

    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failures_last_failed_at'))

    op.drop_table('login_failures')
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_at'))
        batch_op.drop_index(batch_op.f('ix_audit_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_action'))

    op.drop_table('audit')
