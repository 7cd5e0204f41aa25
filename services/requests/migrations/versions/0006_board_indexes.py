"""the board's indexes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

The indexes of the coordinator's board (models.BOARD_INDEXES), for a history of a million
cases; they replace the single-column indexes of the district, regency and village codes and
of a task's case and agency, which they begin with.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = sa.text("status NOT IN ('closed', 'cancelled')")
WORKED_ON = sa.text("status IN ('pending', 'accepted')")


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for scope, named in (('district_code', 'district'), ('regency_code', 'regency')):
            batch_op.create_index(
                f'ix_cases_{named}_created', [scope, 'created_at', 'id'], unique=False,
                postgresql_include=['regency_code'] if named == 'district' else [])
            batch_op.create_index(f'ix_cases_{named}_status',
                                  [scope, 'status', 'created_at', 'id'], unique=False)
            batch_op.create_index(f'ix_cases_{named}_category',
                                  [scope, 'category', 'created_at', 'id'], unique=False)
            batch_op.create_index(f'ix_cases_{named}_updated', [scope, 'updated_at', 'id'],
                                  unique=False)
            batch_op.create_index(
                f'ix_cases_{named}_escalation',
                [scope, sa.text('escalation_level DESC'), 'created_at', 'id'], unique=False)
            batch_op.create_index(f'ix_cases_{named}_id', [scope, 'id'], unique=False)
        batch_op.create_index('ix_cases_village_created', ['village_code', 'created_at', 'id'],
                              unique=False, postgresql_include=['district_code', 'regency_code'])
        for scope, named in (('regency_code', 'regency'), ('district_code', 'district')):
            batch_op.create_index(
                f'ix_cases_open_{named}', [scope, 'village_code'], unique=False,
                postgresql_include=['id', 'status', 'category', 'escalation_level',
                                    'created_at', 'updated_at', 'likely_duplicate_of',
                                    'village_name'],
                postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.drop_index('ix_cases_district_code')
        batch_op.drop_index('ix_cases_regency_code')
        batch_op.drop_index('ix_cases_village_code')

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_case', ['case_id'], unique=False,
                              postgresql_include=['agency_id', 'role', 'status'])
        batch_op.create_index('ix_tasks_agency_case', ['agency_id', 'case_id'], unique=False,
                              postgresql_include=['status'])
        batch_op.create_index(
            'ix_tasks_active', ['case_id'], unique=False,
            postgresql_include=['agency_id', 'agency_name', 'role', 'status', 'accept_due_at',
                                'due_at'],
            postgresql_where=WORKED_ON, sqlite_where=WORKED_ON)
        batch_op.drop_index('ix_tasks_case_id')
        batch_op.drop_index('ix_tasks_agency_id')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_agency_id', ['agency_id'], unique=False)
        batch_op.create_index('ix_tasks_case_id', ['case_id'], unique=False)
        batch_op.drop_index('ix_tasks_active')
        batch_op.drop_index('ix_tasks_agency_case')
        batch_op.drop_index('ix_tasks_case')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_village_code', ['village_code'], unique=False)
        batch_op.create_index('ix_cases_regency_code', ['regency_code'], unique=False)
        batch_op.create_index('ix_cases_district_code', ['district_code'], unique=False)
        batch_op.drop_index('ix_cases_open_district')
        batch_op.drop_index('ix_cases_open_regency')
        batch_op.drop_index('ix_cases_village_created')
        for named in ('regency', 'district'):
            for index in ('id', 'escalation', 'updated', 'category', 'status', 'created'):
                batch_op.drop_index(f'ix_cases_{named}_{index}')
