"""The simulation's clock: one step per ISO week (Monday to Sunday), dates as integer days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    """Days since 1970-01-01 (the integer form every date array in the simulator uses)."""
    return (d - EPOCH).days


def from_day(n: int) -> date:
    """Inverse of :func:`day_number`."""
    return EPOCH + timedelta(days=int(n))


@dataclass(frozen=True)
class Week:
    """One simulated week."""

    index: int
    monday: int  # day number
    iso_year: int
    iso_week: int
    year: int  # calendar year of the Sunday: the income year the week's money counts in
    school_start: bool  # the week holding 1 September
    year_start: bool  # first simulated week of a new calendar year

    @property
    def sunday(self) -> int:
        return self.monday + 6

    @property
    def label(self) -> str:
        return f"{self.iso_year}-W{self.iso_week:02d}"


def weeks_between(start: date, end: date) -> list[Week]:
    """Every ISO week from the one holding ``start`` to the last one ending on or before ``end``."""
    monday = start - timedelta(days=start.weekday())
    weeks: list[Week] = []
    previous_year = None
    while monday + timedelta(days=6) <= end:
        sunday = monday + timedelta(days=6)
        iso = (monday + timedelta(days=3)).isocalendar()
        sept1 = date(sunday.year, 9, 1)
        weeks.append(
            Week(
                index=len(weeks),
                monday=day_number(monday),
                iso_year=iso[0],
                iso_week=iso[1],
                year=sunday.year,
                school_start=monday <= sept1 <= sunday,
                year_start=previous_year is not None and sunday.year != previous_year,
            )
        )
        previous_year = sunday.year
        monday += timedelta(days=7)
    return weeks


def to_datetime64(days: np.ndarray) -> np.ndarray:
    """Integer day numbers (negative = missing) -> datetime64[ns] with NaT for missing."""
    out = np.asarray(days, dtype="int64").astype("datetime64[D]").astype("datetime64[ns]")
    out[np.asarray(days) < -100000] = np.datetime64("NaT")
    return out


MISSING_DAY = -(10**9)
