"""Cases (the 台账: lead to elimination, every step) and department data warnings.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("cases",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("household_id", sa.String(length=64), nullable=False),
    sa.Column("township", sa.String(length=64), nullable=False),
    sa.Column("village", sa.String(length=64), nullable=False),
    sa.Column("source", sa.String(length=32), nullable=False),
    sa.Column("source_detail", sa.Text(), nullable=False),
    sa.Column("stage", sa.String(length=32), nullable=False),
    sa.Column("outcome", sa.String(length=32), nullable=False),
    sa.Column("lead_date", sa.Date(), nullable=False),
    sa.Column("notice_start", sa.Date(), nullable=True),
    sa.Column("decided_on", sa.Date(), nullable=True),
    sa.Column("closed_on", sa.Date(), nullable=True),
    sa.Column("risk_types", sa.JSON(), nullable=False),
    sa.Column("created_by", sa.String(length=64), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_township"), ["township"], unique=False)

    op.create_table("case_steps",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("case_id", sa.Integer(), nullable=False),
    sa.Column("action", sa.String(length=32), nullable=False),
    sa.Column("step_date", sa.Date(), nullable=False),
    sa.Column("detail", sa.JSON(), nullable=False),
    sa.Column("username", sa.String(length=64), nullable=False),
    sa.Column("recorded_at", sa.DateTime(), nullable=False),
    sa.Column("request_key", sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("request_key")
    )
    with op.batch_alter_table("case_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_steps_case_id"), ["case_id"], unique=False)

    op.create_table("department_warnings",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("run_id", sa.Integer(), nullable=False),
    sa.Column("household_id", sa.String(length=64), nullable=False),
    sa.Column("township", sa.String(length=64), nullable=False),
    sa.Column("rule", sa.String(length=64), nullable=False),
    sa.Column("department", sa.String(length=64), nullable=False),
    sa.Column("record", sa.String(length=128), nullable=False),
    sa.Column("record_date", sa.Date(), nullable=True),
    sa.Column("value", sa.Float(), nullable=True),
    sa.Column("threshold", sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("department_warnings", schema=None) as batch_op:
        batch_op.create_index("ix_department_warnings_run_household", ["run_id", "household_id"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("department_warnings", schema=None) as batch_op:
        batch_op.drop_index("ix_department_warnings_run_household")

    op.drop_table("department_warnings")
    with op.batch_alter_table("case_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_steps_case_id"))

    op.drop_table("case_steps")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_township"))
        batch_op.drop_index(batch_op.f("ix_cases_household_id"))

    op.drop_table("cases")
