"""A store that grows with change: registry versions stored when they change, model inputs as one
compressed Parquet blob per township and run; ``household_snapshots`` (a JSON row per household
and week) goes.

Every published run's snapshots are moved: each household's registry row and members become a
version (shared with the previous published week when identical), its score row names it, and
the run's facts become its township blobs. A facts row that would not read back exactly as stored
stops the migration (nothing is changed then: the migration is one transaction on both
databases' DDL-capable paths).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHUNK = 5_000


def _json(value: Any) -> Any:
    import orjson

    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def _text(value: Any) -> bytes:
    import orjson

    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def _frame(facts: list[dict[str, Any]]):
    """Frame rows with the weekly job's dtypes (``features.frame_schema``) from stored facts."""
    import pandas as pd

    from features import frame_schema as fs

    frame = pd.DataFrame(facts, columns=fs.columns())
    for col in frame.columns:
        kind = fs.kind(col)
        values = frame[col]
        if kind == fs.DATE:
            frame[col] = pd.to_datetime(values).astype("datetime64[us]")
        elif kind == fs.YEAR:
            frame[col] = pd.array(values, dtype="Int64")
        elif kind == fs.FLAG and values.notna().all():
            frame[col] = values.astype(bool)
        elif kind == fs.COUNT and values.notna().all():
            frame[col] = values.astype("int64")
        elif kind in (fs.COUNT, fs.NUMBER):
            frame[col] = pd.to_numeric(values, errors="coerce").astype("float64")
    return frame


def _move_run(conn, run_id: int, previous: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """Move one run's snapshots, a township at a time (a province's run never in memory at once);
    returns household -> (version run, digest) for the next run."""
    townships = conn.execute(sa.text("SELECT DISTINCT township FROM scores WHERE run_id = :run ORDER BY township"),
                             {"run": run_id}).scalars().all()
    shown: dict[str, tuple[int, int]] = {}
    for township in townships:
        shown.update(_move_township(conn, run_id, township, previous))
    return shown


def _move_township(conn, run_id: int, township: str, previous: dict[str, tuple[int, int]]
                   ) -> dict[str, tuple[int, int]]:
    import numpy as np

    from features.json_safe import records
    from serving.store import week_inputs

    rows = conn.execute(sa.text(
        "SELECT h.household_id, h.identity, h.members, h.facts FROM household_snapshots h "
        "JOIN scores s ON s.run_id = h.run_id AND s.household_id = h.household_id "
        "WHERE h.run_id = :run AND s.township = :township ORDER BY h.household_id"),
        {"run": run_id, "township": township}).all()
    if not rows:
        return {}
    shown: dict[str, tuple[int, int]] = {}
    versions, pointers, items = [], [], []
    for household_id, identity, members, facts in rows:
        identity, members, facts = _json(identity), _json(members), _json(facts)
        digest = int.from_bytes(hashlib.blake2b(_text([identity, members]), digest_size=8).digest(), "little",
                                signed=True)
        before = previous.get(household_id)
        since = before[0] if before is not None and before[1] == digest else run_id
        if since == run_id:
            versions.append({"household_id": household_id, "since_run_id": run_id,
                             "identity": identity, "members": members})
        shown[household_id] = (since, digest)
        pointers.append({"since": since, "run": run_id, "household": household_id})
        items.append((facts, since, digest))
    versions_table = sa.table("registry_versions", sa.column("household_id"), sa.column("since_run_id"),
                              sa.column("identity", sa.JSON), sa.column("members", sa.JSON))
    for start in range(0, len(versions), CHUNK):
        conn.execute(versions_table.insert(), versions[start:start + CHUNK])
    update = sa.text("UPDATE scores SET registry_run = :since WHERE run_id = :run AND household_id = :household")
    for start in range(0, len(pointers), CHUNK):
        conn.execute(update, pointers[start:start + CHUNK])
    facts = [f for f, _, _ in items]
    frame = _frame(facts)
    if records(frame) != facts:
        raise RuntimeError(f"run {run_id}, township {township}: stored facts do not read back exactly; "
                           "nothing migrated")
    frame["_registry_run"] = np.array([s for _, s, _ in items], dtype="int64")
    frame["_registry_digest"] = np.array([d for _, _, d in items], dtype="int64")
    inputs = sa.table("week_inputs", sa.column("run_id"), sa.column("township"), sa.column("households"),
                      sa.column("frame", sa.LargeBinary))
    conn.execute(inputs.insert(), [{"run_id": run_id, "township": township, "households": len(items),
                                    "frame": week_inputs.encode(frame)}])
    return shown


def upgrade() -> None:
    op.create_table(
        "registry_versions",
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("since_run_id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.JSON(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("household_id", "since_run_id"),
    )
    op.create_index("ix_registry_versions_since", "registry_versions", ["since_run_id"], unique=False)
    op.create_table(
        "week_inputs",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("township", sa.String(length=64), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("frame", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "township"),
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registry_run", sa.Integer(), nullable=True))
    conn = op.get_bind()
    published = conn.execute(sa.text(
        "SELECT w.published_run_id FROM weeks w WHERE w.published_run_id IS NOT NULL ORDER BY w.week")).scalars().all()
    previous: dict[str, tuple[int, int]] = {}
    for run_id in published:
        previous = _move_run(conn, int(run_id), previous)
    op.drop_table("household_snapshots")


def downgrade() -> None:
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
    _restore_snapshots(op.get_bind())
    op.drop_table("week_inputs")
    op.drop_index("ix_registry_versions_since", table_name="registry_versions")
    op.drop_table("registry_versions")
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_column("registry_run")


def _restore_snapshots(conn) -> None:
    """Back to a JSON row per household and run (every run that has model inputs)."""
    import io

    import pyarrow.parquet as pq

    from features.json_safe import records
    from serving.store.week_inputs import REGISTRY_COLUMNS

    snapshots = sa.table("household_snapshots", sa.column("run_id"), sa.column("household_id"),
                         sa.column("identity", sa.JSON), sa.column("facts", sa.JSON), sa.column("members", sa.JSON))
    blobs = conn.execute(sa.text("SELECT run_id, frame FROM week_inputs ORDER BY run_id, township")).all()
    for run_id, blob in blobs:
        frame = pq.read_table(io.BytesIO(blob)).to_pandas()
        since = dict(zip(frame["household_id"], frame["_registry_run"].tolist(), strict=True))
        rows = []
        for facts in records(frame.drop(columns=list(REGISTRY_COLUMNS))):
            version = conn.execute(sa.text(
                "SELECT identity, members FROM registry_versions WHERE household_id = :h AND since_run_id = :r"),
                {"h": facts["household_id"], "r": since[facts["household_id"]]}).first()
            identity, members = (_json(version[0]), _json(version[1])) if version else ({}, [])
            rows.append({"run_id": run_id, "household_id": facts["household_id"], "identity": identity,
                         "facts": facts, "members": members})
        for start in range(0, len(rows), CHUNK):
            conn.execute(snapshots.insert(), rows[start:start + CHUNK])
