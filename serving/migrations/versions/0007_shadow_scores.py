"""Shadow scoring: a registered challenger's comparison with the champion per run, and the
households on either model's capacity list.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shadow_runs",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("model_name", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.String(length=32), nullable=False),
        sa.Column("model_run_id", sa.String(length=64), nullable=True),
        sa.Column("champion_version", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id"),
    )
    with op.batch_alter_table("shadow_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shadow_runs_week"), ["week"], unique=False)
        batch_op.create_index(batch_op.f("ix_shadow_runs_model_version"), ["model_version"], unique=False)
    op.create_table(
        "shadow_scores",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("township", sa.String(length=64), nullable=False),
        sa.Column("champion_probability", sa.Float(), nullable=False),
        sa.Column("challenger_probability", sa.Float(), nullable=False),
        sa.Column("champion_listed", sa.Boolean(), nullable=False),
        sa.Column("challenger_listed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "household_id"),
    )


def downgrade() -> None:
    op.drop_table("shadow_scores")
    with op.batch_alter_table("shadow_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shadow_runs_model_version"))
        batch_op.drop_index(batch_op.f("ix_shadow_runs_week"))
    op.drop_table("shadow_runs")
