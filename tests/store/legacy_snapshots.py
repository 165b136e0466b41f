"""The store's layout before the compact week store (revision 0005): one JSON snapshot row per
household and week, shaped by the weekly job as it did then. Kept for the tests that build a
store in the old layout and compare what the new layout (and the migration from the old one)
shows against it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from features.json_safe import records


def snapshots(tables: dict[str, pd.DataFrame], frame: pd.DataFrame, cutoff: pd.Timestamp,
              chunk: int = 20_000) -> Iterator[dict[str, Any]]:
    """Per scored household: its registry row, model-input facts and members at the cutoff.

    Yielded a chunk of households at a time, so a province-sized week never holds every
    household's JSON-ready dict in memory at once (the store stages them in batches anyway).
    """
    from serving.store.registry import at_cutoff
    from serving.weekly.explaining import facts_of

    # The selection of each household's current row and members moved unchanged to
    # serving.store.registry.at_cutoff; the shaping below is the old code's.
    current = at_cutoff(tables, frame["household_id"], cutoff)
    hh, members = current.households, current.members
    member_ids = members["household_id"].to_numpy(dtype=object)
    ordered = bool(frame["household_id"].is_monotonic_increasing)
    for start in range(0, len(frame), chunk):
        part = frame.iloc[start:start + chunk]
        part_ids = part["household_id"].to_numpy(dtype=object)
        if ordered:
            # The frame is sorted by household (build_household_frame) and so are the members:
            # a chunk's members are one contiguous slice, found by binary search.
            lo = np.searchsorted(member_ids, part_ids[0], side="left")
            hi = np.searchsorted(member_ids, part_ids[-1], side="right")
            chunk_members = members.iloc[lo:hi]
        else:
            chunk_members = members.loc[members["household_id"].isin(part_ids)]
        by_household: dict[str, list[dict[str, Any]]] = {}
        for rec in records(chunk_members):
            by_household.setdefault(rec["household_id"], []).append(rec)
        present = hh.index.intersection(part_ids)
        identity = {r["household_id"]: r for r in records(hh.loc[present])}
        for f in facts_of(part):
            yield {"household_id": f["household_id"], "identity": identity.get(f["household_id"], {}),
                   "facts": f, "members": by_household.get(f["household_id"], [])}

