"""A week's model inputs in compact columnar form: one zstd-compressed Parquet blob per township
and run, instead of a JSON "facts" row per household and week.

The blob holds the household frame's columns (``features.frame_schema.columns()``, with their
dtypes, so a row read back is the row the model scored) and, per household, the registry version
the week showed and its digest (``serving.store.registry``: next week compares against them).
A household's facts are rebuilt with the same JSON conversion the weekly job used to store
(``features.json_safe.records``), so pages, API answers, exports, visit sheets and on-demand
explanations see exactly what they saw before.

Blobs of a published run never change, so readers cache them in process (bytes, bounded).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from features import frame_schema
from features.json_safe import records
from serving.store import models as m
from serving.store.run_cache import per_run

REGISTRY_COLUMNS = ("_registry_run", "_registry_digest")
ROW_GROUP = 512  # rows turned into page-ready dicts at a time (``_group_facts``)


def encode(part: pd.DataFrame) -> bytes:
    """Parquet (zstd) of frame rows with their registry columns, one row group: readers decode a
    township whole anyway, and one group compresses a quarter smaller than groups of 512 rows.
    Dictionary encoding only for columns that are not floats: incomes and shares rarely repeat,
    and their dictionaries cost a tenth of the blob."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(part, preserve_index=False)
    repeated = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", compression_level=9, row_group_size=max(1, len(part)),
                   use_dictionary=repeated)
    return buffer.getvalue()


def input_rows(frame: pd.DataFrame, registry_run: np.ndarray, digest: np.ndarray) -> Iterator[dict[str, Any]]:
    """``WeekInput`` rows of a scored week, one township at a time (frame order kept: by household)."""
    columns = frame_schema.columns()
    for township, positions in sorted(frame.groupby("township", sort=False).indices.items()):
        part = frame.iloc[positions][columns].reset_index(drop=True)
        part["_registry_run"] = registry_run[positions]
        part["_registry_digest"] = digest.view("int64")[positions]
        yield {"township": str(township), "households": len(part), "frame": encode(part)}


def registry_of_run(engine: Engine, run_id: int) -> pd.DataFrame:
    """household_id, registry_run, registry_digest of every household of a run (for the next week)."""
    import pyarrow.parquet as pq

    parts = []
    with engine.connect() as conn:
        for (blob,) in conn.execute(select(m.WeekInput.frame).where(m.WeekInput.run_id == run_id)):
            table = pq.read_table(io.BytesIO(blob), columns=["household_id", *REGISTRY_COLUMNS])
            parts.append(table.to_pandas())
    if not parts:
        return pd.DataFrame({"household_id": [], "registry_run": [], "registry_digest": []})
    out = pd.concat(parts, ignore_index=True)
    return out.rename(columns={"_registry_run": "registry_run", "_registry_digest": "registry_digest"})


def rows_of_run(engine: Engine, run_id: int, household_ids: list[str]) -> pd.DataFrame:
    """The stored frame rows (frame dtypes) of some households of a run, whatever their township."""
    import pyarrow.parquet as pq

    wanted = list(household_ids)
    parts = []
    with engine.connect() as conn:
        for (blob,) in conn.execute(select(m.WeekInput.frame).where(m.WeekInput.run_id == run_id)):
            table = pq.read_table(io.BytesIO(blob), filters=[("household_id", "in", wanted)])
            if table.num_rows:
                parts.append(table.to_pandas().drop(columns=list(REGISTRY_COLUMNS)))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=frame_schema.columns())


# Bounded by the decoded tables' bytes (~0.7 KB a household): 512 MB per process.
@per_run(512 * 2**20, getsizeof=lambda entry: entry[0].nbytes + 100 * len(entry[1]))
def _township(session: Session, run_id: int, township: str) -> tuple[Any, dict[str, int]]:
    """A run's township blob decoded once (Arrow table) and its row per household."""
    import pyarrow.parquet as pq

    blob = session.execute(select(m.WeekInput.frame).where(
        m.WeekInput.run_id == run_id, m.WeekInput.township == township)).scalar()
    if blob is None:
        return None, {}
    table = pq.read_table(io.BytesIO(bytes(blob))).drop_columns(list(REGISTRY_COLUMNS))
    return table, {h: i for i, h in enumerate(table.column("household_id").to_pylist())}


def frame_rows(session: Session, run_id: int, township: str, household_ids: list[str]) -> pd.DataFrame:
    """The stored frame rows (model input, frame dtypes) of some households of one township."""
    table, rows = _township(session, run_id, township)
    found = [rows[h] for h in household_ids if h in rows]
    if table is None or not found:
        return pd.DataFrame(columns=frame_schema.columns())
    return table.take(found).to_pandas()


# A household page needs one row: rows are turned into JSON-ready dicts a row group at a time and
# kept (a pandas round trip per request cost ~15 ms; a cached row is a dict lookup). Bounded by
# rows held (~5 KB each): 60,000 rows, ~300 MB per process.
@per_run(60_000, getsizeof=len)
def _group_facts(session: Session, run_id: int, township: str, group: int) -> tuple[dict[str, Any], ...]:
    table, _ = _township(session, run_id, township)
    return tuple(records(table.slice(group * ROW_GROUP, ROW_GROUP).to_pandas()))


def facts(session: Session, run_id: int, township: str, household_id: str) -> dict[str, Any] | None:
    """One household's facts as the weekly job used to store them (JSON-safe dict), or None."""
    _, rows = _township(session, run_id, township)
    position = rows.get(household_id)
    if position is None:
        return None
    return dict(_group_facts(session, run_id, township, position // ROW_GROUP)[position % ROW_GROUP])
