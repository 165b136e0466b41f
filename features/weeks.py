"""ISO weeks, the unit officers work in: labels like ``2025-W48`` and the dates they stand for.

A week's cutoff is its Sunday: a weekly run sees everything dated up to the end of that day.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")
# A valid week label (week 01-53), for request validation: the API's pattern and the pages' check.
WEEK_LABEL = r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$"


def parse_week(week: str) -> tuple[int, int]:
    """``"2025-W48"`` -> ``(2025, 48)``; a ValueError with one clear line otherwise."""
    match = WEEK_PATTERN.match(str(week))
    if match:
        year, number = int(match[1]), int(match[2])
        try:
            dt.date.fromisocalendar(year, number, 1)
            return year, number
        except ValueError:
            pass
    raise ValueError(f"bad week {week!r}: expected YYYY-Www, e.g. 2025-W48 / 周格式应为 2025-W48")


def week_monday(week: str) -> dt.date:
    """The Monday that starts the ISO week."""
    return dt.date.fromisocalendar(*parse_week(week), 1)


def week_cutoff(week: str) -> pd.Timestamp:
    """The Sunday that ends the ISO week: the point-in-time cutoff of that week's run."""
    return pd.Timestamp(dt.date.fromisocalendar(*parse_week(week), 7))


def week_label(day: dt.date) -> str:
    """The ISO week a date falls in, as ``YYYY-Www``."""
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"
