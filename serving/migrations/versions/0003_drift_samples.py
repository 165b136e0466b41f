"""Drift: keep the compared samples so the Evidently report is rendered on first view.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("drift_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_samples", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drift_results", schema=None) as batch_op:
        batch_op.drop_column("report_samples")
