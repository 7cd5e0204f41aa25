"""the issues a district's coordinator proposes to the Musrenbang kecamatan of a year

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'musrenbang_proposals',
        sa.Column('district_code', sa.String(length=8), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('proposed_by_id', sa.String(length=36), nullable=False),
        sa.Column('proposed_by_name', sa.String(length=200), nullable=False),
        sa.Column('proposed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('district_code', 'year', 'category'),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('musrenbang_proposals')
