"""how many cases each district and regency has in each status, for the board's totals

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

The table `case_counts` (services/requests/board.py keeps it in step with the cases: what the
totals of the board's lists and the summary's counts per status read, instead of counting a
regency's cases one by one), filled here from the cases already there by the rule board.refresh
states (written out, as it is today).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CASE_COUNTS = """
INSERT INTO case_counts (area, status, cases)
SELECT district_code, status, count(*) FROM cases GROUP BY district_code, status
UNION ALL
SELECT regency_code, status, count(*) FROM cases GROUP BY regency_code, status
"""


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'case_counts',
        sa.Column('area', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('cases', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('area', 'status'),
    )
    op.execute(CASE_COUNTS)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('case_counts')
