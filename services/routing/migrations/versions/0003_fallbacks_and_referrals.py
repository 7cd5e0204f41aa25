"""fallbacks and referrals

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('referrals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('declined_agency_id', sa.String(length=64), nullable=False),
    sa.Column('referred_agency_id', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fallback_agency_ids', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.drop_column('fallback_agency_ids')

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_case_id'))

    op.drop_table('referrals')
