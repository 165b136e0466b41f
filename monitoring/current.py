"""This week's registry: the county history with the week's export laid over it.

The export is what the county system says *now* (current rows, latest surveys, the week's events);
the history supplies the past the features need (52-week event windows, last year's survey, the
household's row a year ago). Where the two disagree, the export wins: a data-entry change in this
week's export must reach the frame, or the monitor could never see it.
"""

from __future__ import annotations

import pandas as pd

from features.household_frame import valid_at
from features.weeks import week_cutoff  # noqa: F401 - re-exported for callers

_SLOWLY_CHANGING = {"households": "household_id", "members": "member_id"}
_DATED_KEYS = {
    "income_surveys": (["household_id", "survey_year"], "survey_date"),
    "events": (["event_id"], "event_date"),
    "outcomes": (["household_id", "entry_date"], "entry_date"),
}


def overlay_export(
    history: dict[str, pd.DataFrame], export: dict[str, pd.DataFrame], cutoff: pd.Timestamp
) -> dict[str, pd.DataFrame]:
    """Contract tables as of ``cutoff``: history up to the cutoff, the export's rows winning.

    Why not ``serving.weekly.history.append_export`` (the weekly job's way): that one grows a
    persisted history forward only and ignores a week it already covers; the monitor needs a
    read-only view at any cutoff, also when the history runs past it (``fanpin drift`` on a county
    folder), in which a data-entry change of this week's export always reaches the frame.

    Args:
        history: contract tables of the county history.
        export: contract tables of this week's export (possibly empty tables).
        cutoff: the Sunday of the export's week.

    Returns:
        Contract tables ready for ``build_household_frame(tables, cutoff, policy)``.
    """
    cutoff = pd.Timestamp(cutoff)
    out: dict[str, pd.DataFrame] = {}
    for name, key in _SLOWLY_CHANGING.items():
        past = history[name].loc[history[name]["valid_from"] <= cutoff]
        new = export.get(name)
        if new is None or new.empty:
            out[name] = past
            continue
        # The versions the history holds as current at the cutoff are replaced by the export's.
        current = valid_at(past, cutoff)
        replaced = current.index[current[key].isin(new[key])]
        kept = past.drop(index=replaced)
        # Every row of an export is current at the export; a valid_from after the week's Sunday
        # is an entry slip, and must not hide the row from the frame.
        new = _recorded_by_export(new.assign(valid_from=new["valid_from"].where(new["valid_from"] <= cutoff, cutoff),
                                             valid_to=pd.NaT), cutoff)
        out[name] = pd.concat([kept, new], ignore_index=True)
    for name, (keys, date_col) in _DATED_KEYS.items():
        past = history[name].loc[history[name][date_col] <= cutoff]
        new = export.get(name)
        if new is None or new.empty:
            out[name] = past.reset_index(drop=True)
            continue
        new = _recorded_by_export(new.loc[new[date_col] <= cutoff], cutoff)
        both = pd.concat([past, new], ignore_index=True)
        out[name] = both.drop_duplicates(keys, keep="last").reset_index(drop=True)
    return out


def _recorded_by_export(rows: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """An export holds what the registry had by its Sunday: a later 入库时间 is a slip and must
    not hide the row from the point-in-time frame."""
    if "recorded_at" not in rows.columns:
        return rows
    return rows.assign(recorded_at=rows["recorded_at"].where(rows["recorded_at"].isna() | (rows["recorded_at"] <= cutoff), cutoff))
