"""an agency's cases and a case's next deadline, for the board

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

What services/requests/board.py keeps in step with the cases and their tasks: a case's next
deadline (`cases.next_deadline_at`, what the `deadline` sort orders by, indexed per district
and per regency in place of the index of ids that sort read) and the table `agency_cases` (a
row per agency that has or had a task on a case, whether the agency sees it, which agencies
have or had a task on it, with the case's columns the board filters and sorts by), with an
index per sort and one of its cases still open. Both are filled here from the cases and tasks
already there, by the rule board.refresh states (written out, as it is today).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COPIED = ('status', 'category', 'village_code', 'village_name', 'district_code',
          'regency_code', 'escalation_level', 'likely_duplicate_of', 'created_at',
          'updated_at', 'next_deadline_at')
OPEN = sa.text("status NOT IN ('closed', 'cancelled')")
FILTERED = ['sees', 'status', 'category', 'village_code', 'district_code', 'regency_code',
            'escalation_level', 'likely_duplicate_of', 'agencies']
NEXT_DEADLINE = """
UPDATE cases SET next_deadline_at = (
    SELECT min(CASE WHEN t.status = 'pending' THEN t.accept_due_at
                    WHEN t.status = 'accepted' THEN t.due_at END)
    FROM tasks t WHERE t.case_id = cases.id AND t.status IN ('pending', 'accepted'))
WHERE id IN (SELECT case_id FROM tasks WHERE status IN ('pending', 'accepted'))
"""
AGENCY_CASES = f"""
INSERT INTO agency_cases (case_id, agency_id, sees, agencies, {', '.join(COPIED)})
SELECT c.id, t.agency_id,
       max(CASE WHEN t.status NOT IN ('declined', 'withdrawn') THEN 1 ELSE 0 END) = 1,
       listed.agencies, {', '.join('c.' + column for column in COPIED)}
FROM cases c JOIN tasks t ON t.case_id = c.id
JOIN (SELECT case_id, ',' || {{agency_list}} || ',' AS agencies FROM tasks GROUP BY case_id)
     listed ON listed.case_id = c.id
GROUP BY c.id, t.agency_id, listed.agencies
ORDER BY c.id, t.agency_id
"""
AGENCY_LIST = {'postgresql': "string_agg(DISTINCT agency_id, ',')",
               'sqlite': 'group_concat(DISTINCT agency_id)'}


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_deadline_at', sa.DateTime(), nullable=True))
    op.create_table(
        'agency_cases',
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('agency_id', sa.String(length=64), nullable=False),
        sa.Column('sees', sa.Boolean(), nullable=False),
        sa.Column('agencies', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=False),
        sa.Column('village_code', sa.String(length=13), nullable=False),
        sa.Column('village_name', sa.String(length=100), nullable=False),
        sa.Column('district_code', sa.String(length=8), nullable=False),
        sa.Column('regency_code', sa.String(length=5), nullable=False),
        sa.Column('escalation_level', sa.Integer(), nullable=False),
        sa.Column('likely_duplicate_of', sa.String(length=36), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('next_deadline_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id', 'agency_id'),
    )
    op.execute(NEXT_DEADLINE)
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        # Every read of it is one agency's range of an index, tens of thousands of entries at
        # most: starting parallel workers costs more than they save (a page of the `agency`
        # filter took 15 ms with two, under 1 ms without), and more on a busy server.
        op.execute('ALTER TABLE agency_cases SET (parallel_workers = 0)')
    # In the order of the key (its index fills page by page); then the other indexes, each
    # built once.
    op.execute(AGENCY_CASES.format(agency_list=AGENCY_LIST[dialect]))

    with op.batch_alter_table('agency_cases', schema=None) as batch_op:
        batch_op.create_index(
            'ix_agency_cases_open', ['agency_id', 'village_code'], unique=False,
            postgresql_include=['case_id', 'sees', 'status', 'category', 'escalation_level',
                                'created_at', 'updated_at', 'likely_duplicate_of',
                                'village_name'],
            postgresql_where=OPEN, sqlite_where=OPEN)
        for named, columns, included in (
                ('created', ['created_at'], ()),
                ('updated', ['updated_at'], ()),
                ('escalation', [sa.text('escalation_level DESC'), 'created_at'],
                 ('escalation_level',)),
                ('deadline', ['next_deadline_at'], ())):
            batch_op.create_index(
                f'ix_agency_cases_{named}', ['agency_id', *columns, 'case_id'], unique=False,
                postgresql_include=[c for c in FILTERED if c not in included])

    with op.batch_alter_table('cases', schema=None) as batch_op:
        for scope, named in (('district_code', 'district'), ('regency_code', 'regency')):
            batch_op.create_index(f'ix_cases_{named}_deadline',
                                  [scope, 'next_deadline_at', 'id'], unique=False)
            batch_op.drop_index(f'ix_cases_{named}_id')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for scope, named in (('district_code', 'district'), ('regency_code', 'regency')):
            batch_op.create_index(f'ix_cases_{named}_id', [scope, 'id'], unique=False)
            batch_op.drop_index(f'ix_cases_{named}_deadline')
    with op.batch_alter_table('agency_cases', schema=None) as batch_op:
        for named in ('deadline', 'escalation', 'updated', 'created', 'open'):
            batch_op.drop_index(f'ix_agency_cases_{named}')
    op.drop_table('agency_cases')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('next_deadline_at')
