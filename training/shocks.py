"""Shock township-years: where recorded disasters make an outcome window something no model trained
on earlier years could foresee.

A township-year is a shock when, inside the outcome window of a backtest year, some 13 weeks hold
at least ``per_100`` disaster events (``disaster_damage``) per 100 of the township's households,
counted in the week each event happened (default 20; the simulated counties' normal years stay
below 3, a flood year reaches 50). The counting is the project's one shock definition
(``features.shocks.weekly_disasters`` with ``TRAINING_RULE``; the weekly job's detector is the same
function with its own rule). Shock township-years are reported separately and by name, never
silently dropped; the gates judge the normal ones (training/rolling.py).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from features.shocks import TRAINING_RULE, over_rule, weekly_disasters


def shock_township_years(
    tables: dict[str, pd.DataFrame], windows: dict[str, tuple[pd.Timestamp, pd.Timestamp]], *,
    per_100: float = TRAINING_RULE.per_100, weeks: int = TRAINING_RULE.weeks,
) -> pd.DataFrame:
    """The township-years with a declared shock.

    Args:
        tables: the county history (households, events).
        windows: year label -> (first, last) day of that backtest year's outcome window.
        per_100: disaster events per 100 households within ``weeks`` that declare a shock.
        weeks: the rolling window, in weeks.

    Returns:
        One row per shock: year, township, peak events per 100 households in ``weeks`` weeks, the
        peak window's last week (its Monday), events in the whole outcome window.
    """
    columns = ["year", "township", "peak_per_100", "peak_week", "events"]
    rule = replace(TRAINING_RULE, per_100=per_100, weeks=weeks)
    counts, rate = weekly_disasters(tables, rule)
    if rate.empty:
        return pd.DataFrame(columns=columns)
    over = over_rule(tables, rate, rule)
    rows = []
    for year, (first, last) in windows.items():
        inside = (rate.index >= pd.Timestamp(first)) & (rate.index <= pd.Timestamp(last))
        if not inside.any():
            continue
        for township in rate.columns:
            if over.loc[inside, township].any():
                part = rate.loc[inside, township]
                rows.append({"year": year, "township": township, "peak_per_100": round(float(part.max()), 1),
                             "peak_week": str(part.idxmax().date()),
                             "events": int(counts.loc[inside, township].sum())})
    return pd.DataFrame(rows, columns=columns)
