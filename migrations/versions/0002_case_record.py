"""case record: cases, people in them, incidents, assessments, plans, contacts, links

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 12:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.base


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_sequences',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_case_sequences'))
    )
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', name='case_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('stage', sa.Enum('intake', 'triage', 'contact', 'support', 'evidence', 'legal_action', 'case_review', 'complaint', 'closure', name='stage', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('priority', sa.SmallInteger(), nullable=True),
    sa.Column('channel', sa.Enum('phone', 'online', 'email', 'face_to_face', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('received_at', cases.base.Timestamp(timezone=True), nullable=False),
    sa.Column('first_contact_due_at', cases.base.Timestamp(timezone=True), nullable=True),
    sa.Column('first_contact_at', cases.base.Timestamp(timezone=True), nullable=True),
    sa.Column('first_contact_breached_at', cases.base.Timestamp(timezone=True), nullable=True),
    sa.Column('category', sa.Enum('personal', 'nuisance', 'environmental', name='category', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('hate_strands', sa.JSON(), nullable=False),
    sa.Column('hate', sa.Boolean(), nullable=False),
    sa.Column('safeguarding', sa.Boolean(), nullable=False),
    sa.Column('repeat_victim', sa.Boolean(), nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('case_officer', sa.String(length=64), nullable=True),
    sa.Column('team', sa.String(length=64), nullable=True),
    sa.Column('area', sa.String(length=128), nullable=True),
    sa.Column('update_cadence_days', sa.Integer(), nullable=True),
    sa.Column('update_frequency', sa.String(length=32), nullable=True),
    sa.Column('next_update_due_at', cases.base.Timestamp(timezone=True), nullable=True),
    sa.Column('closed_at', cases.base.Timestamp(timezone=True), nullable=True),
    sa.Column('closure_reason', sa.Enum('resolved', 'no_further_action', 'insufficient_evidence', 'reporter_withdrew', 'referred_elsewhere', name='closure_reason', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('retention_until', sa.Date(), nullable=True),
    sa.Column('reopened_count', sa.Integer(), nullable=False),
    sa.Column('linked_from', sa.String(length=20), nullable=True),
    sa.Column('created_at', cases.base.Timestamp(timezone=True), nullable=False),
    sa.Column('updated_at', cases.base.Timestamp(timezone=True), nullable=False),
    sa.CheckConstraint('priority IN (1, 2)', name=op.f('ck_cases_priority')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('reference', name=op.f('uq_cases_reference'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_area_status', ['area', 'status'], unique=False)
        batch_op.create_index('ix_cases_officer_status', ['case_officer', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_received_at'), ['received_at'], unique=False)
        batch_op.create_index('ix_cases_status_priority', ['status', 'priority'], unique=False)

    op.create_table('persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('normalised_name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('postcode', sa.String(length=8), nullable=True),
    sa.Column('normalised_address', sa.String(length=500), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('created_at', cases.base.Timestamp(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_persons_normalised_address'), ['normalised_address'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_normalised_name'), ['normalised_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_postcode'), ['postcode'], unique=False)

    op.create_table('action_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('agreed_at', cases.base.Timestamp(timezone=True), nullable=False),
    sa.Column('agreed_by', sa.String(length=64), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('update_frequency', sa.String(length=32), nullable=False),
    sa.Column('update_cadence_days', sa.Integer(), nullable=False),
    sa.Column('agreed_with_reporter', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_action_plans_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_plans')),
    sa.UniqueConstraint('case_id', 'version', name=op.f('uq_action_plans_case_id'))
    )
    with op.batch_alter_table('action_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_plans_case_id'), ['case_id'], unique=False)

    op.create_table('case_incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', cases.base.Timestamp(timezone=True), nullable=False),
    sa.Column('reported_at', cases.base.Timestamp(timezone=True), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location', sa.String(length=500), nullable=False),
    sa.Column('postcode', sa.String(length=8), nullable=True),
    sa.Column('normalised_address', sa.String(length=500), nullable=True),
    sa.Column('ward', sa.String(length=128), nullable=True),
    sa.Column('category', sa.Enum('personal', 'nuisance', 'environmental', name='category', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('hate_strands', sa.JSON(), nullable=False),
    sa.Column('source', sa.Enum('report', 'new_incident', 'diary', name='incident_source', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_incidents_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_incidents'))
    )
    with op.batch_alter_table('case_incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_incidents_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_incidents_normalised_address'), ['normalised_address'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_incidents_postcode'), ['postcode'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_incidents_reported_at'), ['reported_at'], unique=False)

    op.create_table('case_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('linked_case_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('same_address', 'same_postcode', 'same_reported_person', 'reopened_as_new', name='link_reason', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', cases.base.Timestamp(timezone=True), nullable=False),
    sa.CheckConstraint('case_id < linked_case_id', name=op.f('ck_case_links_ordered_pair')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_links_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_case_id'], ['cases.id'], name=op.f('fk_case_links_linked_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_links')),
    sa.UniqueConstraint('case_id', 'linked_case_id', name=op.f('uq_case_links_case_id'))
    )
    with op.batch_alter_table('case_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_links_linked_case_id'), ['linked_case_id'], unique=False)

    op.create_table('case_parties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('reporter', 'victim', 'witness', 'reported_person', name='party_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('contact_preferences', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_parties_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_case_parties_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_parties')),
    sa.UniqueConstraint('case_id', 'person_id', 'role', name=op.f('uq_case_parties_case_id'))
    )
    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_parties_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_parties_person_id'), ['person_id'], unique=False)

    op.create_table('contact_log_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', cases.base.Timestamp(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.Enum('in', 'out', name='direction', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('method', sa.Enum('phone', 'face_to_face', 'email', 'letter', 'sms', name='contact_method', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('kind', sa.Enum('first_contact', 'update', 'acknowledgement', 'closure', 'other', name='contact_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_contact_log_entries_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_log_entries'))
    )
    with op.batch_alter_table('contact_log_entries', schema=None) as batch_op:
        batch_op.create_index('ix_contact_log_entries_case_at', ['case_id', 'at'], unique=False)

    op.create_table('disclosures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', cases.base.Timestamp(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=64), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.Enum('crime_and_disorder_act_s115', 'safeguarding', 'crime_committed', 'legal_obligation', 'consent', name='legal_basis', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_disclosures_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosures'))
    )
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosures_case_id'), ['case_id'], unique=False)

    op.create_table('risk_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('assessed_at', cases.base.Timestamp(timezone=True), nullable=False),
    sa.Column('assessed_by', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('initial_decision', 'officer', 'review', name='assessment_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('harm', sa.Enum('low', 'medium', 'high', name='harm', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('vulnerability', sa.JSON(), nullable=True),
    sa.Column('community_impact', sa.Enum('low', 'medium', 'high', name='community_impact', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('child_at_risk', sa.Boolean(), nullable=False),
    sa.Column('vulnerable_adult', sa.Boolean(), nullable=False),
    sa.Column('threat_of_violence', sa.Boolean(), nullable=False),
    sa.Column('high_risk', sa.Boolean(), nullable=False),
    sa.Column('repeat_victim', sa.Boolean(), nullable=False),
    sa.Column('priority_before', sa.SmallInteger(), nullable=True),
    sa.Column('priority_after', sa.SmallInteger(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_risk_assessments_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_assessments'))
    )
    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_assessments_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_assessments_case_id'))

    op.drop_table('risk_assessments')
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosures_case_id'))

    op.drop_table('disclosures')
    with op.batch_alter_table('contact_log_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_log_entries_case_at')

    op.drop_table('contact_log_entries')
    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_parties_person_id'))
        batch_op.drop_index(batch_op.f('ix_case_parties_case_id'))

    op.drop_table('case_parties')
    with op.batch_alter_table('case_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_links_linked_case_id'))

    op.drop_table('case_links')
    with op.batch_alter_table('case_incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_incidents_reported_at'))
        batch_op.drop_index(batch_op.f('ix_case_incidents_postcode'))
        batch_op.drop_index(batch_op.f('ix_case_incidents_normalised_address'))
        batch_op.drop_index(batch_op.f('ix_case_incidents_case_id'))

    op.drop_table('case_incidents')
    with op.batch_alter_table('action_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_plans_case_id'))

    op.drop_table('action_plans')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_postcode'))
        batch_op.drop_index(batch_op.f('ix_persons_normalised_name'))
        batch_op.drop_index(batch_op.f('ix_persons_normalised_address'))

    op.drop_table('persons')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_priority')
        batch_op.drop_index(batch_op.f('ix_cases_received_at'))
        batch_op.drop_index('ix_cases_officer_status')
        batch_op.drop_index('ix_cases_area_status')

    op.drop_table('cases')
    op.drop_table('case_sequences')
