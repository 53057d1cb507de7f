"""my deadlines: plans, earlier stays and reminders

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('deadline_plans',
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('contract_date', sa.Date(), nullable=True),
    sa.Column('reminders', sa.Boolean(), nullable=False),
    sa.Column('consented_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_rules', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_deadline_plans'))
    )
    op.create_table('deadline_stays',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('entered', sa.Date(), nullable=False),
    sa.Column('left', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_stays'))
    )
    op.create_index(op.f('ix_deadline_stays_user_id'), 'deadline_stays', ['user_id'])
    op.create_table('deadline_reminders',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('rule_key', sa.String(length=32), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('days_before', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_reminders'))
    )
    op.create_index(op.f('ix_deadline_reminders_user_id'), 'deadline_reminders', ['user_id'])


def downgrade() -> None:
    # Reminders still waiting in the outbox have nothing to send without their rows.
    op.execute("DELETE FROM outbox WHERE kind = 'reminder'")
    op.drop_index(op.f('ix_deadline_reminders_user_id'), table_name='deadline_reminders')
    op.drop_table('deadline_reminders')
    op.drop_index(op.f('ix_deadline_stays_user_id'), table_name='deadline_stays')
    op.drop_table('deadline_stays')
    op.drop_table('deadline_plans')
