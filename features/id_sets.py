"""Membership tests on ID columns (is this household known?), fast at a million rows.

pandas' ``isin`` on Arrow-backed text columns walks the lookup set in Python; Arrow's ``is_in``
hashes it in C++ and is two orders of magnitude faster for sets of household IDs.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def text_array(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A text column as an Arrow string array (for Arrow's vectorised kernels)."""
    return pa.array(values, type=pa.string(), from_pandas=True)


def id_set(*columns: pd.Series | None) -> pa.ChunkedArray:
    """The non-missing IDs of several columns as one Arrow string array (a lookup set)."""
    chunks = []
    for column in columns:
        if column is not None and len(column):
            arrow = text_array(column)
            chunks += getattr(arrow, "chunks", [arrow])  # Arrays and ChunkedArrays alike
    # No unique(): Arrow's is_in builds its own hash set, duplicates cost nothing there.
    return pc.drop_null(pa.chunked_array(chunks, type=pa.string()))


def in_id_set(values: pd.Series, ids: pa.ChunkedArray) -> pd.Series:
    """``values.isin(ids)`` as a boolean Series on ``values``' index (missing -> False)."""
    hit = pc.is_in(text_array(values), value_set=ids)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=values.index).fillna(False)
