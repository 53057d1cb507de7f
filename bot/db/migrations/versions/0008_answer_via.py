"""where a staff answer was written (Telegram or the console): a console answer is shown
in the staff group too

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('request_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('via', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('request_messages', schema=None) as batch_op:
        batch_op.drop_column('via')
