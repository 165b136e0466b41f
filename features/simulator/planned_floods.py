"""Scenario floods written into the history: a named township flooded in a chosen week.

The county's own floods fall where its random stream puts them (seed 1: 西岗镇 2020 and 金塘镇
2025, the first with no training window before it, the second with its label not matured), so
shock backtests need floods placed where they can be judged. A planned flood forces every village
of the township to flood in the week holding its start day (and the ``weeks - 1`` weeks after);
who is hit, the losses, crops and houses follow the existing flood model
(``dynamics.disasters``: 25–80% of a village's households, the same losses). Off by default: a
county without planned floods draws exactly the same random numbers as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from features.simulator.calendar import day_number


@dataclass(frozen=True)
class PlannedFlood:
    """A township flooded from ``start`` (the ISO week holding it) for ``weeks`` weeks."""

    township: str
    start: date
    weeks: int = 1

    def as_dict(self) -> dict:
        return {"township": self.township, "start": str(self.start), "weeks": self.weeks}


def parse_flood(text: str) -> PlannedFlood:
    """``TOWNSHIP:YYYY-MM-DD`` or ``TOWNSHIP:YYYY-MM-DD:WEEKS`` (the ``--flood`` option)."""
    parts = str(text).split(":")
    if len(parts) not in (2, 3) or not parts[0].strip():
        raise ValueError(f"--flood {text!r}: expected TOWNSHIP:YYYY-MM-DD[:WEEKS]")
    try:
        start = date.fromisoformat(parts[1].strip())
        weeks = int(parts[2]) if len(parts) == 3 else 1
    except ValueError as error:
        raise ValueError(f"--flood {text!r}: {error}") from None
    if weeks < 1:
        raise ValueError(f"--flood {text!r}: weeks must be at least 1")
    return PlannedFlood(parts[0].strip(), start, weeks)


def check_floods(floods: tuple[PlannedFlood, ...], township_names: list[str]) -> None:
    """Raise naming the flood whose township the county does not have."""
    for f in floods:
        if f.township not in township_names:
            raise ValueError(f"planned flood {f.township} {f.start}: no such township "
                             f"(the county has {', '.join(township_names)})")


def flooded_villages(village_township: np.ndarray, township_names: list[str], monday: int,
                     floods: tuple[PlannedFlood, ...]) -> np.ndarray | None:
    """Villages a planned flood hits in the week starting on day ``monday`` (None: none this week,
    so the caller's random draws stay exactly those of a county without planned floods)."""
    if not floods:
        return None
    out = np.zeros(len(village_township), bool)
    for f in floods:
        first_monday = day_number(f.start) - f.start.weekday()  # the ISO week holding the start day
        if first_monday <= monday < first_monday + 7 * f.weeks:
            # replicated futures (the oracle) number their townships r * n + t
            out |= village_township % len(township_names) == township_names.index(f.township)
    return out if out.any() else None
