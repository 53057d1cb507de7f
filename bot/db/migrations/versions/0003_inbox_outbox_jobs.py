"""inbox, outbox and scheduled jobs: the state several processes share

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 11:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('user_key', sa.BigInteger(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=32), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('update_id', name=op.f('pk_inbox'))
    )
    op.create_index('ix_inbox_status_update_id', 'inbox', ['status', 'update_id'])
    op.create_index('ix_inbox_user_key_status_update_id', 'inbox',
                    ['user_key', 'status', 'update_id'])
    op.create_index('ix_inbox_user_key_received_at', 'inbox', ['user_key', 'received_at'])
    op.create_index('ix_inbox_received_at', 'inbox', ['received_at'])
    op.create_table('outbox',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ref', sa.BigInteger(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=32), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    op.create_index('ix_outbox_done_at_due_at', 'outbox', ['done_at', 'due_at'])
    op.create_index('ix_outbox_kind_ref', 'outbox', ['kind', 'ref'])
    op.create_table('scheduled_jobs',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduled_jobs'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_unanswered', sa.Text(), nullable=True))
    # Cases filed before this version whose card never reached the staff group.
    op.execute("INSERT INTO outbox (kind, ref, due_at, attempts) "
               "SELECT 'card', id, created_at, 0 FROM requests "
               "WHERE staff_message_id IS NULL AND deleted_by_user = false "
               "AND status IN ('new', 'in_progress', 'answered')")


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_unanswered')
    op.drop_table('scheduled_jobs')
    op.drop_index('ix_outbox_kind_ref', table_name='outbox')
    op.drop_index('ix_outbox_done_at_due_at', table_name='outbox')
    op.drop_table('outbox')
    op.drop_index('ix_inbox_received_at', table_name='inbox')
    op.drop_index('ix_inbox_user_key_received_at', table_name='inbox')
    op.drop_index('ix_inbox_user_key_status_update_id', table_name='inbox')
    op.drop_index('ix_inbox_status_update_id', table_name='inbox')
    op.drop_table('inbox')
