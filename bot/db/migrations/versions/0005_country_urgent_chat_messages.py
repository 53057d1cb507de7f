"""the user's country, urgent requests, and the chat messages a quick exit deletes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country', sa.String(length=8), nullable=True))
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table('chat_messages',
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('message_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('chat_id', 'message_id', name=op.f('pk_chat_messages'))
    )
    op.create_index(op.f('ix_chat_messages_sent_at'), 'chat_messages', ['sent_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_chat_messages_sent_at'), table_name='chat_messages')
    op.drop_table('chat_messages')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_column('urgent')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('country')
