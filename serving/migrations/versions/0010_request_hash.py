"""Request keys bind their request: a case step keeps a hash of the action and body its key first
came with, so a replay with another body is refused (issue 30).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_steps", schema=None) as batch_op:
        batch_op.drop_column("request_hash")
