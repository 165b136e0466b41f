"""Results store: weeks, runs, scores, watch list, explanations, rule triggers, snapshots,
quarantine, drift, feedback.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("model_name", sa.String(length=64), nullable=True),
        sa.Column("model_version", sa.String(length=32), nullable=True),
        sa.Column("model_run_id", sa.String(length=64), nullable=True),
        sa.Column("data_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("households_in", sa.Integer(), nullable=True),
        sa.Column("households_scored", sa.Integer(), nullable=True),
        sa.Column("rows_quarantined", sa.Integer(), nullable=True),
        sa.Column("watchlist_size", sa.Integer(), nullable=True),
        sa.Column("drift_alerts", sa.Integer(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.Column("stages", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runs_week"), ["week"], unique=False)
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("township", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("risk_types", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_week"), ["week"], unique=False)

    op.create_table(
        "drift_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("township", sa.String(length=64), nullable=True),
        sa.Column("feature", sa.String(length=64), nullable=True),
        sa.Column("message_zh", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.Column("psi", sa.Float(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("drift_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drift_alerts_run_id"), ["run_id"], unique=False)
    op.create_table(
        "drift_results",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("feature_results", sa.JSON(), nullable=True),
        sa.Column("report_html", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_table(
        "explanations",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("on_demand", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "household_id"),
    )
    op.create_table(
        "household_snapshots",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("identity", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "household_id"),
    )
    op.create_table(
        "quarantine_rows",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file", sa.String(length=255), nullable=False),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("column", sa.String(length=64), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quarantine_rows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quarantine_rows_run_id"), ["run_id"], unique=False)

    op.create_table(
        "rule_triggers",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "household_id"),
    )
    op.create_table(
        "scores",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("township", sa.String(length=64), nullable=False),
        sa.Column("village", sa.String(length=64), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("township_rank", sa.Integer(), nullable=False),
        sa.Column("change", sa.Float(), nullable=True),
        sa.Column("on_watchlist", sa.Boolean(), nullable=False),
        sa.Column("flag_new", sa.Boolean(), nullable=False),
        sa.Column("flag_rising", sa.Boolean(), nullable=False),
        sa.Column("flag_rule", sa.Boolean(), nullable=False),
        sa.Column("under_monitoring", sa.Boolean(), nullable=False),
        sa.Column("criteria_met", sa.String(length=255), nullable=False),
        sa.Column("top_reason_zh", sa.Text(), nullable=True),
        sa.Column("top_reason_en", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "household_id"),
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.create_index("ix_scores_household", ["household_id"], unique=False)
        batch_op.create_index("ix_scores_run_township", ["run_id", "township", "rank"], unique=False)
        batch_op.create_index("ix_scores_run_watch", ["run_id", "on_watchlist", "rank"], unique=False)

    op.create_table(
        "watchlist_entries",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("township", sa.String(length=64), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "household_id"),
    )
    op.create_table(
        "weeks",
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("cutoff", sa.Date(), nullable=False),
        sa.Column("published_run_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["published_run_id"],
            ["runs.id"],
        ),
        sa.PrimaryKeyConstraint("week"),
    )


def downgrade() -> None:
    # Dependants first; dropping a table drops its indexes.
    op.drop_table("weeks")
    op.drop_table("watchlist_entries")
    op.drop_table("scores")
    op.drop_table("rule_triggers")
    op.drop_table("quarantine_rows")
    op.drop_table("household_snapshots")
    op.drop_table("explanations")
    op.drop_table("drift_results")
    op.drop_table("drift_alerts")
    op.drop_table("feedback")
    op.drop_table("runs")
