"""Households closed because their last member died (销户), as an export shows them.

When the last member of a household dies, the county system closes the household: it leaves the
households table of that week's export, yet the week's events still carry the death that closed
it. Such a death event is a legitimate record, not an orphan: it is kept, counted apart, and
never reported as "household not in the households table". Any other event of a household the
export does not list, or a death of a household the known history never had, is still an orphan.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from features.id_sets import in_id_set

DEATH = "death"
NOTE = ("death events of dissolved households (last member died, 销户), kept: {n} "
        "/ 已销户家庭（最后一位成员去世）的死亡事件，已保留：{n} 条")


def dissolved_events(events: pd.DataFrame, current: pa.ChunkedArray,
                     history: pa.ChunkedArray | None) -> pd.Series:
    """Which event rows record the death that dissolved their household.

    Args:
        events: typed events (``household_id``, ``event_type``).
        current: household IDs in this export's households table.
        history: household IDs the registry knew before this export (None when not given). When
            given, a dissolved household must be one of them: an ID nobody ever listed is an
            orphan whatever its event says.

    Returns:
        A boolean Series on ``events``' index.
    """
    ids = events["household_id"]
    closed = ids.notna() & events["event_type"].eq(DEATH).fillna(False) & ~in_id_set(ids, current)
    if history is not None:
        closed &= in_id_set(ids, history)
    return closed.astype(bool)
