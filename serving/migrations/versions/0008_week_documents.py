"""The weekly job's explanations and rule triggers as one compressed blob per township, kind and
run (``week_documents``) instead of a JSON row per household and week; ``rule_triggers`` goes, and
so do the indexes of scores by household and by township; the watch list's index keeps only
listed rows, and on SQLite scores become a WITHOUT ROWID table. Registry versions' row and members
are stored as zstd-compressed JSON (``serving.store.compressed.CompressedJSON``).
A drift check's reference sample, the same every week a champion serves, is stored once
(``drift_references``); earlier weeks keep their samples whole and read as before.

Every run's batch explanations (``explanations`` rows not made on demand) and rule-trigger rows
move into their township's blob: lines ``household_id <TAB> JSON`` in a zstd stream, the format
``serving.store.week_documents`` reads. The JSON of each line decodes to the dict the row held,
so every published week answers as before. Explanations made on demand for a page stay rows.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (kind, source table, the rows of that table the weekly job wrote)
MOVED = (("explanation", "explanations", "NOT t.on_demand"), ("rule_triggers", "rule_triggers", "1 = 1"))


def _line(household_id: str, payload: Any) -> bytes:
    import orjson

    value = orjson.loads(payload) if isinstance(payload, (str, bytes)) else payload
    return household_id.encode() + b"\t" + orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS) + b"\n"


def _blobs(conn, run_id: int, table: str, where: str) -> Iterator[tuple[str, int, bytes]]:
    """(township, households, zstd blob) of one run's rows of ``table``, a township at a time."""
    import pyarrow as pa

    townships = conn.execute(sa.text(
        f"SELECT DISTINCT coalesce(s.township, '') FROM {table} t LEFT JOIN scores s "  # noqa: S608 - fixed names
        f"ON s.run_id = t.run_id AND s.household_id = t.household_id WHERE t.run_id = :run AND {where}"),
        {"run": run_id}).scalars().all()
    for township in sorted(townships):
        rows = conn.execute(sa.text(
            f"SELECT t.household_id, t.payload FROM {table} t LEFT JOIN scores s "  # noqa: S608
            f"ON s.run_id = t.run_id AND s.household_id = t.household_id "
            f"WHERE t.run_id = :run AND {where} AND coalesce(s.township, '') = :township ORDER BY t.household_id"),
            {"run": run_id, "township": township})
        lines = [_line(household_id, payload) for household_id, payload in rows]
        yield township, len(lines), pa.Codec("zstd", compression_level=9).compress(b"".join(lines), asbytes=True)


def upgrade() -> None:
    op.create_table(
        "week_documents",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("township", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "township", "kind"),
    )
    conn = op.get_bind()
    documents = sa.table("week_documents", sa.column("run_id"), sa.column("township"), sa.column("kind"),
                         sa.column("households"), sa.column("blob", sa.LargeBinary))
    for kind, table, where in MOVED:
        runs = conn.execute(sa.text(f"SELECT DISTINCT t.run_id FROM {table} t WHERE {where} "  # noqa: S608
                                    "ORDER BY t.run_id")).scalars().all()
        for run_id in runs:
            for township, n, blob in _blobs(conn, int(run_id), table, where):
                conn.execute(sa.insert(documents).values(run_id=int(run_id), township=township, kind=kind,
                                                         households=n, blob=blob))
    conn.execute(sa.text("DELETE FROM explanations WHERE NOT on_demand"))
    op.drop_table("rule_triggers")
    # Every read of scores names the run; a household's weeks are found through ``weeks`` and
    # the primary key, so the index by household alone was ~28 bytes a household a week for nothing.
    op.drop_index("ix_scores_household", table_name="scores")
    # The watch list's index holds only listed households (a few per cent of a week's rows) and
    # serves a township's list too; whole-week reads go through the primary key, cached per run.
    op.drop_index("ix_scores_run_township", table_name="scores")
    op.drop_index("ix_scores_run_watch", table_name="scores")
    op.create_index("ix_scores_run_watch", "scores", ["run_id", "rank"], unique=False,
                    sqlite_where=sa.text("on_watchlist IS 1"), postgresql_where=sa.text("on_watchlist IS true"))
    if op.get_bind().dialect.name == "sqlite":  # rows kept in the primary key's tree
        with op.batch_alter_table("scores", recreate="always", table_kwargs={"sqlite_with_rowid": False}):
            pass
    _recode_versions(op.get_bind(), compressed=True)
    op.create_table(
        "drift_references",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("samples", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    with op.batch_alter_table("drift_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_reference", sa.String(length=64), nullable=True))


def downgrade() -> None:
    import pyarrow as pa

    op.create_table(
        "rule_triggers",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "household_id"),
    )
    _rejoin_drift_samples(op.get_bind())
    with op.batch_alter_table("drift_results", schema=None) as batch_op:
        batch_op.drop_column("report_reference")
    op.drop_table("drift_references")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("scores", recreate="always"):
            pass
    op.create_index("ix_scores_household", "scores", ["household_id"], unique=False)
    _recode_versions(op.get_bind(), compressed=False)
    op.drop_index("ix_scores_run_watch", table_name="scores")
    op.create_index("ix_scores_run_watch", "scores", ["run_id", "on_watchlist", "rank"], unique=False)
    op.create_index("ix_scores_run_township", "scores", ["run_id", "township", "rank"], unique=False)
    conn = op.get_bind()
    tables = {
        "explanation": sa.table("explanations", sa.column("run_id"), sa.column("household_id"),
                                sa.column("payload", sa.JSON), sa.column("on_demand")),
        "rule_triggers": sa.table("rule_triggers", sa.column("run_id"), sa.column("household_id"),
                                  sa.column("payload", sa.JSON)),
    }
    import orjson

    for run_id, kind, blob in conn.execute(sa.text(
            "SELECT run_id, kind, blob FROM week_documents ORDER BY run_id, kind, township")).all():
        with pa.CompressedInputStream(pa.BufferReader(bytes(blob)), "zstd") as stream:
            lines = stream.read().decode().splitlines()
        rows = []
        for line in lines:
            household_id, _, text = line.partition("\t")
            row = {"run_id": run_id, "household_id": household_id, "payload": orjson.loads(text)}
            rows.append({**row, "on_demand": False} if kind == "explanation" else row)
        if rows:
            conn.execute(sa.insert(tables[kind]), rows)
    op.drop_table("week_documents")


