"""outbox: messages waiting to be sent (e-mail, text, letter, phone task)

Revision ID: 0002b
Revises: 0001
Create Date: 2026-11-24 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.base


revision = '0002b'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_reference', sa.String(length=100), nullable=True),
    sa.Column('recipient_role', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.Enum('email', 'sms', 'letter', 'phone_task', name='message_channel', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('to_address', sa.Text(), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('template', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Enum('pending', 'held', 'sent', 'failed', name='outbox_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', cases.base.Timestamp(timezone=True), nullable=True),
    sa.Column('not_before', cases.base.Timestamp(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('provider_id', sa.String(length=200), nullable=True),
    sa.Column('created_at', cases.base.Timestamp(timezone=True), nullable=False),
    sa.Column('sent_at', cases.base.Timestamp(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_case_reference'), ['case_reference'], unique=False)
        batch_op.create_index('ix_outbox_messages_due', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_due')
        batch_op.drop_index(batch_op.f('ix_outbox_messages_case_reference'))

    op.drop_table('outbox_messages')
