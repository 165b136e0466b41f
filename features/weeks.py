"""ISO weeks, the unit officers work in: labels like ``2025-W48`` and the dates they stand for.

A week's cutoff is its Sunday: a weekly run sees everything dated up to the end of that day.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import pandas as pd

# ASCII digits only: Python's \d also matches full-width and other Unicode digits, which once let
# "２０２５-W48" be published as a second week with the same cutoff as "2025-W48".
WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$", re.ASCII)
_LOOSE_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.ASCII)
_BAD_WEEK = "expected YYYY-Www, e.g. 2025-W48 / 周格式应为 2025-W48"
# A valid week label (week 01-53), for request validation: the API's pattern and the pages' check
# ([0-9], not \d: a Unicode \d would let full-width digits through).
WEEK_LABEL = r"^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$"


def normalise_week(week: object) -> str:
    """The one spelling of a week label, before anything else looks at it.

    Full-width characters are folded (NFKC), spaces of any kind dropped, ``w`` upper-cased, the
    hyphen and a leading zero added: ``" ２０２５－ｗ４８ "``, ``"2025W48"`` and ``"2025-w48"`` all
    become ``"2025-W48"``. Anything else is a ValueError with one clear line.
    """
    text = unicodedata.normalize("NFKC", str(week))
    text = "".join(ch for ch in text if not ch.isspace()).upper().replace("\u2212", "-")
    match = _LOOSE_WEEK.match(text)
    if match is None:
        raise ValueError(f"bad week {week!r}: {_BAD_WEEK}")
    label = f"{match[1]}-W{int(match[2]):02d}"
    parse_week(label)
    return label


def parse_week(week: str) -> tuple[int, int]:
    """``"2025-W48"`` -> ``(2025, 48)``; a ValueError with one clear line otherwise (only the
    canonical spelling: pass user input through ``normalise_week`` first)."""
    match = WEEK_PATTERN.match(str(week))
    if match:
        year, number = int(match[1]), int(match[2])
        try:
            dt.date.fromisocalendar(year, number, 1)
            return year, number
        except ValueError:
            pass
    raise ValueError(f"bad week {week!r}: {_BAD_WEEK}")


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


class Week(str):
    """A week, parsed once: its canonical label, its Monday, its Sunday cutoff and its export folder.

    Made at the edge (a CLI command, an API route, a page, a job's entry) by :meth:`parse` from
    whatever a person typed; everything below takes a Week and never normalises a string again.
    A Week *is* its canonical label (a ``str`` subclass), so the store, JSON documents, file names
    and templates take it exactly as they took the label, and comparing with ``"2025-W48"`` holds.
    """

    __slots__ = ()

    def __new__(cls, value: object) -> Week:
        if isinstance(value, Week):
            return value
        return super().__new__(cls, normalise_week(value))

    @classmethod
    def parse(cls, value: object) -> Week:
        """The week a person meant (``" ２０２５－ｗ４８ "`` -> ``2025-W48``); a ValueError with one
        clear line otherwise."""
        return cls(value)

    @classmethod
    def of(cls, day: dt.date) -> Week:
        """The ISO week a date falls in."""
        return cls(week_label(day))

    @property
    def label(self) -> str:
        """The label as a plain ``str`` (``2025-W48``)."""
        return str.__str__(self)

    @property
    def monday(self) -> dt.date:
        return week_monday(self)

    @property
    def cutoff(self) -> pd.Timestamp:
        """The Sunday that ends the week: the point-in-time cutoff of its run."""
        return week_cutoff(self)

    def export_folder(self, data_dir: Path) -> Path:
        """The week's export under a county folder: ``DIR/exports/<week>``, ``DIR/<week>``, or
        ``DIR`` itself when it holds the tables; FileNotFoundError with one line otherwise."""
        data_dir = Path(data_dir)
        for candidate in (data_dir / "exports" / self, data_dir / self):
            if candidate.is_dir():
                return candidate
        if data_dir.name == self or any(data_dir.glob("households.*")) or any(data_dir.glob("农户信息.*")):
            return data_dir
        raise FileNotFoundError(f"no export for {self} under {data_dir} (expected {data_dir}/exports/{self}/) / 未找到该周导出")
