"""deadlines by severity

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

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
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadlines', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.drop_column('resolve_within_hours')
        batch_op.drop_column('accept_within_hours')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accept_within_hours', sa.INTEGER(), nullable=False, server_default='24'))
        batch_op.add_column(sa.Column('resolve_within_hours', sa.INTEGER(), nullable=False, server_default='72'))
        batch_op.drop_column('deadlines')

