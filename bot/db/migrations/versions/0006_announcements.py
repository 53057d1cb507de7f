"""announcements, their recipients, and the users' choice to get none

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 13:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('announcements_off', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table('announcements',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('texts', sa.Text(), nullable=False),
    sa.Column('topic_key', sa.String(length=64), nullable=True),
    sa.Column('segment', sa.Text(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sa.BigInteger(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcements'))
    )
    op.create_table('announcement_recipients',
    sa.Column('announcement_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcements.id'],
                            name=op.f('fk_announcement_recipients_announcement_id_announcements'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('announcement_id', 'user_id', name=op.f('pk_announcement_recipients'))
    )
    op.create_index('ix_announcement_recipients_next', 'announcement_recipients',
                    ['announcement_id', 'status', 'attempts', 'user_id'])
    op.create_index('ix_announcement_recipients_user_id', 'announcement_recipients', ['user_id'])


def downgrade() -> None:
    op.drop_index('ix_announcement_recipients_user_id', table_name='announcement_recipients')
    op.drop_index('ix_announcement_recipients_next', table_name='announcement_recipients')
    op.drop_table('announcement_recipients')
    op.drop_table('announcements')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('announcements_off')
