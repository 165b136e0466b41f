"""The week's work split per run (``week_work``) and the townships' capacities with their history
(``township_capacities``).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "week_work",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("township", sa.String(length=64), nullable=False),
        sa.Column("work", sa.String(length=8), nullable=False),
        sa.Column("why", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "household_id"),
    )
    op.create_table(
        "township_capacities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("township", sa.String(length=64), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("township_capacities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_township_capacities_township"), ["township"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("township_capacities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_township_capacities_township"))
    op.drop_table("township_capacities")
    op.drop_table("week_work")
