"""the staff console: sessions, one-time links, login attempts, notes, canned replies; the
case's wait, reminder, forum topic and satisfaction; a staff message's delivery state

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 14:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('console_locale', sa.String(length=16), nullable=True))
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('forum_topic_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('satisfaction_asked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('satisfaction', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('satisfaction_comment', sa.Text(), nullable=True))
        batch_op.create_index('ix_requests_waiting_since', ['waiting_since'])
    # Open cases no one has answered since the user last wrote wait from their last change.
    op.execute("UPDATE requests SET waiting_since = updated_at "
               "WHERE status IN ('new', 'in_progress') AND deleted_by_user = false")
    with op.batch_alter_table('request_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery', sa.String(length=10), nullable=True))
    op.execute("UPDATE request_messages SET delivery = CASE WHEN delivered THEN 'delivered' "
               "ELSE 'blocked' END WHERE author = 'staff'")
    with op.batch_alter_table('request_messages', schema=None) as batch_op:
        batch_op.drop_column('delivered')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_target', ['target'])
    op.create_table('case_notes',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('request_id', sa.BigInteger(), nullable=False),
    sa.Column('author_id', sa.BigInteger(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'],
                            name=op.f('fk_case_notes_request_id_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notes'))
    )
    op.create_index('ix_case_notes_request_id', 'case_notes', ['request_id'])
    op.create_table('canned_replies',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_replies'))
    )
    op.create_index('ix_canned_replies_locale', 'canned_replies', ['locale'])
    op.create_table('console_login_links',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_console_login_links'))
    )
    op.create_index('ix_console_login_links_expires_at', 'console_login_links', ['expires_at'])
    op.create_table('console_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.BigInteger(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_console_sessions'))
    )
    op.create_index('ix_console_sessions_staff_id', 'console_sessions', ['staff_id'])
    op.create_index('ix_console_sessions_expires_at', 'console_sessions', ['expires_at'])
    op.create_table('console_login_attempts',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_login_attempts'))
    )
    op.create_index('ix_console_login_attempts_client_at', 'console_login_attempts', ['client', 'at'])


def downgrade() -> None:
    op.drop_table('console_login_attempts')
    op.drop_table('console_sessions')
    op.drop_table('console_login_links')
    op.drop_table('canned_replies')
    op.drop_table('case_notes')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_target')
    with op.batch_alter_table('request_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivered', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.drop_column('delivery')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('ix_requests_waiting_since')
        for column in ('satisfaction_comment', 'satisfaction', 'satisfaction_asked_at',
                       'forum_topic_id', 'reminded_at', 'waiting_since'):
            batch_op.drop_column(column)
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.drop_column('console_locale')
        batch_op.drop_column('name')
