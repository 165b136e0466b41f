"""Shock township-years: where recorded disasters make an outcome window something no model trained
on earlier years could foresee.

A township-year is a shock when, inside the outcome window of a backtest year, some 13 weeks hold
at least ``per_100`` recorded disaster events (``disaster_damage``) per 100 of the township's
households (default 20; the simulated counties' normal years stay below 3, a flood year reaches
50). Shock township-years are reported separately and by name, never silently dropped; the gates
judge the normal ones (training/rolling.py).
"""

from __future__ import annotations

import pandas as pd

DISASTER_EVENTS = ("disaster_damage",)


def township_households(tables: dict[str, pd.DataFrame]) -> pd.Series:
    """Households ever recorded per township (the denominator of the event rate)."""
    h = tables["households"]
    return h.drop_duplicates("household_id").groupby("township")["household_id"].nunique()


def disaster_weeks(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Recorded disaster events per township and week (rows: week start; columns: township)."""
    events = tables["events"]
    hit = events.loc[events["event_type"].isin(DISASTER_EVENTS), ["household_id", "event_date"]]
    town = tables["households"].drop_duplicates("household_id").set_index("household_id")["township"]
    hit = hit.assign(township=hit["household_id"].map(town)).dropna(subset=["township"])
    week = pd.to_datetime(hit["event_date"]).dt.to_period("W").dt.start_time
    return hit.assign(week=week).groupby(["week", "township"]).size().unstack(fill_value=0).sort_index()


def shock_township_years(
    tables: dict[str, pd.DataFrame], windows: dict[str, tuple[pd.Timestamp, pd.Timestamp]], *,
    per_100: float = 20.0, weeks: int = 13,
) -> pd.DataFrame:
    """The township-years with a declared shock.

    Args:
        tables: the county history (households, events).
        windows: year label -> (first, last) day of that backtest year's outcome window.
        per_100: disaster events per 100 households within ``weeks`` that declare a shock.
        weeks: the rolling window, in weeks.

    Returns:
        One row per shock: year, township, peak events per 100 households in ``weeks`` weeks, the
        peak window's last week, events in the whole outcome window.
    """
    columns = ["year", "township", "peak_per_100", "peak_week", "events"]
    counts = disaster_weeks(tables)
    if counts.empty:
        return pd.DataFrame(columns=columns)
    households = township_households(tables)
    full = pd.date_range(counts.index.min(), counts.index.max(), freq="7D")
    counts = counts.reindex(full, fill_value=0)
    rolling = counts.rolling(weeks, min_periods=1).sum()
    rows = []
    for year, (first, last) in windows.items():
        inside = (rolling.index >= pd.Timestamp(first)) & (rolling.index <= pd.Timestamp(last))
        if not inside.any():
            continue
        part = rolling.loc[inside]
        for township in part.columns:
            n = int(households.get(township, 0))
            if not n:
                continue
            rate = part[township] / n * 100
            if rate.max() >= per_100:
                rows.append({"year": year, "township": township, "peak_per_100": round(float(rate.max()), 1),
                             "peak_week": str(rate.idxmax().date()),
                             "events": int(counts.loc[(counts.index >= pd.Timestamp(first))
                                                      & (counts.index <= pd.Timestamp(last)), township].sum())})
    return pd.DataFrame(rows, columns=columns)
