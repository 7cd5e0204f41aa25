"""each Musrenbang proposal and withdrawal: who, when, with which note

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'musrenbang_changes',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('district_code', sa.String(length=8), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('actor_id', sa.String(length=36), nullable=False),
        sa.Column('actor_name', sa.String(length=200), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('musrenbang_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_musrenbang_changes_district_code'),
                              ['district_code'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('musrenbang_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_musrenbang_changes_district_code'))
    op.drop_table('musrenbang_changes')