def _rejoin_drift_samples(conn) -> None:
    """Back to one samples file per week: each week's current side joined with its reference."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = conn.execute(sa.text(
        "SELECT d.run_id, d.report_samples, r.samples FROM drift_results d "
        "JOIN drift_references r ON r.digest = d.report_reference")).all()
    for run_id, current, reference in rows:
        ref, cur = pq.read_table(io.BytesIO(bytes(reference))), pq.read_table(io.BytesIO(bytes(current)))
        buffer = io.BytesIO()
        pq.write_table(pa.concat_tables([ref, cur]).replace_schema_metadata(cur.schema.metadata), buffer,
                       compression="zstd")
        conn.execute(sa.text("UPDATE drift_results SET report_samples = :samples WHERE run_id = :run"),
                     {"samples": buffer.getvalue(), "run": run_id})


def _recode_versions(conn, *, compressed: bool, chunk: int = 5_000) -> None:
    """Rebuild ``registry_versions`` with its row and members as zstd-compressed JSON (or back to
    JSON): a new table filled a chunk at a time, then put in the old one's place."""
    import orjson
    import pyarrow as pa

    kind = sa.LargeBinary() if compressed else sa.JSON()
    op.create_table(
        "registry_versions_new",
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("since_run_id", sa.Integer(), nullable=False),
        sa.Column("identity", kind, nullable=False),
        sa.Column("members", kind, nullable=False),
        sa.PrimaryKeyConstraint("household_id", "since_run_id"),
    )
    target = sa.table("registry_versions_new", sa.column("household_id"), sa.column("since_run_id"),
                      sa.column("identity", kind), sa.column("members", kind))
    codec = pa.Codec("zstd", compression_level=3)

    def value(stored: Any) -> Any:
        if compressed:  # JSON (text, or parsed by the driver) -> compressed JSON text
            parsed = orjson.loads(stored) if isinstance(stored, (str, bytes)) else stored
            return codec.compress(orjson.dumps(parsed, option=orjson.OPT_NON_STR_KEYS), asbytes=True)
        with pa.CompressedInputStream(pa.BufferReader(bytes(stored)), "zstd") as stream:
            return orjson.loads(stream.read())

    rows = conn.execute(sa.text("SELECT household_id, since_run_id, identity, members FROM registry_versions "
                                "ORDER BY household_id, since_run_id"))
    while batch := rows.fetchmany(chunk):
        conn.execute(sa.insert(target), [{"household_id": h, "since_run_id": r, "identity": value(i),
                                          "members": value(mb)} for h, r, i, mb in batch])
    op.drop_index("ix_registry_versions_since", table_name="registry_versions")
    op.drop_table("registry_versions")
    op.rename_table("registry_versions_new", "registry_versions")
    op.create_index("ix_registry_versions_since", "registry_versions", ["since_run_id"], unique=False)
