"""users and interactions

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 06:25:33.485472
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('interactions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_key', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('topic_key', sa.String(length=64), nullable=True),
    sa.Column('query', sa.Text(), nullable=True),
    sa.Column('result_count', sa.Integer(), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interactions'))
    )
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interactions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_interactions_user_key'), ['user_key'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('pseudonym', sa.String(length=32), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('language_code', sa.String(length=16), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('pseudonym', name=op.f('uq_users_pseudonym'))
    )


def downgrade() -> None:
    op.drop_table('users')
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interactions_user_key'))
        batch_op.drop_index(batch_op.f('ix_interactions_created_at'))

    op.drop_table('interactions')
